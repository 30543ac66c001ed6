import type { HoldoutMetrics, TradingModelSpec } from "./api/types.ts";

/**
 * The offline gate: a candidate version against the spec's thresholds and against the stable
 * version (champion), on the holdout. The verdict carries every check with its numbers, so the
 * ModelVersion, the Event and `kubectl get mv -o wide` all say why.
 */

export type GateSpec = TradingModelSpec["training"]["gate"];

export interface Champion {
  version: number;
  metrics: HoldoutMetrics;
  /**
   * True when the trainer evaluated the champion on the candidate's own holdout rows (like for
   * like); false when only the champion's metrics from its own training are known.
   */
  sameHoldout: boolean;
}

export interface GateCheck {
  metric: string;
  value: number;
  bound: number;
  basis: string;
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
} as const;

const fmt = (x: number) => x.toFixed(4);

const describeCheck = (c: GateCheck) =>
  `${NAMES[c.metric as keyof typeof NAMES] ?? c.metric} ${fmt(c.value)} ${c.passed ? ">=" : "<"} ${fmt(c.bound)} (${c.basis})`;

function check(metric: keyof typeof NAMES, value: number, bound: number, basis: string): GateCheck {
  return { metric, value, bound, basis, passed: value >= bound };
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
    const holdout = champion.sameHoldout ? "same holdout" : "its own holdout";
    const basis = `champion v${champion.version} on ${holdout}${tolerance}`;
    for (const metric of ["r2", "directionalAccuracy"] as const) {
      checks.push(check(metric, candidate[metric], champion.metrics[metric] - gate.championTolerance, basis));
    }
  }
  const failed = checks.filter((c) => !c.passed);
  const passed = failed.length === 0;
  const ordered = [...failed, ...checks.filter((c) => c.passed)];
  const noChampion = gate.compareWithChampion && !champion ? "; no champion to compare with" : "";
  const message = `${passed ? "passed" : "failed"}: ${ordered.map(describeCheck).join("; ")}${noChampion}`;
  return { passed, checks, message };
}
