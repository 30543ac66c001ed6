import { Counter, Gauge, type Registry } from "prom-client";
import type { StrategySettings } from "../artifact.ts";
import { positionFor } from "../train/backtest.ts";
import { SPEC_DEFAULTS } from "../train/spec.ts";

/**
 * The strategy's realized P&L, scored from /v1/feedback: each matched prediction is one trade of
 * the artifact's strategy (train/backtest.ts), entered when predicted and left when the outcome is
 * reported, so it pays the cost twice:
 *   return = position * realized - 2 * costBps / 10000 * |position|.
 * The series are sums (of returns, squares, products) and counts, so that a window's Sharpe ratio
 * and the correlation of predictions with realized returns are PromQL expressions (docs/trading.md).
 * A sum of values of either sign is kept as two counters by `sign`, because a Prometheus counter
 * must not decrease: increase() then stays right across a restart.
 */

const SIGNED = ["sign"] as const;

/** Adds a value of either sign to its `sign="positive"` or `sign="negative"` counter, by magnitude. */
function addSigned(counter: Counter<"sign">, value: number): void {
  if (value > 0) counter.inc({ sign: "positive" }, value);
  else if (value < 0) counter.inc({ sign: "negative" }, -value);
}

export class StrategyPnl {
  #settings: StrategySettings = SPEC_DEFAULTS.strategy;
  #cumulative = 0;
  #peak = 0;
  readonly #outcomes: Counter;
  readonly #returns: Counter<"sign">;
  readonly #returnSquares: Counter;
  readonly #positions: Counter;
  readonly #hits: Counter;
  readonly #cumulativeGauge: Gauge;
  readonly #drawdown: Gauge;
  readonly #predictionSum: Counter<"sign">;
  readonly #predictionSquares: Counter;
  readonly #realizedSum: Counter<"sign">;
  readonly #realizedSquares: Counter;
  readonly #products: Counter<"sign">;

  constructor(registry: Registry) {
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    const signed = (name: string, help: string) => new Counter({ name, help, labelNames: SIGNED, registers });
    this.#outcomes = counter(
      "predictor_strategy_outcomes_total",
      "Feedback outcomes scored as strategy trades",
    );
    this.#returns = signed(
      "predictor_strategy_return_total",
      "Sum of the strategy's returns after costs, by sign (positive: gains; negative: losses, as magnitudes)",
    );
    this.#returnSquares = counter(
      "predictor_strategy_return_squared_total",
      "Sum of the squared strategy returns after costs",
    );
    this.#positions = counter(
      "predictor_strategy_positions_total",
      "Scored outcomes where the strategy held a position (prediction outside the band)",
    );
    this.#hits = counter(
      "predictor_strategy_hits_total",
      "Scored outcomes where the strategy held a position and gained before costs",
    );
    this.#cumulativeGauge = new Gauge({
      name: "predictor_strategy_cumulative_return",
      help: "Sum of the strategy's returns after costs since this process started",
      registers,
    });
    this.#drawdown = new Gauge({
      name: "predictor_strategy_drawdown",
      help: "How far the cumulative return after costs is below its running peak since this process started",
      registers,
    });
    this.#predictionSum = signed(
      "predictor_pnl_prediction_total",
      "Sum of scored predictions, by sign (magnitudes)",
    );
    this.#predictionSquares = counter(
      "predictor_pnl_prediction_squared_total",
      "Sum of squared scored predictions",
    );
    this.#realizedSum = signed(
      "predictor_pnl_realized_total",
      "Sum of realized returns, by sign (magnitudes)",
    );
    this.#realizedSquares = counter(
      "predictor_pnl_realized_squared_total",
      "Sum of squared realized returns",
    );
    this.#products = signed(
      "predictor_pnl_cross_total",
      "Sum of prediction * realized return, by sign (magnitudes)",
    );
    for (const c of [this.#returns, this.#predictionSum, this.#realizedSum, this.#products]) {
      for (const sign of ["positive", "negative"]) c.inc({ sign }, 0);
    }
    this.#cumulativeGauge.set(0);
    this.#drawdown.set(0);
  }

  /** The strategy of the loaded artifact; an artifact that records none is scored with the defaults. */
  use(settings: StrategySettings | undefined): void {
    this.#settings = settings ?? SPEC_DEFAULTS.strategy;
  }

  get settings(): StrategySettings {
    return this.#settings;
  }

  /** Scores one matched prediction against its realized return. */
  record(prediction: number, realized: number): void {
    const position = positionFor(prediction, this.#settings);
    const gross = position * realized;
    const net = gross - (2 * this.#settings.costBps * Math.abs(position)) / 10_000;
    this.#outcomes.inc();
    addSigned(this.#returns, net);
    this.#returnSquares.inc(net * net);
    if (position !== 0) {
      this.#positions.inc();
      if (gross > 0) this.#hits.inc();
    }
    this.#cumulative += net;
    this.#peak = Math.max(this.#peak, this.#cumulative);
    this.#cumulativeGauge.set(this.#cumulative);
    this.#drawdown.set(this.#peak - this.#cumulative);
    addSigned(this.#predictionSum, prediction);
    this.#predictionSquares.inc(prediction * prediction);
    addSigned(this.#realizedSum, realized);
    this.#realizedSquares.inc(realized * realized);
    addSigned(this.#products, prediction * realized);
  }
}
