import { normalCdf } from "../../../predictor/src/normal.ts";
import type { TradingModelSpec } from "../api/types.ts";
import type { CheckName, Measurement, Reading, ReadingName, TrackReadings } from "./measurement.ts";

type AnalysisSpec = TradingModelSpec["analysis"];
export type Verdict = "Passed" | "Failed" | "NoData";
/**
 * What the candidate is judged on: live traffic (canary, preview, after a switch), where clients'
 * feedback arrives; or a shadow phase, where it answers mirrored requests only and is compared with
 * stable's answers to them instead.
 */
export type AnalysisPhase = "live" | "shadow";

export interface CheckResult {
  check: CheckName;
  verdict: Verdict;
  value?: number;
  threshold: number;
  samples?: number;
  stableValue?: number;
  window: string;
  message: string;
}

/**
 * The checks the spec asks for in this phase; with none, a rollout advances on time alone. A
 * shadow gets no feedback (clients never see its answers), so accuracy and strategy return are
 * judged live only; the
 * agreement checks need stable's answers to the same requests, so they are judged in shadow only.
 */
export function configuredChecks(analysis: AnalysisSpec, phase: AnalysisPhase = "live"): CheckName[] {
  const checks: CheckName[] = [];
  const live = phase === "live";
  if (live && analysis.accuracy) checks.push("accuracy");
  if (live && analysis.accuracyVsStable) checks.push("accuracyVsStable");
  if (analysis.latencyP95Ms) checks.push("latencyP95Ms");
  if (analysis.errorRate) checks.push("errorRate");
  if (analysis.drift) checks.push("drift");
  if (live && analysis.strategyReturnBps) checks.push("strategyReturnBps");
  if (!live && analysis.signAgreement) checks.push("signAgreement");
  if (!live && analysis.meanAbsDiff) checks.push("meanAbsDiff");
  return checks;
}

/** A reading the provider was not asked for: a check reading it would be a bug, so never a pass. */
const NOT_MEASURED = "not measured (no configured check asked for it)";
const num = (r: Reading | undefined): number | undefined =>
  r !== undefined && "value" in r && Number.isFinite(r.value) ? r.value : undefined;
const errorOf = (...readings: (Reading | undefined)[]) =>
  readings.map((r) => (r === undefined ? NOT_MEASURED : "error" in r ? r.error : undefined)).find(Boolean);
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());

export { normalCdf };

/**
 * The readings each check judges from, on the candidate's track; accuracyVsStable reads the same
 * on stable's. The provider queries these only.
 */
const READS: Record<CheckName, readonly ReadingName[]> = {
  accuracy: ["feedback", "feedbackHits"],
  accuracyVsStable: ["feedback", "feedbackHits"],
  latencyP95Ms: ["requests", "latencyP95Seconds"],
  errorRate: ["requests", "errors"],
  drift: ["psiMax"],
  strategyReturnBps: ["strategyOutcomes", "strategyGains", "strategyLosses"],
  signAgreement: ["shadowCompared", "shadowSignAgreements"],
  meanAbsDiff: ["shadowCompared", "shadowAbsDiffSum"],
};
const READS_ON_STABLE: Partial<Record<CheckName, readonly ReadingName[]>> = {
  accuracyVsStable: ["feedback", "feedbackHits"],
};

/** The readings a measurement for these checks needs, per track, each once. */
export function readingsFor(checks: readonly CheckName[]): {
  candidate: ReadingName[];
  stable: ReadingName[];
} {
  const union = (table: Partial<Record<CheckName, readonly ReadingName[]>>) => [
    ...new Set(checks.flatMap((check) => table[check] ?? [])),
  ];
  return { candidate: union(READS), stable: union(READS_ON_STABLE) };
}

/**
 * One-sided two-proportion z-test of "the candidate's hit rate is lower than stable's": the
 * p-value is the chance of a difference at least this far below zero if both were equal.
 */
export function worseThanStablePValue(
  candidate: { hits: number; total: number },
  stable: { hits: number; total: number },
): number {
  const p1 = candidate.hits / candidate.total;
  const p2 = stable.hits / stable.total;
  const pooled = (candidate.hits + stable.hits) / (candidate.total + stable.total);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / candidate.total + 1 / stable.total));
  if (se === 0) return p1 < p2 ? 0 : 1;
  return normalCdf((p1 - p2) / se);
}

interface Judged {
  verdict: Verdict;
  value?: number;
  samples?: number;
  stableValue?: number;
  message: string;
}
type JudgedCheck = Judged & { threshold: number };

/**
 * Too few samples, or nothing to read: what onNoData says. A reading that failed (Prometheus
 * down, slow, garbage) is never a pass, whatever onNoData says: it fails under Fail and waits
 * otherwise, so a broken Prometheus can hold a rollout but never promote it.
 */
function noData(analysis: AnalysisSpec, why: string, failedToRead: boolean): Judged {
  if (analysis.onNoData === "Fail") return { verdict: "Failed", message: `${why}; onNoData Fail` };
  if (analysis.onNoData === "Pass" && !failedToRead)
    return { verdict: "Passed", message: `${why}; onNoData Pass` };
  return { verdict: "NoData", message: `${why}; waiting` };
}

/**
 * A check's sample (`total` of them, named `counted` in messages), or what onNoData makes of its
 * lack: one of the check's readings failed, or there are fewer than minSamples.
 */
function sampled<S extends { total: number }>(
  analysis: AnalysisSpec,
  what: string,
  readings: (Reading | undefined)[],
  sample: S | undefined,
  counted: string,
): S | { noData: Judged } {
  const err = errorOf(...readings);
  if (err) return { noData: noData(analysis, `${what} unreadable: ${err}`, true) };
  if (!sample || sample.total < analysis.minSamples) {
    const why = `${what}: ${Math.round(sample?.total ?? 0)} ${counted} < minSamples ${analysis.minSamples}`;
    return { noData: noData(analysis, why, false) };
  }
  return sample;
}

/** A count's sample, none while its series does not exist. */
function countOf(r: Reading | undefined): { total: number } | undefined {
  const total = num(r);
  return total === undefined ? undefined : { total };
}

/**
 * A value held to its threshold from below (`{ min }`) or above (`{ max }`); `say` writes the
 * message around the comparison that held (">=", "<=") or broke ("<", ">").
 */
function against(
  bound: { min: number } | { max: number },
  value: number,
  samples: number | undefined,
  say: (op: string, ok: boolean) => string,
): JudgedCheck {
  const atLeast = "min" in bound;
  const threshold = atLeast ? bound.min : bound.max;
  const ok = atLeast ? value >= threshold : value <= threshold;
  const op = atLeast ? (ok ? ">=" : "<") : ok ? "<=" : ">";
  return {
    threshold,
    value,
    ...(samples === undefined ? {} : { samples: Math.round(samples) }),
    verdict: ok ? "Passed" : "Failed",
    message: say(op, ok),
  };
}

function accuracyOf(t: Partial<TrackReadings>): { hits: number; total: number } | undefined {
  const total = num(t.feedback);
  const hits = num(t.feedbackHits);
  return total === undefined || hits === undefined ? undefined : { hits, total };
}

/** Predictions of the shadow's compared with stable's, and `sum` over them, or why too few. */
function compared(analysis: AnalysisSpec, c: Partial<TrackReadings>, what: string, sum: Reading | undefined) {
  const s = sampled(
    analysis,
    what,
    [c.shadowCompared, sum],
    countOf(c.shadowCompared),
    "predictions compared with stable",
  );
  // No series for the sum yet means nothing was counted in it.
  return "noData" in s ? s : { total: s.total, sum: num(sum) ?? 0 };
}

function judgeOne(check: CheckName, analysis: AnalysisSpec, m: Measurement): JudgedCheck {
  const c = m.candidate;
  switch (check) {
    case "signAgreement": {
      const threshold = analysis.signAgreement?.min ?? 0;
      const r = compared(analysis, c, "sign agreement", c.shadowSignAgreements);
      if ("noData" in r) return { threshold, ...r.noData };
      const value = r.sum / r.total;
      return against(
        { min: threshold },
        value,
        r.total,
        (op) =>
          `sign agreement with stable ${fmt(value)} ${op} ${threshold} (${Math.round(r.sum)} of ${Math.round(r.total)} mirrored predictions)`,
      );
    }
    case "meanAbsDiff": {
      const threshold = analysis.meanAbsDiff?.max ?? 0;
      const r = compared(analysis, c, "mean absolute difference", c.shadowAbsDiffSum);
      if ("noData" in r) return { threshold, ...r.noData };
      const value = r.sum / r.total;
      return against(
        { max: threshold },
        value,
        r.total,
        (op) =>
          `mean absolute difference from stable ${fmt(value)} ${op} ${threshold} over ${Math.round(r.total)} mirrored predictions`,
      );
    }
    case "accuracy": {
      const threshold = analysis.accuracy?.min ?? 0;
      const acc = accuracyOf(c);
      const s = sampled(analysis, "accuracy", [c.feedback, c.feedbackHits], acc, "predictions with feedback");
      if ("noData" in s)
        return { threshold, ...s.noData, ...(acc ? { samples: Math.round(acc.total) } : {}) };
      const value = s.hits / s.total;
      return against(
        { min: threshold },
        value,
        s.total,
        (op) =>
          `accuracy ${fmt(value)} ${op} ${threshold} over ${Math.round(s.total)} predictions with feedback`,
      );
    }
    case "accuracyVsStable": {
      const confidence = analysis.accuracyVsStable?.confidence ?? 0.95;
      const threshold = Number((1 - confidence).toPrecision(6));
      const min = analysis.minSamples;
      // No stable track measured is no stable data; a stable track without its readings is a bug.
      const onStable = m.stable ?? { feedback: { absent: true }, feedbackHits: { absent: true } };
      const err = errorOf(c.feedback, c.feedbackHits, onStable.feedback, onStable.feedbackHits);
      const cand = accuracyOf(c);
      const stable = accuracyOf(onStable);
      if (err || !cand || !stable || cand.total < min || stable.total < min) {
        const why = err
          ? `accuracy vs stable unreadable: ${err}`
          : `accuracy vs stable: ${Math.round(cand?.total ?? 0)} candidate and ${Math.round(stable?.total ?? 0)} stable predictions with feedback, each needs minSamples ${min}`;
        return { threshold, ...noData(analysis, why, Boolean(err)) };
      }
      const pValue = worseThanStablePValue(cand, stable);
      const [a, b] = [cand.hits / cand.total, stable.hits / stable.total];
      // Passes unless the p-value falls under 1 - confidence: not significantly worse.
      const judged = against(
        { min: threshold },
        pValue,
        cand.total,
        (op, ok) =>
          `accuracy ${fmt(a)} (${Math.round(cand.total)}) vs stable ${fmt(b)} (${Math.round(stable.total)}): p-value ${fmt(pValue)} ${op} ${threshold} (${ok ? "not significantly worse" : "significantly worse"} at ${confidence})`,
      );
      return { ...judged, stableValue: b };
    }
    case "latencyP95Ms": {
      const threshold = analysis.latencyP95Ms?.max ?? 0;
      const s = sampled(
        analysis,
        "p95 latency",
        [c.requests, c.latencyP95Seconds],
        countOf(c.requests),
        "requests",
      );
      if ("noData" in s) return { threshold, ...s.noData };
      const p95 = num(c.latencyP95Seconds);
      if (p95 === undefined) {
        const why = `p95 latency: no latency histogram over ${Math.round(s.total)} requests`;
        return { threshold, ...noData(analysis, why, false) };
      }
      const value = p95 * 1000;
      return against(
        { max: threshold },
        value,
        s.total,
        (op) => `p95 latency ${fmt(value)} ms ${op} ${threshold} ms over ${Math.round(s.total)} requests`,
      );
    }
    case "errorRate": {
      const threshold = analysis.errorRate?.max ?? 0;
      const s = sampled(analysis, "error rate", [c.requests, c.errors], countOf(c.requests), "requests");
      if ("noData" in s) return { threshold, ...s.noData };
      // No error series yet means no error was ever counted.
      const errors = num(c.errors) ?? 0;
      const value = errors / s.total;
      return against(
        { max: threshold },
        value,
        s.total,
        (op) =>
          `error rate ${fmt(value)} ${op} ${threshold} (${Math.round(errors)} of ${Math.round(s.total)} requests)`,
      );
    }
    case "drift": {
      const threshold = analysis.drift?.psiMax ?? 0;
      const err = errorOf(c.psiMax);
      const value = num(c.psiMax);
      if (err || value === undefined) {
        return {
          threshold,
          ...noData(analysis, err ? `drift unreadable: ${err}` : "drift: no PSI reported yet", Boolean(err)),
        };
      }
      return against(
        { max: threshold },
        value,
        undefined,
        (op) => `worst feature PSI ${fmt(value)} ${op} ${threshold}`,
      );
    }
    case "strategyReturnBps": {
      const threshold = analysis.strategyReturnBps?.min ?? 0;
      const s = sampled(
        analysis,
        "strategy return",
        [c.strategyOutcomes, c.strategyGains, c.strategyLosses],
        countOf(c.strategyOutcomes),
        "scored outcomes",
      );
      if ("noData" in s) return { threshold, ...s.noData };
      // A sign with no series yet has had no trade of that sign.
      const net = (num(c.strategyGains) ?? 0) - (num(c.strategyLosses) ?? 0);
      const value = (net / s.total) * 10_000;
      return against(
        { min: threshold },
        value,
        s.total,
        (op) =>
          `strategy return ${fmt(value)} bps per trade after costs ${op} ${threshold} bps over ${Math.round(s.total)} scored outcomes`,
      );
    }
  }
}

/** Every configured check's verdict on one measurement. Pure: the numbers come in, verdicts go out. */
export function judge(
  analysis: AnalysisSpec,
  measurement: Measurement,
  phase: AnalysisPhase = "live",
): CheckResult[] {
  return configuredChecks(analysis, phase).map((check) => {
    const j = judgeOne(check, analysis, measurement);
    return {
      check,
      verdict: j.verdict,
      threshold: j.threshold,
      window: measurement.window,
      message: j.message,
      ...(j.value === undefined ? {} : { value: j.value }),
      ...(j.samples === undefined ? {} : { samples: j.samples }),
      ...(j.stableValue === undefined ? {} : { stableValue: j.stableValue }),
    };
  });
}

/** A measurement's overall verdict: one failed check fails it; otherwise one without data holds it. */
export function overall(results: readonly CheckResult[]): Verdict {
  if (results.some((r) => r.verdict === "Failed")) return "Failed";
  if (results.some((r) => r.verdict === "NoData")) return "NoData";
  return "Passed";
}
