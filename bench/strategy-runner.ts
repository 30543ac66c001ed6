/**
 * The project's backtest over n bars and its Newey-West comparison of two m-bar return series,
 * each timed alone after a warm-up. The counterpart of bench/baselines/numpy_strategy.py, with the
 * same arguments and the same JSON out.
 *
 * Usage: node bench/strategy-runner.ts DATA N M REPEATS BAND POSITION_LIMIT COST_BPS
 */
import { backtest } from "../predictor/src/train/backtest.ts";
import { compareMeans } from "../predictor/src/train/compare.ts";
import { positiveIntegerArg } from "./args.ts";
import { readStrategyData } from "./strategy-data.ts";

const argv = process.argv;
const n = positiveIntegerArg(argv, 3, "n");
const m = positiveIntegerArg(argv, 4, "m");
const repeats = positiveIntegerArg(argv, 5, "repeats");
const settings = { band: Number(argv[6]), positionLimit: Number(argv[7]), costBps: Number(argv[8]) };
const data = await readStrategyData(argv[2] ?? "", n, m);
const input = { ...data, rows: { start: 0, end: n } };

function timed<T>(run: () => T): { seconds: number[]; result: T } {
  let result = run(); // warm-up: lets the JIT compile the loops, as the baseline warms up too
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    result = run();
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds, result };
}

const run = timed(() => backtest(input, settings).metrics);
const comparison = timed(() => compareMeans(data.a, data.b));
process.stdout.write(
  `${JSON.stringify({ backtestSeconds: run.seconds, compareSeconds: comparison.seconds, metrics: run.result, comparison: comparison.result })}\n`,
);
