import type { TradingModelStatus } from "../api/types.ts";
import { type ConditionType, findCondition } from "../conditions.ts";
import { phaseOf } from "../phase.ts";
import { type Context, condition, highestIn, newContext, type Plan, type Settings } from "./context.ts";
import { monitoringStep } from "./monitoring.ts";
import type { Observed } from "./observed.ts";
import { registryStep, rejectionStep } from "./registry.ts";
import { retentionStep } from "./retention.ts";
import { directServingStep } from "./serving.ts";
import { trainingStep, validateStep } from "./training.ts";

/** What a condition says when no step had anything to report about it this time. */
const QUIET: Record<ConditionType, [reason: string, message: string]> = {
  Ready: ["NoVersionServing", "nothing is served"],
  Training: ["Idle", "no training in progress"],
  Progressing: ["NoCandidate", "no version waiting to roll out"],
  Degraded: ["AsExpected", "nothing failed"],
  Monitored: ["NotServing", "alert rules are installed once a version serves"],
};

/** The status, with the message of the condition that matters most right now. */
function buildStatus(ctx: Context): TradingModelStatus {
  for (const type of Object.keys(QUIET) as ConditionType[]) {
    if (!ctx.decided.has(type)) condition(ctx, type, "False", ...QUIET[type]);
  }
  const stable = highestIn(ctx, "Production")?.version;
  const candidate = highestIn(ctx, "Staging")?.version;
  const headline = (["Degraded", "Progressing", "Training", "Ready"] as const)
    .map((type) => findCondition(ctx.conditions, type))
    .find((c) => c?.status === "True");
  return {
    ...ctx.status,
    phase: phaseOf(ctx.conditions),
    observedGeneration: ctx.generation,
    conditions: ctx.conditions,
    ...(stable === undefined ? {} : { stableVersion: stable }),
    ...(candidate === undefined || (stable !== undefined && candidate < stable)
      ? {}
      : { candidateVersion: candidate }),
    message: (headline ?? findCondition(ctx.conditions, "Ready"))?.message ?? "",
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
  rejectionStep(ctx);
  directServingStep(ctx);
  retentionStep(ctx);
  monitoringStep(ctx);
  ctx.plan.status = buildStatus(ctx);
  return ctx.plan;
}
