import { type CheckResult, configuredChecks, judge, overall } from "../analysis/checks.ts";
import type { Measurement, MeasurementRequest } from "../analysis/measurement.ts";
import { DEFAULT_CANARY_STEPS } from "../api/delivery.ts";
import type { TradingModel, TradingModelSpec, TradingModelStatus } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { durationSeconds } from "../duration.ts";
import { versionLabel } from "../manifests/names.ts";
import type { TrafficInEffect } from "../traffic/router.ts";

export type RolloutState = NonNullable<TradingModelStatus["rollout"]>;
type Phase = RolloutState["phase"];

export const ACTIVE_PHASES: readonly Phase[] = ["Progressing", "Paused", "Promoting"];
export const isActive = (state: RolloutState | undefined) =>
  state !== undefined && ACTIVE_PHASES.includes(state.phase);

/** How often a step waits for its pods before looking again: they turn ready within seconds. */
export const SETTLE_POLL_SECONDS = 2;
/** A requeue lands a little early or late; a measurement this close to due is taken now. */
const DUE_SLACK_SECONDS = 0.5;

export interface RolloutEvent {
  type: "Normal" | "Warning";
  reason: Reason;
  message: string;
}

/** A ModelVersion stage change the rollout decided. */
export interface StageChange {
  version: number;
  stage: "Production" | "Archived" | "Rejected";
  reason: Reason;
  message: string;
}

export interface RolloutInput {
  spec: TradingModelSpec;
  /** The stored rollout; undefined or about another version means this rollout starts now. */
  state: RolloutState | undefined;
  stable: number;
  candidate: number;
  /** What the router reports for the split the previous reconcile asked for. */
  traffic: TrafficInEffect;
  /** Whether the stable Deployment runs the candidate on all of its pods (promotion finished). */
  stableOnCandidate: boolean;
  /** The candidate's pods never became available (the Deployment's progress deadline passed). */
  candidateStalled: boolean;
  /** Taken by the shell this reconcile, when `measurementDue` said so. */
  measurement?: Measurement;
  now: Date;
}

export interface RolloutDecision {
  state: RolloutState;
  /** Percent of traffic the candidate's track should get (0: the candidate's pods go). */
  weight: number;
  /** The version the stable Deployment should run: the candidate once promotion starts. */
  stableVersion: number;
  events: RolloutEvent[];
  stages: StageChange[];
  requeueAfterSeconds?: number;
}

export function canarySteps(spec: TradingModelSpec): number[] {
  return [...(spec.rollout.canary?.steps ?? DEFAULT_CANARY_STEPS)];
}

const intervalOf = (spec: TradingModelSpec) => durationSeconds(spec.analysis.interval);
const secondsSince = (since: string | undefined, now: Date) =>
  since === undefined ? Number.POSITIVE_INFINITY : (now.getTime() - new Date(since).getTime()) / 1000;

/**
 * Whether this reconcile should measure the candidate, and what: only while a step's weight is in
 * effect, once an interval has passed since the step started or since the latest measurement.
 */
export function measurementDue(model: TradingModel, now: Date): MeasurementRequest | undefined {
  const state = model.status?.rollout;
  const spec = model.spec;
  if (state?.phase !== "Progressing" || state.stepStartedAt === undefined) return undefined;
  if (configuredChecks(spec.analysis).length === 0) return undefined;
  const since = Math.min(secondsSince(state.stepStartedAt, now), secondsSince(state.lastAnalysisAt, now));
  if (since + DUE_SLACK_SECONDS < intervalOf(spec)) return undefined;
  const name = model.metadata.name;
  const namespace = model.metadata.namespace;
  const stable = model.status?.stableVersion ?? state.fromVersion;
  return {
    version: state.version,
    window: spec.analysis.window,
    candidate: { namespace, model: name, version: versionLabel(state.version), track: "canary" },
    ...(stable === undefined || !spec.analysis.accuracyVsStable
      ? {}
      : { stable: { namespace, model: name, version: versionLabel(stable), track: "stable" } }),
  };
}

function summary(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.message} [${r.verdict}]`).join("; ");
}

/**
 * The canary strategy as a pure state machine: from the stored rollout, what the router reports and
 * this reconcile's measurement, to the next rollout state, the weight to ask for, stage changes and
 * events with their numbers. Time-based work is requeue-after; nothing here waits or calls out.
 */
export function canary(input: RolloutInput): RolloutDecision {
  const { spec, now, candidate, stable } = input;
  const at = now.toISOString();
  const v = `v${candidate}`;
  const events: RolloutEvent[] = [];
  const stages: StageChange[] = [];
  let state: RolloutState;
  if (input.state?.version === candidate && input.state.strategy === "Canary") {
    state = structuredClone(input.state);
  } else {
    const steps = canarySteps(spec);
    state = {
      version: candidate,
      fromVersion: stable,
      strategy: "Canary",
      phase: "Progressing",
      stepIndex: 0,
      steps,
      desiredWeight: steps[0] ?? 100,
      weight: 0,
      startedAt: at,
      failures: 0,
      consecutiveNoData: 0,
      measurementsInStep: 0,
      message: `rollout of ${v} started: steps ${steps.join(", ")}`,
    };
    events.push({
      type: "Normal",
      reason: Reason.RolloutStarted,
      message: `canary of ${v} replacing v${stable}: steps ${steps.join(" -> ")}%, analysis every ${spec.analysis.interval}`,
    });
  }
  const steps = state.steps ?? canarySteps(spec);
  const decision = (weight: number, requeueAfterSeconds?: number): RolloutDecision => ({
    state: { ...state, weight: input.traffic.weight },
    weight,
    stableVersion: state.phase === "Promoting" || state.phase === "Succeeded" ? candidate : stable,
    events,
    stages,
    ...(requeueAfterSeconds === undefined ? {} : { requeueAfterSeconds }),
  });
  const finish = (phase: Phase, reason: Reason, message: string, type: "Normal" | "Warning") => {
    state.phase = phase;
    state.finishedAt = at;
    state.message = message;
    events.push({ type, reason, message });
  };

  if (!ACTIVE_PHASES.includes(state.phase)) return decision(0);

  // Declarative controls, each tied to the version it names so that a stale value does nothing.
  if (spec.rollout.abortVersion === candidate && state.phase !== "Promoting") {
    const message = `rollout of ${v} aborted by spec.rollout.abortVersion at ${input.traffic.weight}% (step ${state.stepIndex + 1}/${steps.length}); all traffic back to v${stable}`;
    finish("Aborted", Reason.RolloutAborted, message, "Warning");
    stages.push({
      version: candidate,
      stage: "Rejected",
      reason: Reason.Aborted,
      message: "aborted by spec",
    });
    return decision(0);
  }
  if (spec.rollout.promoteVersion === candidate && state.phase !== "Promoting") {
    state.phase = "Promoting";
    state.message = `${v} promoted by spec.rollout.promoteVersion at step ${state.stepIndex + 1}/${steps.length}, skipping the rest`;
    events.push({ type: "Normal", reason: Reason.RolloutPromotedBySpec, message: state.message });
  }

  if (state.phase === "Promoting") {
    state.desiredWeight = 100;
    if (input.stableOnCandidate) {
      const message = `${v} promoted: all ${input.traffic.stableReady} stable pods run it; v${stable} archived`;
      finish("Succeeded", Reason.VersionPromoted, message, "Normal");
      stages.push(
        {
          version: candidate,
          stage: "Production",
          reason: Reason.RolledOut,
          message: `canary ${steps.join(", ")}% passed`,
        },
        { version: stable, stage: "Archived", reason: Reason.Replaced, message: `replaced by ${v}` },
      );
      return decision(0);
    }
    state.message = `promoting ${v}: stable Deployment moving to it (${input.traffic.stableReady} pods ready)`;
    return decision(100, SETTLE_POLL_SECONDS);
  }

  if (spec.rollout.paused) {
    if (state.phase !== "Paused") {
      state.phase = "Paused";
      state.message = `paused by spec.rollout.paused at ${input.traffic.weight}% (step ${state.stepIndex + 1}/${steps.length})`;
      events.push({ type: "Normal", reason: Reason.RolloutPaused, message: state.message });
    }
    return decision(state.desiredWeight ?? 0);
  }
  if (state.phase === "Paused") {
    // The step's clock restarts: a paused step is analysed for a whole interval after resuming.
    state.phase = "Progressing";
    if (state.stepStartedAt !== undefined) state.stepStartedAt = at;
    state.measurementsInStep = 0;
    events.push({
      type: "Normal",
      reason: Reason.RollingOut,
      message: `${v} resumed at step ${state.stepIndex + 1}/${steps.length}`,
    });
  }

  if (input.candidateStalled) {
    const message = `rolled back ${v}: its pods did not become available within the Deployment's progress deadline (${input.traffic.candidateReady} ready); all traffic back to v${stable}`;
    finish("RolledBack", Reason.RolloutFailed, message, "Warning");
    stages.push({ version: candidate, stage: "Rejected", reason: Reason.RolloutFailed, message });
    return decision(0);
  }
  const target = steps[state.stepIndex] ?? 100;
  state.desiredWeight = target;
  if (target >= 100) {
    state.phase = "Promoting";
    state.message = `${v} passed every step; promoting`;
    return decision(100, SETTLE_POLL_SECONDS);
  }
  const interval = intervalOf(spec);

  if (state.stepStartedAt === undefined) {
    if (!input.traffic.settled || input.traffic.candidateReady === 0) {
      state.message = `step ${state.stepIndex + 1}/${steps.length}: waiting for pods (${input.traffic.candidateReady} candidate, ${input.traffic.stableReady} stable ready) to give ${v} ${target}%`;
      return decision(target, SETTLE_POLL_SECONDS);
    }
    state.stepStartedAt = at;
    state.measurementsInStep = 0;
    state.message = `step ${state.stepIndex + 1}/${steps.length}: ${v} receives ${input.traffic.weight}% of traffic (asked ${target}%, ${input.traffic.candidateReady} of ${input.traffic.candidateReady + input.traffic.stableReady} ready pods)`;
    events.push({ type: "Normal", reason: Reason.TrafficShifted, message: state.message });
    return decision(target, interval);
  }

  const checks = configuredChecks(spec.analysis);
  const m = input.measurement;
  if (m && m.version === candidate) {
    const results = judge(spec.analysis, m);
    const verdict = overall(results);
    state.analysis = results;
    state.lastAnalysisAt = m.measuredAt;
    const where = `${v} at ${input.traffic.weight}% (step ${state.stepIndex + 1}/${steps.length})`;
    if (verdict === "Failed") {
      state.failures = (state.failures ?? 0) + 1;
      state.consecutiveNoData = 0;
      const limit = spec.analysis.failureLimit;
      const failed = results.filter((r) => r.verdict === "Failed");
      if (state.failures > limit) {
        const message = `rolled back ${v} at ${input.traffic.weight}%: ${summary(failed)}; failed (${state.failures}) > failureLimit (${limit}); all traffic back to v${stable}`;
        finish("RolledBack", Reason.RolledBack, message, "Warning");
        stages.push({
          version: candidate,
          stage: "Rejected",
          reason: Reason.RolledBack,
          message: summary(failed),
        });
        return decision(0);
      }
      state.message = `analysis of ${where} failed: ${summary(failed)}; failed (${state.failures}) <= failureLimit (${limit})`;
      events.push({ type: "Warning", reason: Reason.AnalysisFailed, message: state.message });
    } else if (verdict === "NoData") {
      state.consecutiveNoData = (state.consecutiveNoData ?? 0) + 1;
      const limit = spec.analysis.noDataLimit;
      const waiting = results.filter((r) => r.verdict === "NoData");
      if (state.consecutiveNoData > limit) {
        const message = `rolled back ${v} at ${input.traffic.weight}%: no data in ${state.consecutiveNoData} measurements in a row (${summary(waiting)}) > noDataLimit (${limit}); all traffic back to v${stable}`;
        finish("RolledBack", Reason.RolledBack, message, "Warning");
        stages.push({
          version: candidate,
          stage: "Rejected",
          reason: Reason.RolledBack,
          message: summary(waiting),
        });
        return decision(0);
      }
      state.message = `analysis of ${where} inconclusive (${state.consecutiveNoData}/${limit}): ${summary(waiting)}`;
      events.push({ type: "Normal", reason: Reason.AnalysisInconclusive, message: state.message });
    } else {
      state.consecutiveNoData = 0;
      state.measurementsInStep = (state.measurementsInStep ?? 0) + 1;
      state.message = `analysis of ${where} passed: ${summary(results)}`;
    }
  }

  const elapsed = secondsSince(state.stepStartedAt, now);
  const passedStep = checks.length === 0 || (state.measurementsInStep ?? 0) > 0;
  if (elapsed + DUE_SLACK_SECONDS >= interval && passedStep) {
    const analysed = checks.length === 0 ? "no analysis configured" : summary(state.analysis ?? []);
    const next = steps[state.stepIndex + 1] ?? 100;
    const message = `${v} passed step ${state.stepIndex + 1}/${steps.length} at ${input.traffic.weight}% after ${Math.round(elapsed)} s (${analysed}); next ${next >= 100 ? "promotion" : `${next}%`}`;
    events.push({ type: "Normal", reason: Reason.RolloutStepAdvanced, message });
    state.stepIndex += 1;
    delete state.stepStartedAt;
    state.measurementsInStep = 0;
    state.message = message;
    const nextTarget = steps[state.stepIndex] ?? 100;
    state.desiredWeight = nextTarget;
    if (nextTarget >= 100) {
      state.phase = "Promoting";
      return decision(100, SETTLE_POLL_SECONDS);
    }
    return decision(nextTarget, SETTLE_POLL_SECONDS);
  }
  const sinceMeasured = Math.min(elapsed, secondsSince(state.lastAnalysisAt, now));
  const wait = Math.max(1, Math.ceil(interval - (checks.length === 0 ? elapsed : sinceMeasured)));
  return decision(target, wait);
}
