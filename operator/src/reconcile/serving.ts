import type { TradingModelSpec } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { versionLabel } from "../manifests/names.ts";
import { replicasHandover } from "../manifests/predictor.ts";
import {
  candidateTrack,
  isActive,
  type RolloutDecision,
  type RolloutInput,
  type RolloutState,
} from "../rollout/machine.ts";
import { decideRollout, hasShadowPhase } from "../rollout/shadow.ts";
import { replicasRouter } from "../traffic/replicas.ts";
import type { CandidateTrack, Split, TrafficRouter } from "../traffic/router.ts";
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
import { type DeploymentRollout, deploymentRollout, trackOf } from "./observed.ts";

/** A rolling update is watched closely: pods turn ready within seconds. */
const ROLLOUT_POLL_SECONDS = 5;

/**
 * The delivery settings this release accepts but does not act on yet, as the user wrote them;
 * settings equal to the schema's defaults cannot be told from omitted ones and are left out.
 */
export function unimplementedDelivery({ rollout }: TradingModelSpec): string[] {
  const ignored: string[] = [];
  if (rollout.traffic === "GatewayAPI")
    ignored.push("rollout.traffic GatewayAPI (traffic split by Replicas)");
  return ignored;
}

function notImplementedNote(spec: TradingModelSpec): string {
  const ignored = unimplementedDelivery(spec);
  if (ignored.length === 0) return "";
  const list = ignored.length === 1 ? ignored[0] : `${ignored.slice(0, -1).join(", ")} and ${ignored.at(-1)}`;
  return `; ${list} ${ignored.length === 1 ? "is" : "are"} not implemented in this release`;
}

/** The traffic provider the spec names; Gateway API weights come as their own file. */
function routerFor(_spec: TradingModelSpec): TrafficRouter {
  return replicasRouter;
}

const stableDeployment = (ctx: Context) => ctx.observed.deployments.find((d) => trackOf(d) === "stable");

function podsText(rollout: DeploymentRollout | undefined) {
  return rollout ? `${rollout.available}/${rollout.desired} pods available` : "no pods yet";
}

/**
 * Applies what the router wants for a split and returns it. A Deployment applied without the
 * count the operator's applies last owned (autoscaling added) has that count handed over first,
 * so the apply does not remove it (it would drop to one pod until the HPA's first sync).
 */
function route(ctx: Context, split: Split) {
  const routing = routerFor(ctx.model.spec).route(split);
  for (const object of routing.apply) {
    const live = ctx.observed.deployments.find((d) => d.metadata?.name === object.metadata?.name);
    const handover = replicasHandover(live, object, ctx.settings.fieldManager);
    if (handover) ctx.plan.handover.push(handover);
  }
  ctx.plan.apply.push(...routing.apply);
  ctx.plan.create.push(...routing.create);
  ctx.plan.delete.push(...routing.delete);
  return routing;
}

function split(
  ctx: Context,
  stable: VersionView,
  stableFloor: number | undefined,
  candidate?: { version: VersionView; weight: number; track: CandidateTrack },
): Split {
  return {
    model: ctx.model,
    image: ctx.settings.images.predictor,
    stable: stable.spec,
    ...(candidate
      ? { candidate: { version: candidate.version.spec, weight: candidate.weight, track: candidate.track } }
      : {}),
    deployments: ctx.observed.deployments,
    autoscaledTracks: ctx.observed.autoscaledTracks,
    ...(stableFloor === undefined ? {} : { stableFloor }),
  };
}

/**
 * The version a rollout should bring in: the newest that passed the gate and is newer than stable,
 * or the archived one spec.rollout.rollbackToVersion names (once per value). Any other candidate
 * still waiting is superseded, so exactly one version rolls out at a time.
 */
function candidateFor(ctx: Context, stable: VersionView | undefined): VersionView | undefined {
  const wanted = ctx.model.spec.rollout.rollbackToVersion;
  if (wanted === undefined) {
    delete ctx.status.rollbackToVersionHandled;
  } else if (ctx.status.rollbackToVersionHandled !== wanted) {
    const target = ctx.versions.get(wanted);
    ctx.status.rollbackToVersionHandled = wanted;
    if (target && target.version !== stable?.version && target.status.stage !== "Rejected") {
      setStage(ctx, wanted, "Staging", Reason.RolledBackTo, "requested by spec.rollout.rollbackToVersion");
      event(
        ctx,
        "Normal",
        Reason.RolledBackTo,
        `rolling back to v${wanted} (spec.rollout.rollbackToVersion) through the ${ctx.model.spec.rollout.strategy} strategy, without retraining`,
        versionRef(ctx, wanted),
      );
    } else {
      const why = !target
        ? "no such version is kept"
        : target.version === stable?.version
          ? "it is the stable version already"
          : "it was rejected";
      problem(ctx, Reason.InvalidSpec, `spec.rollout.rollbackToVersion ${wanted}: ${why}; nothing done`);
    }
  }
  if (wanted !== undefined && ctx.status.rollbackToVersionHandled === wanted && !ctx.versions.has(wanted)) {
    problem(
      ctx,
      Reason.InvalidSpec,
      `spec.rollout.rollbackToVersion ${wanted}: no such version is kept; nothing done`,
    );
  }
  const staged = [...ctx.versions.values()]
    .filter((v) => v.status.stage === "Staging")
    .sort((a, b) => {
      // A rollback target wins over any other waiting version; otherwise the newest wins.
      const rank = (v: VersionView) =>
        v.status.stageHistory?.at(-1)?.reason === Reason.RolledBackTo ? 1 : 0;
      return rank(b) - rank(a) || b.version - a.version;
    });
  const [chosen, ...older] = staged.filter(
    (v) =>
      !stable || v.version > stable.version || v.status.stageHistory?.at(-1)?.reason === Reason.RolledBackTo,
  );
  for (const v of older) {
    const message = `superseded by v${chosen?.version} before its rollout finished`;
    setStage(ctx, v.version, "Rejected", Reason.Superseded, message);
    event(ctx, "Normal", Reason.Superseded, `v${v.version} ${message}`, versionRef(ctx, v.version));
  }
  return chosen;
}

/**
 * Serving with nothing to compare against: the first version goes out as stable by a rolling
 * update and is promoted once all its pods are available; with no candidate, stable serves alone
 * (and a finished rollout's canary pods go).
 */
function serveStable(ctx: Context, stable: VersionView | undefined, first: VersionView | undefined): void {
  const target = first ?? stable;
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
  route(ctx, split(ctx, target, undefined));
  const deployment = stableDeployment(ctx);
  const rollout = deployment ? deploymentRollout(deployment) : undefined;
  const pods = podsText(rollout);
  const onTarget = rollout?.version === target.version;
  if (first) {
    if (rollout && onTarget && rollout.complete) {
      const message = `rolled out v${first.version} (${pods})`;
      setStage(ctx, first.version, "Production", Reason.RolledOut, message);
      event(ctx, "Normal", Reason.VersionPromoted, message, versionRef(ctx, first.version));
      condition(ctx, "Progressing", "False", Reason.RolloutComplete, message);
    } else if (rollout?.stalled && onTarget) {
      const message = `v${first.version} did not become available within the Deployment's progress deadline (${pods})`;
      condition(ctx, "Progressing", "False", Reason.RolloutStalled, message);
      problem(ctx, Reason.RolloutStalled, message);
    } else {
      const updated =
        rollout && onTarget
          ? `${rollout.updated}/${rollout.desired} updated, ${pods}`
          : "Deployment not updated yet";
      condition(ctx, "Progressing", "True", Reason.RollingOut, `rolling out v${first.version} (${updated})`);
      requeueAfter(ctx, ROLLOUT_POLL_SECONDS);
    }
  } else if (!isActive(ctx.status.rollout)) {
    const ended = ctx.status.rollout;
    condition(
      ctx,
      "Progressing",
      "False",
      ended?.phase === "RolledBack"
        ? Reason.RolledBack
        : ended?.phase === "Aborted"
          ? Reason.RolloutAborted
          : Reason.RolloutComplete,
      ended?.version === undefined || ended.phase === "Succeeded"
        ? `v${target.version} serves all traffic`
        : `v${target.version} serves all traffic; ${ended.message ?? ""}`,
    );
  }
  readiness(ctx, rollout);
}

function readiness(ctx: Context, rollout: DeploymentRollout | undefined): void {
  const production = highestIn(ctx, "Production");
  const pods = podsText(rollout);
  if (!production) {
    condition(ctx, "Ready", "False", Reason.NoVersionServing, `no version is in production yet: ${pods}`);
  } else if (rollout && rollout.available > 0) {
    condition(ctx, "Ready", "True", Reason.Serving, `${versionLabel(production.version)} serving: ${pods}`);
  } else {
    const message = `${versionLabel(production.version)} has no available predictor pod (${pods})`;
    condition(ctx, "Ready", "False", Reason.PredictorUnavailable, message);
    problem(ctx, Reason.PredictorUnavailable, message);
  }
}

/**
 * Whether a rollout in this state runs candidate pods: a preview always, a shadow while its phase
 * runs (not once a Shadow rollout promotes), a canary at a weight above 0.
 */
function runsCandidate(state: RolloutState, track: CandidateTrack, weight: number): boolean {
  if (track === "preview") return true;
  if (track === "shadow") return state.shadowPhase === "Running" && state.phase !== "Promoting";
  return weight > 0;
}

/** How far the stable Deployment has moved to the candidate: a promotion's progress. */
function promotionProgress(
  stable: DeploymentRollout | undefined,
  candidate: number,
): Pick<RolloutInput, "stableOnCandidate" | "stableReadyOnCandidate"> {
  const onCandidate = stable?.version === candidate ? stable : undefined;
  return {
    stableOnCandidate: Boolean(onCandidate?.complete),
    stableReadyOnCandidate: onCandidate ? Math.min(onCandidate.updated, onCandidate.available) : 0,
  };
}

/** Carries the strategy's decision out: traffic, stages, events, conditions, live metrics. */
function progressive(ctx: Context, stable: VersionView, candidate: VersionView): void {
  const { spec } = ctx.model;
  const router = routerFor(spec);
  const previous = ctx.status.rollout;
  const strategy = spec.rollout.strategy;
  const sameRollout =
    isActive(previous) && previous?.version === candidate.version && previous.strategy === strategy;
  // What is in effect is read against the split the previous reconcile asked for.
  const askedTrack = candidateTrack(
    sameRollout && previous
      ? previous
      : { strategy, ...(hasShadowPhase(spec) ? { shadowPhase: "Running" } : {}) },
  );
  const askedWeight = sameRollout ? (previous?.desiredWeight ?? 0) : 0;
  const asked = split(
    ctx,
    stable,
    sameRollout ? previous?.stableReplicas : undefined,
    sameRollout && previous && runsCandidate(previous, askedTrack, askedWeight)
      ? {
          version: candidate,
          weight: askedTrack === "canary" ? Math.min(askedWeight, 99) : askedWeight,
          track: askedTrack,
        }
      : undefined,
  );
  const traffic = router.inEffect(asked, router.route(asked));
  const stableRollout = stableDeployment(ctx);
  const stableState = stableRollout ? deploymentRollout(stableRollout) : undefined;
  const candidateState = ctx.observed.deployments.find((d) => trackOf(d) === askedTrack);
  const input = {
    spec,
    state: previous,
    stable: stable.version,
    candidate: candidate.version,
    traffic,
    ...promotionProgress(stableState, candidate.version),
    candidateStalled: Boolean(candidateState && deploymentRollout(candidateState).stalled),
    ...(ctx.observed.measurement ? { measurement: ctx.observed.measurement } : {}),
    now: ctx.now,
  };
  const decision: RolloutDecision = decideRollout(input);
  const state = decision.state;
  ctx.status.rollout = state;

  const promoting = decision.stableVersion === candidate.version;
  const stableTarget = promoting ? candidate : stable;
  const live = isActive(state);
  const track = candidateTrack(state);
  let candidateWeight = 0;
  if (live && track !== "canary") candidateWeight = decision.weight;
  else if (live)
    candidateWeight = promoting ? ((state.steps ?? []).filter((w) => w < 100).at(-1) ?? 0) : decision.weight;
  const routing = route(
    ctx,
    split(
      ctx,
      stableTarget,
      sameRollout ? previous?.stableReplicas : undefined,
      live && runsCandidate(state, track, candidateWeight)
        ? { version: candidate, weight: candidateWeight, track }
        : undefined,
    ),
  );
  state.minWeight = routing.minWeight;
  state.stableReplicas = routing.stableReplicas;
  state.candidateReplicas = routing.candidateReplicas;

  for (const change of decision.stages) {
    setStage(ctx, change.version, change.stage, change.reason, change.message);
  }
  for (const e of decision.events)
    event(ctx, e.type, e.reason, e.message, versionRef(ctx, candidate.version));
  if (decision.requeueAfterSeconds !== undefined) requeueAfter(ctx, decision.requeueAfterSeconds);

  const latest = state.analysis;
  if (latest && state.lastAnalysisAt) {
    const value = (check: string) => latest.find((r) => r.check === check && r.value !== undefined);
    const accuracy = value("accuracy");
    const p95 = value("latencyP95Ms");
    const errors = value("errorRate");
    ctx.status.metrics = {
      ...(accuracy?.value === undefined ? {} : { accuracy: accuracy.value }),
      ...(accuracy?.samples === undefined ? {} : { samples: accuracy.samples }),
      ...(p95?.value === undefined ? {} : { latencyP95Ms: p95.value }),
      ...(errors?.value === undefined ? {} : { errorRate: errors.value }),
      measuredAt: state.lastAnalysisAt,
    };
  }

  const note = notImplementedNote(spec);
  if (isActive(state)) {
    const reason = state.phase === "Paused" ? Reason.RolloutPaused : Reason.RollingOut;
    condition(
      ctx,
      "Progressing",
      "True",
      reason,
      `${state.message ?? `rolling out v${candidate.version}`}${note}`,
    );
  } else if (state.phase === "Succeeded") {
    condition(ctx, "Progressing", "False", Reason.RolloutComplete, `${state.message}${note}`);
  } else {
    const reason = state.phase === "Aborted" ? Reason.RolloutAborted : Reason.RolledBack;
    condition(ctx, "Progressing", "False", reason, state.message ?? "");
  }
  readiness(ctx, stableState);
}

/**
 * Serving: the first version by a rolling update; every later one through its strategy, judged
 * live against stable and rolled back by itself on a breach.
 */
export function servingStep(ctx: Context): void {
  const stable = highestIn(ctx, "Production");
  const candidate = candidateFor(ctx, stable);
  if (!stable || !candidate) {
    serveStable(ctx, stable, stable ? undefined : candidate);
    return;
  }
  progressive(ctx, stable, candidate);
}
