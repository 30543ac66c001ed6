import {
  type AnalysisPhase,
  type CheckResult,
  configuredChecks,
  judge,
  overall,
} from "../analysis/checks.ts";
import type { Measurement, MeasurementRequest } from "../analysis/measurement.ts";
import type { TradingModel, TradingModelSpec, TradingModelStatus } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { durationSeconds } from "../duration.ts";
import { versionLabel } from "../manifests/names.ts";
import type { TrafficInEffect } from "../traffic/router.ts";

/** What the strategies share: the rollout's stored state, the machine's input and output, and analysis. */

export type RolloutState = NonNullable<TradingModelStatus["rollout"]>;
export type Phase = RolloutState["phase"];
export type Strategy = RolloutState["strategy"];

export const ACTIVE_PHASES: readonly Phase[] = ["Progressing", "Paused", "Promoting"];
export const isActive = (state: RolloutState | undefined): boolean =>
  state !== undefined && ACTIVE_PHASES.includes(state.phase);

/** How often a rollout waiting for pods looks again: they turn ready within seconds. */
export const SETTLE_POLL_SECONDS = 2;
/** The soonest a rollout asks to be looked at again: a timer a hair early must not spin. */
const LOOK_FLOOR_SECONDS = 0.1;
/** A requeue lands a little early or late; a measurement this close to due is taken now. */
export const DUE_SLACK_SECONDS = 0.5;

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
  /** The stable Deployment's pods on the candidate's template and available (promotion's progress). */
  stableReadyOnCandidate: number;
  /** The candidate's pods never became available (the Deployment's progress deadline passed). */
  candidateStalled: boolean;
  /** Taken by the shell this reconcile, when `measurementDue` said so. */
  measurement?: Measurement;
  now: Date;
}

export interface RolloutDecision {
  state: RolloutState;
  /**
   * Canary: percent of traffic on the candidate's pods. BlueGreen: 0 before the switch (the
   * candidate answers only its preview Service), 100 after it. 0 with the rollout over: its pods go.
   */
  weight: number;
  /** The version the stable Deployment should run: the candidate once promotion starts. */
  stableVersion: number;
  events: RolloutEvent[];
  stages: StageChange[];
  requeueAfterSeconds?: number;
}

const intervalOf = (spec: TradingModelSpec) => durationSeconds(spec.analysis.interval);
export const secondsSince = (since: string | undefined, now: Date) =>
  since === undefined ? Number.POSITIVE_INFINITY : (now.getTime() - new Date(since).getTime()) / 1000;

/**
 * The candidate's track: a shadow gets a mirror of stable's requests and answers no client (the
 * whole of a Shadow rollout, the first phase of the others when they have one); a canary takes live
 * traffic; a blue-green candidate is previewed first.
 */
export const candidateTrack = (state: Pick<RolloutState, "strategy" | "shadowPhase">) =>
  state.strategy === "Shadow" || state.shadowPhase === "Running"
    ? "shadow"
    : state.strategy === "BlueGreen"
      ? "preview"
      : "canary";

/** What the candidate is judged on in this state: mirrored requests in a shadow phase, else live ones. */
export const analysisPhaseOf = (state: Pick<RolloutState, "shadowPhase">): AnalysisPhase =>
  state.shadowPhase === "Running" ? "shadow" : "live";

/**
 * Whether this reconcile should measure the candidate, and what: only while the rollout is
 * analysing (a step's weight in effect), once an interval has passed since that started or since
 * the latest measurement.
 */
export function measurementDue(model: TradingModel, now: Date): MeasurementRequest | undefined {
  const state = model.status?.rollout;
  const spec = model.spec;
  if (state?.phase !== "Progressing" || state.stepStartedAt === undefined) return undefined;
  const phase = analysisPhaseOf(state);
  const checks = configuredChecks(spec.analysis, phase);
  if (checks.length === 0) return undefined;
  const since = Math.min(secondsSince(state.stepStartedAt, now), secondsSince(state.lastAnalysisAt, now));
  if (since + DUE_SLACK_SECONDS < intervalOf(spec)) return undefined;
  const name = model.metadata.name;
  const namespace = model.metadata.namespace;
  const stable = model.status?.stableVersion ?? state.fromVersion;
  return {
    version: state.version,
    window: spec.analysis.window,
    checks,
    candidate: {
      namespace,
      model: name,
      version: versionLabel(state.version),
      track: candidateTrack(state),
    },
    ...(stable === undefined || !spec.analysis.accuracyVsStable || phase === "shadow"
      ? {}
      : { stable: { namespace, model: name, version: versionLabel(stable), track: "stable" } }),
  };
}

export function summary(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.message} [${r.verdict}]`).join("; ");
}

type FreshState = Omit<RolloutState, "version" | "fromVersion" | "strategy" | "phase" | "startedAt">;

/** How a live strategy (canary, blue-green) starts: its first state and the sentence that says so. */
export interface LiveStart {
  fresh: () => FreshState;
  started: string;
}

/** One reconcile's work on a rollout: the state being changed and what it decided so far. */
export class Turn {
  readonly input: RolloutInput;
  readonly state: RolloutState;
  readonly events: RolloutEvent[] = [];
  readonly stages: StageChange[] = [];
  readonly at: string;
  readonly v: string;

  constructor(input: RolloutInput, strategy: Strategy, fresh: () => FreshState, started: string) {
    this.input = input;
    this.at = input.now.toISOString();
    this.v = `v${input.candidate}`;
    if (input.state?.version === input.candidate && input.state.strategy === strategy) {
      this.state = structuredClone(input.state);
    } else {
      this.state = {
        version: input.candidate,
        fromVersion: input.stable,
        strategy,
        phase: "Progressing",
        startedAt: this.at,
        failures: 0,
        consecutiveNoData: 0,
        measurementsInStep: 0,
        ...fresh(),
      };
      this.state.message = started;
      this.events.push({ type: "Normal", reason: Reason.RolloutStarted, message: started });
    }
  }

  /** The checks judged now: a shadow phase's, or the live ones. */
  get checks() {
    return configuredChecks(this.input.spec.analysis, analysisPhaseOf(this.state));
  }

  event(type: RolloutEvent["type"], reason: Reason, message: string) {
    this.events.push({ type, reason, message });
  }

  /** The analysis interval, in seconds. */
  get interval(): number {
    return intervalOf(this.input.spec);
  }

  /**
   * Decides, and looks again soon while `waiting`: what the rollout waits for (pods turning ready,
   * stable's rolling update) is under way, and its Deployment's changes bring a reconcile sooner anyway.
   */
  poll(weight: number, stableVersion: number, waiting = true): RolloutDecision {
    return this.decide(weight, stableVersion, waiting ? SETTLE_POLL_SECONDS : undefined);
  }

  /**
   * spec.rollout.paused: holds the rollout at `weight` (`where` says at what). While
   * the pods of the asked split are still starting it looks again soon: the status's weight then
   * follows them even if their watch event is missed (a paused rollout has no timer of its own).
   */
  pause(where: string, weight: number): RolloutDecision {
    // The message follows the pods settling into the held split (the weight in it moves); the
    // Event is the decision, written once with the numbers of the moment it was taken.
    this.state.message = `paused by spec.rollout.paused ${where}`;
    if (this.state.phase !== "Paused") {
      this.state.phase = "Paused";
      this.event("Normal", Reason.RolloutPaused, this.state.message);
    }
    return this.poll(weight, this.input.stable, !this.input.traffic.settled);
  }

  /**
   * spec.rollout.paused cleared: progressing again (`where` it resumed). The step's clock restarts
   * (a canary step's or the shadow phase's), so a paused step is analysed for a whole period after.
   */
  resume(where: string) {
    this.state.phase = "Progressing";
    if (this.state.stepStartedAt !== undefined) this.state.stepStartedAt = this.at;
    this.state.measurementsInStep = 0;
    this.event("Normal", Reason.RollingOut, `${this.v} resumed ${where}`);
  }

  decide(weight: number, stableVersion: number, requeueAfterSeconds?: number): RolloutDecision {
    return {
      state: { ...this.state, weight: this.input.traffic.weight },
      weight,
      stableVersion,
      events: this.events,
      stages: this.stages,
      ...(requeueAfterSeconds === undefined ? {} : { requeueAfterSeconds }),
    };
  }

  finish(phase: Phase, reason: Reason, message: string, type: RolloutEvent["type"]) {
    this.state.phase = phase;
    this.state.finishedAt = this.at;
    this.state.message = message;
    this.events.push({ type, reason, message });
  }

  /** Ends the rollout with the candidate rejected; traffic goes back to stable. */
  rollBack(reason: Reason, message: string, stageMessage: string) {
    this.finish("RolledBack", Reason.RolledBack, message, "Warning");
    this.stages.push({ version: this.input.candidate, stage: "Rejected", reason, message: stageMessage });
  }

  /**
   * Promoting (the stable Deployment moving to the candidate, asked `weight` meanwhile): finished
   * once every stable pod runs it, as `how` says; until then the message counts them (`meanwhile`
   * says what else holds) and it looks again soon.
   */
  promoting(weight: number, how: string, meanwhile = ""): RolloutDecision {
    const { candidate, stableOnCandidate, stableReadyOnCandidate } = this.input;
    if (stableOnCandidate) {
      this.promoted(how);
      return this.decide(0, candidate);
    }
    this.state.message = `promoting ${this.v}: stable Deployment moving to it (${stableReadyOnCandidate} of its pods on it and ready)${meanwhile}`;
    return this.poll(weight, candidate);
  }

  /** The promotion finished: the candidate is Production, the old stable Archived. */
  promoted(how: string) {
    const { candidate, stable } = this.input;
    const message = `${this.v} promoted: all ${this.input.stableReadyOnCandidate} stable pods run it; v${stable} archived`;
    this.finish("Succeeded", Reason.VersionPromoted, message, "Normal");
    this.stages.push(
      { version: candidate, stage: "Production", reason: Reason.RolledOut, message: how },
      { version: stable, stage: "Archived", reason: Reason.Replaced, message: `replaced by ${this.v}` },
    );
  }

  /** abortVersion naming this candidate ends the rollout; returns whether it did. */
  abortedBySpec(where: string): boolean {
    if (this.input.spec.rollout.abortVersion !== this.input.candidate || this.state.phase === "Promoting")
      return false;
    this.finish(
      "Aborted",
      Reason.RolloutAborted,
      `rollout of ${this.v} aborted by spec.rollout.abortVersion ${where}; all traffic back to v${this.input.stable}`,
      "Warning",
    );
    this.stages.push({
      version: this.input.candidate,
      stage: "Rejected",
      reason: Reason.Aborted,
      message: "aborted by spec",
    });
    return true;
  }

  /** A candidate whose pods never became available is rolled back; returns whether it was. */
  stalled(): boolean {
    if (!this.input.candidateStalled) return false;
    const message = `rolled back ${this.v}: its pods did not become available within the Deployment's progress deadline (${this.input.traffic.candidateReady} ready); all traffic back to v${this.input.stable}`;
    this.rollBack(Reason.RolloutFailed, message, message);
    return true;
  }

  /**
   * Applies this reconcile's measurement, if one was taken: counts failures and inconclusive
   * measurements against their limits (rolling back past them), or a passed measurement for the
   * current step. Returns whether the rollout ended.
   */
  applyMeasurement(where: string): boolean {
    const m = this.input.measurement;
    const { spec } = this.input;
    if (!m || m.version !== this.input.candidate) return false;
    const state = this.state;
    const results = judge(spec.analysis, m, analysisPhaseOf(state));
    const verdict = overall(results);
    state.analysis = results;
    state.lastAnalysisAt = m.measuredAt;
    // A shadow never took traffic: there is none to bring back.
    const back =
      analysisPhaseOf(state) === "shadow"
        ? `v${this.input.stable} kept all traffic`
        : `all traffic back to v${this.input.stable}`;
    if (verdict === "Failed") {
      state.failures = (state.failures ?? 0) + 1;
      state.consecutiveNoData = 0;
      const limit = spec.analysis.failureLimit;
      const failed = summary(results.filter((r) => r.verdict === "Failed"));
      if (state.failures > limit) {
        this.rollBack(
          Reason.RolledBack,
          `rolled back ${this.v} at ${where}: ${failed}; failed (${state.failures}) > failureLimit (${limit}); ${back}`,
          failed,
        );
        return true;
      }
      state.message = `analysis of ${this.v} at ${where} failed: ${failed}; failed (${state.failures}) <= failureLimit (${limit})`;
      this.event("Warning", Reason.AnalysisFailed, state.message);
    } else if (verdict === "NoData") {
      state.consecutiveNoData = (state.consecutiveNoData ?? 0) + 1;
      const limit = spec.analysis.noDataLimit;
      const waiting = summary(results.filter((r) => r.verdict === "NoData"));
      if (state.consecutiveNoData > limit) {
        this.rollBack(
          Reason.RolledBack,
          `rolled back ${this.v} at ${where}: no data in ${state.consecutiveNoData} measurements in a row (${waiting}) > noDataLimit (${limit}); ${back}`,
          waiting,
        );
        return true;
      }
      state.message = `analysis of ${this.v} at ${where} inconclusive (${state.consecutiveNoData}/${limit}): ${waiting}`;
      this.event("Normal", Reason.AnalysisInconclusive, state.message);
    } else {
      state.consecutiveNoData = 0;
      state.measurementsInStep = (state.measurementsInStep ?? 0) + 1;
      state.message = `analysis of ${this.v} at ${where} passed: ${summary(results)}`;
    }
    return false;
  }

  /** Whether the current analysis period is over: an interval gone and (with checks) one pass. */
  periodPassed(minimumSeconds: number): boolean {
    const checks = this.checks.length;
    const elapsed = secondsSince(this.state.stepStartedAt, this.input.now);
    return (
      elapsed + DUE_SLACK_SECONDS >= minimumSeconds &&
      (checks === 0 || (this.state.measurementsInStep ?? 0) > 0)
    );
  }

  /**
   * Seconds until the next measurement or the end of the period, whichever is first, to the tenth
   * of a second: a reconcile in mid-step (a watch event, an earlier poll, which the work queue
   * keeps over a later requeue) must not push the step's end later by rounding.
   */
  nextLook(minimumSeconds: number): number {
    const { now } = this.input;
    const interval = this.interval;
    const elapsed = secondsSince(this.state.stepStartedAt, now);
    const sinceMeasured = Math.min(elapsed, secondsSince(this.state.lastAnalysisAt, now));
    const checks = this.checks.length;
    const untilMeasure = checks === 0 ? Number.POSITIVE_INFINITY : interval - sinceMeasured;
    const untilEnd = minimumSeconds > elapsed ? minimumSeconds - elapsed : Number.POSITIVE_INFINITY;
    const next = Math.min(untilMeasure, untilEnd);
    return Math.max(LOOK_FLOOR_SECONDS, Math.ceil((Number.isFinite(next) ? next : interval) * 10) / 10);
  }

  analysed(): string {
    return this.checks.length === 0 ? "no analysis configured" : summary(this.state.analysis ?? []);
  }
}
