import type { Condition } from "./api/types.ts";

export type ConditionType = "Ready" | "Training" | "Progressing" | "Degraded" | "Monitored";

export interface ConditionUpdate {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  reason: Reason;
  message: string;
}

/**
 * Sets one condition in a list keyed by type. lastTransitionTime moves only when the status
 * changes, so it tells users how long the condition has held; reason and message always update.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    ...update,
    observedGeneration,
    lastTransitionTime:
      previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export const isTrue = (conditions: readonly Condition[] | undefined, type: ConditionType) =>
  findCondition(conditions, type)?.status === "True";

/**
 * Every reason the operator writes into a condition or an Event, in one place: users filter on
 * them (`kubectl get events --field-selector reason=RolledBack`), so they never change by accident.
 */
export const Reason = {
  // Degraded, most urgent first (see DEGRADED_PRIORITY)
  InvalidSpec: "InvalidSpec",
  ReconcileFailed: "ReconcileFailed",
  PredictorUnavailable: "PredictorUnavailable",
  RolledBack: "RolledBack",
  RolloutFailed: "RolloutFailed",
  RolloutStalled: "RolloutStalled",
  AnalysisUnavailable: "AnalysisUnavailable",
  TrainerInternalError: "TrainerInternalError",
  InvalidTrainingInput: "InvalidTrainingInput",
  DataSourceUnavailable: "DataSourceUnavailable",
  TrainingDeadlineExceeded: "TrainingDeadlineExceeded",
  ArtifactPublishFailed: "ArtifactPublishFailed",
  TrainingFailed: "TrainingFailed",
  ArtifactInvalid: "ArtifactInvalid",
  CandidateRejected: "CandidateRejected",
  AsExpected: "AsExpected",
  // Training
  Idle: "Idle",
  TrainingStarted: "TrainingStarted",
  TrainingPending: "TrainingPending",
  TrainingRunning: "TrainingRunning",
  TrainingSucceeded: "TrainingSucceeded",
  TrainingSuperseded: "TrainingSuperseded",
  ArtifactPending: "ArtifactPending",
  // Progressing
  NoCandidate: "NoCandidate",
  RollingOut: "RollingOut",
  RolloutComplete: "RolloutComplete",
  RolloutPaused: "RolloutPaused",
  RolloutAborted: "RolloutAborted",
  AnalysisInconclusive: "AnalysisInconclusive",
  // Ready
  NoVersionServing: "NoVersionServing",
  Serving: "Serving",
  // Monitored
  NotServing: "NotServing",
  AlertRulesInstalled: "AlertRulesInstalled",
  PrometheusRuleAPIMissing: "PrometheusRuleAPIMissing",
  RulesRejected: "RulesRejected",
  // Events only
  CandidateAccepted: "CandidateAccepted",
  VersionPromoted: "VersionPromoted",
  VersionArchived: "VersionArchived",
  VersionsPruned: "VersionsPruned",
  RolloutStarted: "RolloutStarted",
  RolloutStepAdvanced: "RolloutStepAdvanced",
  RolloutPromotedBySpec: "RolloutPromotedBySpec",
  AnalysisPassed: "AnalysisPassed",
  AnalysisFailed: "AnalysisFailed",
  TrafficShifted: "TrafficShifted",
  ShadowStarted: "ShadowStarted",
  ShadowPassed: "ShadowPassed",
  // ModelVersion stage changes
  GatePassed: "GatePassed",
  GateFailed: "GateFailed",
  RolledOut: "RolledOut",
  Replaced: "Replaced",
  Superseded: "Superseded",
  Aborted: "Aborted",
  RolledBackTo: "RolledBackTo",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Trainer failure reasons, by the trainer's exit code family. */
export type TrainingFailureReason =
  | typeof Reason.TrainerInternalError
  | typeof Reason.InvalidTrainingInput
  | typeof Reason.DataSourceUnavailable
  | typeof Reason.TrainingDeadlineExceeded
  | typeof Reason.ArtifactPublishFailed
  | typeof Reason.TrainingFailed;

/**
 * Which problem the Degraded condition names when several hold at once: what the user must fix
 * first, then what takes traffic away, then failures of the latest attempt. An invalid spec is
 * never hidden by a rejected candidate.
 */
export const DEGRADED_PRIORITY: readonly Reason[] = [
  Reason.InvalidSpec,
  Reason.ReconcileFailed,
  Reason.PredictorUnavailable,
  Reason.RolledBack,
  Reason.RolloutFailed,
  Reason.RolloutStalled,
  Reason.AnalysisUnavailable,
  Reason.TrainerInternalError,
  Reason.InvalidTrainingInput,
  Reason.DataSourceUnavailable,
  Reason.TrainingDeadlineExceeded,
  Reason.ArtifactPublishFailed,
  Reason.TrainingFailed,
  Reason.ArtifactInvalid,
  Reason.CandidateRejected,
];

export interface Problem {
  reason: Reason;
  message: string;
}

/** The problem Degraded shows: the most urgent, its message naming how many others hold too. */
export function worstProblem(problems: readonly Problem[]): Problem | undefined {
  const rank = (p: Problem) => {
    const i = DEGRADED_PRIORITY.indexOf(p.reason);
    return i < 0 ? DEGRADED_PRIORITY.length : i;
  };
  const sorted = [...problems].sort((a, b) => rank(a) - rank(b));
  const [first, ...rest] = sorted;
  if (!first) return undefined;
  const others = [...new Set(rest.map((p) => p.reason).filter((r) => r !== first.reason))];
  return others.length === 0
    ? first
    : { reason: first.reason, message: `${first.message} (also: ${others.join(", ")})` };
}
