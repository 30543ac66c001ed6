import { normalCdf } from "../../../predictor/src/normal.ts";
import type { CHECK_NAMES } from "../api/tradingmodel.ts";
import type { TradingModelSpec } from "../api/types.ts";
import type { Measurement, Reading, TrackReadings } from "./measurement.ts";

type AnalysisSpec = TradingModelSpec["analysis"];
type CheckName = (typeof CHECK_NAMES)[number];
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

const num = (r: Reading): number | undefined =>
  "value" in r && Number.isFinite(r.value) ? r.value : undefined;
const errorOf = (...readings: Reading[]) =>
  readings.map((r) => ("error" in r ? r.error : undefined)).find(Boolean);
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());

export { normalCdf };

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

function accuracyOf(t: TrackReadings): { hits: number; total: number } | undefined {
  const total = num(t.feedback);
  const hits = num(t.feedbackHits);
  return total === undefined || hits === undefined ? undefined : { hits, total };
}

/** Predictions of the shadow's compared with stable's, or why there are too few to judge. */
function compared(
  analysis: AnalysisSpec,
  c: TrackReadings,
  what: string,
  sum: Reading,
): { noData: Judged } | { count: number; sum: number } {
  const err = errorOf(c.shadowCompared, sum);
  const count = num(c.shadowCompared);
  if (err || count === undefined || count < analysis.minSamples) {
    const why = err
      ? `${what} unreadable: ${err}`
      : `${what}: ${Math.round(count ?? 0)} predictions compared with stable < minSamples ${analysis.minSamples}`;
    return { noData: noData(analysis, why, Boolean(err)) };
  }
  // No series for the sum yet means nothing was counted in it.
  return { count, sum: num(sum) ?? 0 };
}

function judgeOne(check: CheckName, analysis: AnalysisSpec, m: Measurement): Judged & { threshold: number } {
  const c = m.candidate;
  const min = analysis.minSamples;
  switch (check) {
    case "signAgreement": {
      const threshold = analysis.signAgreement?.min ?? 0;
      const r = compared(analysis, c, "sign agreement", c.shadowSignAgreements);
      if ("noData" in r) return { threshold, ...r.noData };
      const value = r.sum / r.count;
      const ok = value >= threshold;
      return {
        threshold,
        value,
        samples: Math.round(r.count),
        verdict: ok ? "Passed" : "Failed",
        message: `sign agreement with stable ${fmt(value)} ${ok ? ">=" : "<"} ${threshold} (${Math.round(r.sum)} of ${Math.round(r.count)} mirrored predictions)`,
      };
    }
    case "meanAbsDiff": {
      const threshold = analysis.meanAbsDiff?.max ?? 0;
      const r = compared(analysis, c, "mean absolute difference", c.shadowAbsDiffSum);
      if ("noData" in r) return { threshold, ...r.noData };
      const value = r.sum / r.count;
      const ok = value <= threshold;
      return {
        threshold,
        value,
        samples: Math.round(r.count),
        verdict: ok ? "Passed" : "Failed",
        message: `mean absolute difference from stable ${fmt(value)} ${ok ? "<=" : ">"} ${threshold} over ${Math.round(r.count)} mirrored predictions`,
      };
    }
    case "accuracy": {
      const threshold = analysis.accuracy?.min ?? 0;
      const err = errorOf(c.feedback, c.feedbackHits);
      const acc = accuracyOf(c);
      if (err || !acc || acc.total < min) {
        const why = err
          ? `accuracy unreadable: ${err}`
          : `accuracy: ${Math.round(acc?.total ?? 0)} predictions with feedback < minSamples ${min}`;
        return {
          threshold,
          ...noData(analysis, why, Boolean(err)),
          ...(acc ? { samples: Math.round(acc.total) } : {}),
        };
      }
      const value = acc.hits / acc.total;
      const ok = value >= threshold;
      return {
        threshold,
        value,
        samples: Math.round(acc.total),
        verdict: ok ? "Passed" : "Failed",
        message: `accuracy ${fmt(value)} ${ok ? ">=" : "<"} ${threshold} over ${Math.round(acc.total)} predictions with feedback`,
      };
    }
    case "accuracyVsStable": {
      const confidence = analysis.accuracyVsStable?.confidence ?? 0.95;
      const threshold = Number((1 - confidence).toPrecision(6));
      const err = errorOf(
        c.feedback,
        c.feedbackHits,
        m.stable?.feedback ?? { absent: true },
        m.stable?.feedbackHits ?? { absent: true },
      );
      const cand = accuracyOf(c);
      const stable = m.stable ? accuracyOf(m.stable) : undefined;
      if (err || !cand || !stable || cand.total < min || stable.total < min) {
        const why = err
          ? `accuracy vs stable unreadable: ${err}`
          : `accuracy vs stable: ${Math.round(cand?.total ?? 0)} candidate and ${Math.round(stable?.total ?? 0)} stable predictions with feedback, each needs minSamples ${min}`;
        return { threshold, ...noData(analysis, why, Boolean(err)) };
      }
      const pValue = worseThanStablePValue(cand, stable);
      const worse = pValue < threshold;
      const [a, b] = [cand.hits / cand.total, stable.hits / stable.total];
      return {
        threshold,
        value: pValue,
        stableValue: b,
        samples: Math.round(cand.total),
        verdict: worse ? "Failed" : "Passed",
        message: `accuracy ${fmt(a)} (${Math.round(cand.total)}) vs stable ${fmt(b)} (${Math.round(stable.total)}): p-value ${fmt(pValue)} ${worse ? "<" : ">="} ${threshold} (${worse ? "significantly worse" : "not significantly worse"} at ${confidence})`,
      };
    }
    case "latencyP95Ms": {
      const threshold = analysis.latencyP95Ms?.max ?? 0;
      const err = errorOf(c.requests, c.latencyP95Seconds);
      const requests = num(c.requests);
      const p95 = num(c.latencyP95Seconds);
      if (err || requests === undefined || requests < min || p95 === undefined) {
        const why = err
          ? `p95 latency unreadable: ${err}`
          : `p95 latency: ${Math.round(requests ?? 0)} requests < minSamples ${min}`;
        return { threshold, ...noData(analysis, why, Boolean(err)) };
      }
      const value = p95 * 1000;
      const ok = value <= threshold;
      return {
        threshold,
        value,
        samples: Math.round(requests),
        verdict: ok ? "Passed" : "Failed",
        message: `p95 latency ${fmt(value)} ms ${ok ? "<=" : ">"} ${threshold} ms over ${Math.round(requests)} requests`,
      };
    }
    case "errorRate": {
      const threshold = analysis.errorRate?.max ?? 0;
      const err = errorOf(c.requests, c.errors);
      const requests = num(c.requests);
      if (err || requests === undefined || requests < min) {
        const why = err
          ? `error rate unreadable: ${err}`
          : `error rate: ${Math.round(requests ?? 0)} requests < minSamples ${min}`;
        return { threshold, ...noData(analysis, why, Boolean(err)) };
      }
      // No error series yet means no error was ever counted.
      const errors = num(c.errors) ?? 0;
      const value = errors / requests;
      const ok = value <= threshold;
      return {
        threshold,
        value,
        samples: Math.round(requests),
        verdict: ok ? "Passed" : "Failed",
        message: `error rate ${fmt(value)} ${ok ? "<=" : ">"} ${threshold} (${Math.round(errors)} of ${Math.round(requests)} requests)`,
      };
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
      const ok = value <= threshold;
      return {
        threshold,
        value,
        verdict: ok ? "Passed" : "Failed",
        message: `worst feature PSI ${fmt(value)} ${ok ? "<=" : ">"} ${threshold}`,
      };
    }
    case "strategyReturnBps": {
      const threshold = analysis.strategyReturnBps?.min ?? 0;
      const err = errorOf(c.strategyOutcomes, c.strategyGains, c.strategyLosses);
      const trades = num(c.strategyOutcomes);
      if (err || trades === undefined || trades < min) {
        const why = err
          ? `strategy return unreadable: ${err}`
          : `strategy return: ${Math.round(trades ?? 0)} scored outcomes < minSamples ${min}`;
        return { threshold, ...noData(analysis, why, Boolean(err)) };
      }
      // A sign with no series yet has had no trade of that sign.
      const net = (num(c.strategyGains) ?? 0) - (num(c.strategyLosses) ?? 0);
      const value = (net / trades) * 10_000;
      const ok = value >= threshold;
      return {
        threshold,
        value,
        samples: Math.round(trades),
        verdict: ok ? "Passed" : "Failed",
        message: `strategy return ${fmt(value)} bps per trade after costs ${ok ? ">=" : "<"} ${threshold} bps over ${Math.round(trades)} scored outcomes`,
      };
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
