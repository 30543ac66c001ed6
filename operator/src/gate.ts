import type { HoldoutMetrics, ModelVersionStatus, TradingModelSpec } from "./api/types.ts";

/**
 * The offline gate: a candidate version against the spec's thresholds and against the stable
 * version (champion), on the holdout. The verdict carries every check with its numbers, so the
 * ModelVersion, the Event and `kubectl get mv -o wide` all say why.
 */

export type GateSpec = TradingModelSpec["training"]["gate"];

/** The trainer's bar-by-bar comparison of candidate and champion strategy returns. */
export type StrategyComparison = NonNullable<ModelVersionStatus["championComparison"]>["strategyComparison"];

export interface Champion {
  version: number;
  metrics: HoldoutMetrics;
  /**
   * True when the trainer evaluated the champion on the candidate's own holdout rows (like for
   * like); false when only the champion's metrics from its own training are known.
   */
  sameHoldout: boolean;
  /** Candidate minus champion in mean strategy return, when the trainer compared them bar by bar. */
  strategyComparison?: StrategyComparison;
}

export interface GateCheck {
  metric: string;
  value: number;
  bound: number;
  basis: string;
  /** "min": value must be >= bound; "max": value must be <= bound. */
  kind: "min" | "max";
  passed: boolean;
}

export interface GateVerdict {
  passed: boolean;
  checks: GateCheck[];
  message: string;
}

const NAMES = {
  r2: "R²",
  directionalAccuracy: "directional accuracy",
  informationCoefficient: "information coefficient",
  sharpe: "Sharpe after costs",
  maxDrawdown: "max drawdown",
} as const;

const fmt = (x: number) => x.toFixed(4);

const RELATION = { min: [">=", "<"], max: ["<=", ">"] } as const;

const describeCheck = (c: GateCheck) =>
  `${NAMES[c.metric as keyof typeof NAMES] ?? c.metric} ${fmt(c.value)} ${RELATION[c.kind][c.passed ? 0 : 1]} ${fmt(c.bound)} (${c.basis})`;

function check(
  metric: keyof typeof NAMES,
  value: number,
  bound: number,
  basis: string,
  kind: GateCheck["kind"] = "min",
): GateCheck {
  return { metric, value, bound, basis, kind, passed: kind === "min" ? value >= bound : value <= bound };
}

/** The strategy's thresholds: Sharpe after costs, drawdown, and Sharpe against the champion. */
function strategyChecks(
  gate: GateSpec,
  candidate: HoldoutMetrics,
  champion: Champion | undefined,
): GateCheck[] {
  const strategy = candidate.strategy;
  if (!strategy) return [];
  const checks = [check("sharpe", strategy.sharpe, gate.minSharpe, "minSharpe")];
  if (gate.maxDrawdown !== undefined) {
    checks.push(check("maxDrawdown", strategy.maxDrawdown, gate.maxDrawdown, "maxDrawdown", "max"));
  }
  const championSharpe = champion?.metrics.strategy?.sharpe;
  if (
    gate.compareWithChampion &&
    champion &&
    gate.championSharpeTolerance !== undefined &&
    championSharpe !== undefined
  ) {
    const basis = `champion v${champion.version} on ${holdoutOf(champion)} - tolerance ${gate.championSharpeTolerance}`;
    checks.push(check("sharpe", strategy.sharpe, championSharpe - gate.championSharpeTolerance, basis));
  }
  return checks;
}

const holdoutOf = (champion: Champion) => (champion.sameHoldout ? "same holdout" : "its own holdout");

/** The autocorrelation-robust comparison of mean strategy returns, reported beside the checks. */
function describeComparison(champion: Champion | undefined): string {
  const c = champion?.strategyComparison;
  if (!champion || !c) return "";
  const sign = c.meanDifference >= 0 ? "+" : "";
  return `; strategy return vs champion v${champion.version}: ${sign}${c.meanDifference.toExponential(2)}/bar, p ${c.pValue.toFixed(4)}, effective samples ${Math.round(c.effectiveSamples)} of ${c.samples} (Newey-West)`;
}

export function evaluateGate(gate: GateSpec, candidate: HoldoutMetrics, champion?: Champion): GateVerdict {
  const checks: GateCheck[] = [
    check("r2", candidate.r2, gate.minR2, "minR2"),
    check(
      "directionalAccuracy",
      candidate.directionalAccuracy,
      gate.minDirectionalAccuracy,
      "minDirectionalAccuracy",
    ),
  ];
  if (gate.minInformationCoefficient !== undefined) {
    checks.push(
      check(
        "informationCoefficient",
        candidate.informationCoefficient,
        gate.minInformationCoefficient,
        "minInformationCoefficient",
      ),
    );
  }
  if (gate.compareWithChampion && champion) {
    const tolerance = gate.championTolerance > 0 ? ` - tolerance ${gate.championTolerance}` : "";
    const basis = `champion v${champion.version} on ${holdoutOf(champion)}${tolerance}`;
    for (const metric of ["r2", "directionalAccuracy"] as const) {
      checks.push(check(metric, candidate[metric], champion.metrics[metric] - gate.championTolerance, basis));
    }
  }
  checks.push(...strategyChecks(gate, candidate, champion));
  const failed = checks.filter((c) => !c.passed);
  const passed = failed.length === 0;
  const ordered = [...failed, ...checks.filter((c) => c.passed)];
  const noChampion = gate.compareWithChampion && !champion ? "; no champion to compare with" : "";
  // An artifact from a trainer before the backtest has no strategy metrics: say the P&L went unjudged.
  const noStrategy = candidate.strategy
    ? ""
    : "; no strategy metrics (trainer without a backtest): minSharpe not checked";
  const message = `${passed ? "passed" : "failed"}: ${ordered.map(describeCheck).join("; ")}${noChampion}${noStrategy}${describeComparison(champion)}`;
  return { passed, checks, message };
}
