import { canonicalJson, sha256Hex } from "../../../predictor/src/artifact.ts";
import { parseTrainSpec, SpecError } from "../../../predictor/src/train/spec.ts";
import type { TradingModelSpec } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { trainingJobName } from "../manifests/names.ts";
import { trainerRole, trainerRoleBinding, trainerServiceAccount } from "../manifests/trainer-rbac.ts";
import { trainerSpec } from "../manifests/trainer-spec.ts";
import { trainingJob } from "../manifests/training-job.ts";
import { nextScheduledTime, ScheduleError } from "../schedule.ts";
import { type Context, condition, event, highestIn, problem, requeueAfter } from "./context.ts";
import { attemptOf, jobState, type TrainingAttempt, trainerFailure } from "./observed.ts";

/** While a Job runs, look again this often: Job watch events can arrive late (field notes). */
const TRAINING_POLL_SECONDS = 15;

/**
 * Identifies what a version is trained from: exactly the document the trainer receives, plus the
 * retrain request. A change to serving, rollout, analysis or the gate does not retrain.
 */
export function trainingHash(spec: TradingModelSpec): string {
  return sha256Hex(
    canonicalJson({ train: trainerSpec(spec), retrainRequest: spec.training.retrainRequest ?? null }),
  );
}

/**
 * Checks the spec with the runtime's own parser, which knows what CEL cannot (per-family feature
 * windows, for one), and the schedule with the cron library, so a spec the trainer would refuse
 * never gets a Job.
 */
export function validateStep(ctx: Context): void {
  const { spec } = ctx.model;
  const problems: string[] = [];
  try {
    parseTrainSpec(trainerSpec(spec));
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    problems.push(...err.problems);
  }
  if (spec.training.schedule !== undefined) {
    try {
      nextScheduledTime(spec.training.schedule, spec.training.timeZone, ctx.now);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length === 0) return;
  ctx.specProblems = problems;
  const message = `spec cannot be trained: ${problems.join("; ")}`;
  problem(ctx, Reason.InvalidSpec, message);
  if (ctx.model.status?.observedGeneration !== ctx.generation)
    event(ctx, "Warning", Reason.InvalidSpec, message);
}

function latestAttempt(ctx: Context): TrainingAttempt | undefined {
  const attempts = new Map<number, TrainingAttempt>();
  for (const view of ctx.versions.values()) {
    attempts.set(view.version, { version: view.version, trainingHash: view.spec.params.trainingHash });
  }
  for (const job of ctx.observed.jobs) {
    const attempt = attemptOf(job);
    if (attempt) attempts.set(attempt.version, { ...attempts.get(attempt.version), ...attempt });
  }
  const latest = [...attempts.values()].sort((a, b) => b.version - a.version)[0];
  const recorded = ctx.status.training;
  if (recorded && (!latest || recorded.version > latest.version)) {
    // The Job was garbage-collected (TTL) before a version was registered: its status remains.
    return {
      version: recorded.version,
      ...(recorded.trainingHash ? { trainingHash: recorded.trainingHash } : {}),
    };
  }
  return latest;
}

function why(ctx: Context, latest: TrainingAttempt | undefined): string {
  if (!latest) return "first version";
  const request = ctx.model.spec.training.retrainRequest;
  if (request !== undefined && request !== ctx.status.lastRetrainRequest)
    return `retrainRequest "${request}"`;
  return `training inputs changed at generation ${ctx.generation}`;
}

/** Plans the Job that trains `version` (created when absent: a retry after a refusal is the same call). */
function planJob(ctx: Context, version: number, hash: string, champion: number | undefined): void {
  const { model, settings } = ctx;
  ctx.plan.apply.push(trainerRole(model, version));
  ctx.plan.create.push(
    trainingJob({
      model,
      version,
      trainingHash: hash,
      images: settings.images,
      ttlSecondsAfterFinished: settings.trainingJobTtlSeconds,
      ...(champion === undefined ? {} : { champion }),
    }),
  );
}

function startTraining(
  ctx: Context,
  hash: string,
  latest: TrainingAttempt | undefined,
  reason: string,
): void {
  const { model } = ctx;
  const version = Math.max(latest?.version ?? 0, ctx.status.latestVersion ?? 0) + 1;
  const champion = highestIn(ctx, "Production")?.version;
  planJob(ctx, version, hash, champion);
  const jobName = trainingJobName(model.metadata.name, version);
  ctx.status.training = {
    version,
    jobName,
    state: "Running",
    trainingHash: hash,
    startTime: ctx.now.toISOString(),
    ...(champion === undefined ? {} : { championVersion: champion }),
  };
  ctx.status.latestVersion = version;
  ctx.status.lastTrainedGeneration = ctx.generation;
  if (model.spec.training.retrainRequest !== undefined)
    ctx.status.lastRetrainRequest = model.spec.training.retrainRequest;
  const championText = champion === undefined ? "" : `, champion v${champion}`;
  const message = `training v${version} in Job ${jobName} (${reason}${championText})`;
  condition(ctx, "Training", "True", Reason.TrainingStarted, message);
  event(ctx, "Normal", Reason.TrainingStarted, message);
  requeueAfter(ctx, TRAINING_POLL_SECONDS);
}

/**
 * Whether the schedule fired since the last scheduled (or, before the first, any) training, with
 * no Job running; otherwise requeues for the next firing, as watches bring no event at that time.
 */
function scheduledTrainingDue(ctx: Context, latest: TrainingAttempt): boolean {
  const { schedule, timeZone } = ctx.model.spec.training;
  if (schedule === undefined) return false;
  if (latest.job && jobState(latest.job) === "Running") return false;
  const anchor =
    ctx.status.lastScheduleTime ?? ctx.status.training?.startTime ?? ctx.model.metadata.creationTimestamp;
  const next = nextScheduledTime(schedule, timeZone, anchor ? new Date(anchor) : ctx.now);
  if (next <= ctx.now) return true;
  requeueAfter(ctx, Math.ceil((next.getTime() - ctx.now.getTime()) / 1000));
  return false;
}

type TrainingStatus = NonNullable<Context["status"]["training"]>;

/**
 * The latest Job is not in the cache: finished and garbage-collected (TTL) while the operator was
 * away, in which case its stored artifact tells that it succeeded; or never created (the apiserver
 * refused it, or it was deleted), in which case it is planned again. A Job created a moment ago
 * and not cached yet is not seen here: the adapter waits for its own writes to reach the cache.
 */
function followCollectedJob(ctx: Context, version: number, training: TrainingStatus): void {
  const jobName = training.jobName;
  if (training.state === "Running" && ctx.observed.artifacts.some((a) => a.version === version)) {
    training.state = "Succeeded";
  }
  if (training.state === "Running") {
    planJob(ctx, version, training.trainingHash ?? trainingHash(ctx.model.spec), training.championVersion);
    condition(
      ctx,
      "Training",
      "True",
      Reason.TrainingPending,
      `training v${version}: Job ${jobName} is missing and no artifact was stored; creating it again`,
    );
    requeueAfter(ctx, TRAINING_POLL_SECONDS);
  } else if (training.state === "Failed") {
    const message = `training v${version} failed: ${training.message ?? "see earlier events"}; the served version is unchanged`;
    condition(ctx, "Training", "False", Reason.TrainingFailed, message);
    problem(ctx, Reason.TrainingFailed, message);
  } else {
    condition(ctx, "Training", "False", Reason.TrainingSucceeded, `v${version} trained in Job ${jobName}`);
  }
}

function followTraining(ctx: Context, attempt: TrainingAttempt): void {
  const job = attempt.job;
  const training = ctx.status.training;
  const jobName = trainingJobName(ctx.model.metadata.name, attempt.version);
  if (!job) {
    if (training?.version === attempt.version) followCollectedJob(ctx, attempt.version, training);
    return;
  }
  const state = jobState(job);
  const previous = training?.version === attempt.version ? training.state : undefined;
  const started = job.status?.startTime
    ? new Date(job.status.startTime).toISOString()
    : training?.version === attempt.version
      ? training.startTime
      : undefined;
  ctx.status.training = {
    version: attempt.version,
    jobName,
    state,
    ...(attempt.trainingHash ? { trainingHash: attempt.trainingHash } : {}),
    ...(attempt.championVersion === undefined ? {} : { championVersion: attempt.championVersion }),
    ...(started ? { startTime: started } : {}),
    ...(job.status?.completionTime
      ? { completionTime: new Date(job.status.completionTime).toISOString() }
      : {}),
  };
  if (state === "Running") {
    const active = job.status?.active ?? 0;
    const failed = job.status?.failed ?? 0;
    const retries =
      failed > 0 ? `, ${failed} failed attempt(s) of ${ctx.model.spec.training.backoffLimit + 1}` : "";
    condition(
      ctx,
      "Training",
      "True",
      Reason.TrainingRunning,
      `training v${attempt.version} in Job ${jobName}: ${active} pod(s) active${retries}`,
    );
    requeueAfter(ctx, TRAINING_POLL_SECONDS);
  } else if (state === "Failed") {
    const failure = trainerFailure(job, ctx.observed.trainingPods);
    ctx.status.training.message = failure.message.slice(0, 4096);
    const message = `training v${attempt.version} failed: ${failure.message}; the served version is unchanged`;
    condition(ctx, "Training", "False", failure.reason, message);
    problem(ctx, failure.reason, message);
    if (previous !== "Failed") event(ctx, "Warning", failure.reason, message);
  } else {
    condition(
      ctx,
      "Training",
      "False",
      Reason.TrainingSucceeded,
      `v${attempt.version} trained in Job ${jobName}`,
    );
  }
}

/**
 * Starts a Job when the training inputs differ from the latest attempt's (or nothing was trained
 * yet), superseding a Job still running for older inputs; otherwise follows the latest Job. A failed
 * attempt is not retried with unchanged inputs (the Job's backoffLimit already retried): a new
 * spec or retrainRequest starts the next one.
 */
export function trainingStep(ctx: Context): void {
  const { model } = ctx;
  ctx.plan.apply.push(trainerServiceAccount(model), trainerRoleBinding(model));
  const latest = latestAttempt(ctx);
  if (latest) ctx.status.latestVersion = Math.max(ctx.status.latestVersion ?? 0, latest.version);
  if (ctx.specProblems.length > 0) {
    if (latest) followTraining(ctx, latest);
    return;
  }
  const hash = trainingHash(model.spec);
  if (latest && latest.trainingHash === hash) {
    followTraining(ctx, latest);
    if (!scheduledTrainingDue(ctx, latest)) {
      ctx.plan.apply.push(trainerRole(model, latest.version));
      return;
    }
    ctx.status.lastScheduleTime = ctx.now.toISOString();
    const { schedule, timeZone } = model.spec.training;
    startTraining(ctx, hash, latest, `schedule "${schedule}"${timeZone ? ` in ${timeZone}` : ""}`);
    return;
  }
  if (latest?.job && jobState(latest.job) === "Running") {
    const name = latest.job.metadata?.name ?? "";
    ctx.plan.delete.push({ apiVersion: "batch/v1", kind: "Job", name });
    event(
      ctx,
      "Normal",
      Reason.TrainingSuperseded,
      `stopped Job ${name} (v${latest.version}): the training inputs changed`,
    );
  }
  startTraining(ctx, hash, latest, why(ctx, latest));
}
