import type { TradingModelSpec } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { predictorDeploymentName, versionLabel } from "../manifests/names.ts";
import { predictorAutoscaler, predictorDeployment, predictorService } from "../manifests/predictor.ts";
import {
  type Context,
  condition,
  event,
  highestIn,
  problem,
  requeueAfter,
  setStage,
  type VersionView,
  versionRef,
} from "./context.ts";
import { deploymentRollout, trackOf } from "./observed.ts";

/** A rolling update is watched closely: pods turn ready within seconds. */
const ROLLOUT_POLL_SECONDS = 5;

const ANALYSIS_CHECKS = ["accuracy", "latencyP95Ms", "errorRate", "drift"] as const;

/**
 * The delivery settings this release accepts but does not act on yet, as the user wrote them;
 * settings equal to the schema's defaults cannot be told from omitted ones and are left out.
 */
export function unimplementedDelivery({ rollout, analysis }: TradingModelSpec): string[] {
  const ignored: string[] = [];
  if (rollout.strategy === "BlueGreen") ignored.push("rollout.strategy BlueGreen");
  else if (rollout.canary) ignored.push(`rollout.strategy Canary (steps ${rollout.canary.steps.join(",")})`);
  if (rollout.shadow) ignored.push(`rollout.shadow (${rollout.shadow.duration})`);
  if (rollout.traffic === "GatewayAPI") ignored.push("rollout.traffic GatewayAPI");
  if (rollout.paused) ignored.push("rollout.paused");
  const checks = ANALYSIS_CHECKS.filter((check) => analysis[check] !== undefined);
  if (checks.length > 0) ignored.push(`analysis (${checks.join(", ")})`);
  return ignored;
}

/** How a version goes out, and which of the user's delivery settings it does not honour. */
function rollingUpdateNote(spec: TradingModelSpec): string {
  const ignored = unimplementedDelivery(spec);
  if (ignored.length === 0) return "with a rolling update";
  const list = ignored.length === 1 ? ignored[0] : `${ignored.slice(0, -1).join(", ")} and ${ignored.at(-1)}`;
  const verb = ignored.length === 1 ? "is" : "are";
  return `with a rolling update; ${list} ${verb} not implemented in this release`;
}

function applyServingObjects(ctx: Context, target: VersionView): void {
  const { model, observed } = ctx;
  ctx.plan.apply.push(
    predictorDeployment({
      model,
      version: target.spec,
      track: "stable",
      image: ctx.settings.images.predictor,
    }),
    predictorService(model),
  );
  const autoscaler = predictorAutoscaler(model);
  if (autoscaler) ctx.plan.apply.push(autoscaler);
  else if (observed.autoscalerExists) {
    ctx.plan.delete.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      name: predictorDeploymentName(model.metadata.name, "stable"),
    });
  }
}

/**
 * The first cut of serving, with no progressive delivery: the newest version that passed the gate
 * replaces the stable one by the Deployment's rolling update (maxUnavailable 0), and is promoted
 * to Production once every pod of it is available. The progressive-delivery strategies (canary,
 * blue-green) replace this step and reuse the builders and the context.
 */
export function directServingStep(ctx: Context): void {
  const stable = highestIn(ctx, "Production");
  const staged = highestIn(ctx, "Staging");
  const deployment = ctx.observed.deployments.find((d) => trackOf(d) === "stable");
  const rollout = deployment ? deploymentRollout(deployment) : undefined;
  const pods = rollout ? `${rollout.available}/${rollout.desired} pods available` : "no pods yet";
  let candidate = staged && (!stable || staged.version > stable.version) ? staged : undefined;
  if (candidate && stable && rollout?.stalled && rollout.version === candidate.version) {
    // Old pods kept serving throughout (maxUnavailable 0); the Deployment goes back to them.
    const message = `v${candidate.version} did not become available within the Deployment's progress deadline (${pods}); back to v${stable.version}`;
    setStage(ctx, candidate.version, "Rejected", Reason.RolloutFailed, message);
    event(ctx, "Warning", Reason.RolloutFailed, message, versionRef(ctx, candidate.version));
    problem(ctx, Reason.RolloutFailed, message);
    candidate = undefined;
  }
  const target = candidate ?? stable;
  if (!target) {
    const latest = ctx.status.latestVersion;
    const message =
      latest === undefined
        ? "no version trained yet"
        : `no version has passed the gate yet (latest v${latest})`;
    condition(ctx, "Ready", "False", Reason.NoVersionServing, message);
    condition(ctx, "Progressing", "False", Reason.NoCandidate, message);
    return;
  }
  applyServingObjects(ctx, target);
  const onTarget = rollout?.version === target.version;

  if (candidate) {
    const how = rollingUpdateNote(ctx.model.spec);
    if (rollout && onTarget && rollout.complete) {
      const message = `rolled out v${candidate.version} (${pods}) ${how}`;
      setStage(ctx, candidate.version, "Production", Reason.RolledOut, message);
      event(ctx, "Normal", Reason.VersionPromoted, message, versionRef(ctx, candidate.version));
      if (stable) {
        setStage(ctx, stable.version, "Archived", Reason.Replaced, `replaced by v${candidate.version}`);
        event(
          ctx,
          "Normal",
          Reason.VersionArchived,
          `v${stable.version} replaced by v${candidate.version}`,
          versionRef(ctx, stable.version),
        );
      }
      condition(ctx, "Progressing", "False", Reason.RolloutComplete, message);
    } else {
      const updated =
        rollout && onTarget
          ? `${rollout.updated}/${rollout.desired} updated, ${pods}`
          : "Deployment not updated yet";
      const from = stable ? ` replacing v${stable.version}` : "";
      condition(
        ctx,
        "Progressing",
        "True",
        Reason.RollingOut,
        `rolling out v${candidate.version}${from} (${updated}) ${how}`,
      );
      requeueAfter(ctx, ROLLOUT_POLL_SECONDS);
    }
  } else {
    condition(ctx, "Progressing", "False", Reason.RolloutComplete, `v${target.version} serves all traffic`);
  }

  if (rollout?.stalled && candidate) {
    const message = `Deployment ${deployment?.metadata?.name} exceeded its progress deadline: ${pods}`;
    problem(ctx, Reason.RolloutStalled, message);
  }
  const production = highestIn(ctx, "Production");
  if (!production) {
    condition(
      ctx,
      "Ready",
      "False",
      Reason.NoVersionServing,
      `v${target.version} is not available yet: ${pods}`,
    );
  } else if (rollout && rollout.available > 0) {
    condition(ctx, "Ready", "True", Reason.Serving, `${versionLabel(production.version)} serving: ${pods}`);
  } else {
    const message = `${versionLabel(production.version)} has no available predictor pod (${pods})`;
    condition(ctx, "Ready", "False", Reason.PredictorUnavailable, message);
    problem(ctx, Reason.PredictorUnavailable, message);
  }
}
