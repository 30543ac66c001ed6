import type { TradingModelStatus } from "../api/types.ts";
import { type ConditionType, findCondition, Reason, setCondition, worstProblem } from "../conditions.ts";
import { liveDisplay } from "../display.ts";
import { phaseOf } from "../phase.ts";
import { isActive } from "../rollout/machine.ts";
import { type Context, condition, highestIn, newContext, type Plan, type Settings } from "./context.ts";
import { monitoringStep } from "./monitoring.ts";
import type { Observed } from "./observed.ts";
import { registryStep, rejectionStep } from "./registry.ts";
import { retentionStep } from "./retention.ts";
import { servingStep } from "./serving.ts";
import { trainingStep, validateStep } from "./training.ts";

/** What a condition says when no step had anything to report about it this time. */
const QUIET: Record<Exclude<ConditionType, "Degraded">, [reason: Reason, message: string]> = {
  Ready: [Reason.NoVersionServing, "nothing is served"],
  Training: [Reason.Idle, "no training in progress"],
  Progressing: [Reason.NoCandidate, "no version waiting to roll out"],
  Monitored: [Reason.NotServing, "alert rules are installed once a version serves"],
};

/** The status, with the message of the condition that matters most right now. */
function buildStatus(ctx: Context): TradingModelStatus {
  for (const type of Object.keys(QUIET) as (keyof typeof QUIET)[]) {
    if (!ctx.decided.has(type)) condition(ctx, type, "False", ...QUIET[type]);
  }
  const worst = worstProblem(ctx.problems);
  ctx.conditions = setCondition(
    ctx.conditions,
    worst
      ? { type: "Degraded", status: "True", ...worst }
      : { type: "Degraded", status: "False", reason: Reason.AsExpected, message: "nothing failed" },
    ctx.generation,
    ctx.now,
  );
  const stable = highestIn(ctx, "Production")?.version;
  const rollout = ctx.status.rollout;
  const active = isActive(rollout) ? rollout : undefined;
  const staged = highestIn(ctx, "Staging")?.version;
  const candidate =
    active?.version ??
    (staged !== undefined && (stable === undefined || staged > stable) ? staged : undefined);
  const headline = (["Degraded", "Progressing", "Training", "Ready"] as const)
    .map((type) => findCondition(ctx.conditions, type))
    .find((c) => c?.status === "True");
  return {
    ...ctx.status,
    phase: phaseOf(ctx.conditions),
    observedGeneration: ctx.generation,
    conditions: ctx.conditions,
    ...(stable === undefined ? {} : { stableVersion: stable }),
    ...(candidate === undefined ? {} : { candidateVersion: candidate }),
    ...(active ? { canaryWeight: active.weight ?? 0, currentStep: active.stepIndex } : {}),
    message: (headline ?? findCondition(ctx.conditions, "Ready"))?.message ?? "",
    ...(ctx.status.metrics ? { display: liveDisplay(ctx.status.metrics) } : {}),
  };
}

/**
 * One reconcile of a TradingModel, as a pure function: from everything observed to the objects to
 * apply, create and delete, the status to write and the events to emit. The steps run in a fixed
 * order, each a plain function over the shared context; progressive delivery adds its strategies
 * by replacing the serving step.
 */
export function decide(observed: Observed, settings: Settings): Plan {
  const ctx = newContext(observed, settings);
  validateStep(ctx);
  trainingStep(ctx);
  registryStep(ctx);
  servingStep(ctx);
  rejectionStep(ctx);
  retentionStep(ctx);
  monitoringStep(ctx);
  ctx.plan.status = buildStatus(ctx);
  return ctx.plan;
}
