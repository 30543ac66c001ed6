// Where a canary's time goes, from the operator's own log: each reconcile that decided something
// logs the reasons of the Events it emitted, at the millisecond. A canary is RolloutStarted, then
// per step a wait for the candidate's pods (until TrafficShifted: the step's weight in effect) and
// its analysis (until RolloutStepAdvanced), then the promotion (until VersionPromoted: every stable
// pod runs the candidate).

/** A line of the operator's pino log. */
export type LogLine = Record<string, unknown>;

export interface CanaryTimeline {
  /** RolloutStarted to VersionPromoted. */
  totalMs: number;
  /** Per analysed step: waiting for its pods, then its weight in effect until it passed. */
  steps: { podsMs: number; analysisMs: number }[];
  /** The last step passed to VersionPromoted: stable's rolling update to the candidate. */
  promotionMs: number;
  /** Measurements that had too few samples to judge (each one waits for the next interval). */
  inconclusive: number;
}

const decisions = (logs: readonly LogLine[]) =>
  logs.flatMap((l) =>
    l.msg === "reconciled" && typeof l.time === "number" && Array.isArray(l.events)
      ? [{ at: l.time, events: l.events as string[] }]
      : [],
  );

/** The first canary in the log that started at or after `fromMs` and was promoted; undefined if none. */
export function canaryTimeline(logs: readonly LogLine[], fromMs = 0): CanaryTimeline | undefined {
  const seen = decisions(logs).filter((d) => d.at >= fromMs);
  const start = seen.findIndex((d) => d.events.includes("RolloutStarted"));
  if (start < 0) return undefined;
  const startedAt = seen[start]?.at ?? 0;
  const steps: CanaryTimeline["steps"] = [];
  let since = startedAt;
  let shiftedAt: number | undefined;
  let inconclusive = 0;
  for (const { at, events } of seen.slice(start)) {
    inconclusive += events.filter((e) => e === "AnalysisInconclusive").length;
    // In one reconcile a step can start and the rollout end; the order of the checks below is theirs.
    if (events.includes("TrafficShifted") && shiftedAt === undefined) {
      steps.push({ podsMs: at - since, analysisMs: 0 });
      shiftedAt = at;
    }
    if (events.includes("RolloutStepAdvanced") && shiftedAt !== undefined) {
      const step = steps.at(-1);
      if (step) step.analysisMs = at - shiftedAt;
      shiftedAt = undefined;
      since = at;
    }
    if (events.includes("VersionPromoted")) {
      return { totalMs: at - startedAt, steps, promotionMs: at - since, inconclusive };
    }
    if (events.some((e) => e === "RolledBack" || e === "RolloutAborted")) return undefined;
  }
  return undefined;
}
