import { isDeepStrictEqual } from "node:util";
import { type ArtifactFile, parseArtifact } from "../../../predictor/src/artifact.ts";
import type { ModelVersionStatus } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { versionDisplay } from "../display.ts";
import { type Champion, evaluateGate } from "../gate.ts";
import { modelVersion, withStage } from "../manifests/model-version.ts";
import { artifactConfigMapName, modelVersionName } from "../manifests/names.ts";
import { type Context, condition, event, problem, requeueAfter, versionRef } from "./context.ts";
import { attemptOf, championMetricsFromTrainer } from "./observed.ts";

/** A finished Job's artifact ConfigMap may reach the cache a moment after the Job's status. */
const ARTIFACT_WAIT_SECONDS = 5;

function champion(
  ctx: Context,
  championVersion: number | undefined,
  fromTrainer: ReturnType<typeof championMetricsFromTrainer>,
): Champion | undefined {
  if (championVersion === undefined) return undefined;
  if (fromTrainer) return { version: championVersion, ...fromTrainer, sameHoldout: true };
  const metrics = ctx.versions.get(championVersion)?.status.metrics;
  return metrics ? { version: championVersion, metrics, sameHoldout: false } : undefined;
}

function readArtifact(ctx: Context, version: number): ArtifactFile | undefined {
  const name = artifactConfigMapName(ctx.model.metadata.name, version);
  const stored = ctx.observed.artifacts.find((a) => a.version === version);
  if (stored?.text === undefined) {
    condition(
      ctx,
      "Training",
      "False",
      Reason.ArtifactPending,
      `v${version} trained; waiting for ConfigMap ${name}`,
    );
    requeueAfter(ctx, ARTIFACT_WAIT_SECONDS);
    return undefined;
  }
  try {
    return parseArtifact(stored.text);
  } catch (err) {
    const message = `artifact of v${version} in ConfigMap ${name} is unusable: ${(err as Error).message}`;
    problem(ctx, Reason.ArtifactInvalid, message);
    event(ctx, "Warning", Reason.ArtifactInvalid, message);
    return undefined;
  }
}

/**
 * Writes `status.display` where it is missing or stale: on versions registered before it existed,
 * so every version prints its metrics, not only those registered since.
 */
function displayStep(ctx: Context): void {
  for (const view of ctx.versions.values()) {
    if (!view.status.metrics) continue;
    const display = versionDisplay(view.status.metrics);
    if (isDeepStrictEqual(view.status.display, display)) continue;
    view.status = { ...view.status, display };
    ctx.plan.versionStatus.push({
      name: modelVersionName(ctx.model.metadata.name, view.version),
      status: view.status,
    });
  }
}

/**
 * Registers the latest successfully trained version as a ModelVersion and judges it with the
 * offline gate: Staging when it passes (the serving step rolls it out), Rejected with its numbers
 * when it does not (the stable version keeps serving untouched).
 */
export function registryStep(ctx: Context): void {
  displayStep(ctx);
  const latest = ctx.status.training;
  if (latest?.state !== "Succeeded" || ctx.versions.has(latest.version)) return;
  const file = readArtifact(ctx, latest.version);
  if (!file) return;
  const { model } = ctx;
  const championVersion = latest.championVersion;
  const text = ctx.observed.artifacts.find((a) => a.version === latest.version)?.text ?? "";
  const manifest = modelVersion({
    model,
    version: latest.version,
    artifact: file.artifact,
    artifactSha256: file.sha256,
    artifactBytes: Buffer.byteLength(text, "utf8"),
    trainingHash: latest.trainingHash ?? "",
    ...(championVersion === undefined ? {} : { parentVersion: championVersion }),
  });
  ctx.plan.create.push(manifest);

  // The Job may be gone already (TTL), and the trainer's summary with it; the artifact is not.
  const job = ctx.observed.jobs.find((j) => attemptOf(j)?.version === latest.version);
  const fromTrainer = job ? championMetricsFromTrainer(job, ctx.observed.trainingPods) : undefined;
  const opponent = champion(ctx, championVersion, fromTrainer);
  const verdict = evaluateGate(model.spec.training.gate, file.artifact.metrics, opponent);
  const base: ModelVersionStatus = {
    metrics: file.artifact.metrics,
    display: versionDisplay(file.artifact.metrics),
    gate: { passed: verdict.passed, message: verdict.message },
    ...(opponent
      ? {
          championComparison: {
            championVersion: opponent.version,
            metrics: opponent.metrics,
            ...(opponent.strategyComparison ? { strategyComparison: opponent.strategyComparison } : {}),
          },
        }
      : {}),
  };
  const stage = verdict.passed ? "Staging" : "Rejected";
  const reason = verdict.passed ? Reason.GatePassed : Reason.GateFailed;
  const status = withStage(base, { stage, reason, message: verdict.message }, ctx.now);
  ctx.versions.set(latest.version, { version: latest.version, spec: manifest.spec, status });
  ctx.plan.versionStatus.push({ name: modelVersionName(model.metadata.name, latest.version), status });

  const message = `v${latest.version} ${verdict.message}`;
  if (verdict.passed) {
    event(ctx, "Normal", Reason.CandidateAccepted, message, versionRef(ctx, latest.version));
  } else {
    event(ctx, "Warning", Reason.CandidateRejected, message, versionRef(ctx, latest.version));
  }
}

/** Keeps the conditions saying why the latest version is not serving, on every later reconcile too. */
export function rejectionStep(ctx: Context): void {
  const latest = ctx.status.latestVersion;
  const view = latest === undefined ? undefined : ctx.versions.get(latest);
  if (view?.status.stage !== "Rejected") return;
  const last = view.status.stageHistory?.at(-1);
  const message = `v${view.version} rejected: ${last?.message ?? "see its ModelVersion"}`;
  if (last?.reason === Reason.Aborted) {
    // The user's own decision: reported, but nothing is wrong.
    condition(ctx, "Training", "False", Reason.RolloutAborted, message);
    return;
  }
  const reason =
    last?.reason === Reason.RolloutFailed || last?.reason === Reason.RolledBack
      ? last.reason
      : Reason.CandidateRejected;
  condition(ctx, "Training", "False", reason, message);
  problem(ctx, reason, message);
}
