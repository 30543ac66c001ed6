import { Reason } from "../conditions.ts";
import { artifactConfigMapName, modelVersionName, trainingJobName } from "../manifests/names.ts";
import { type Context, event, highestIn, setStage } from "./context.ts";
import { jobVersion } from "./observed.ts";

/**
 * Keeps the newest `versionHistoryLimit` versions and deletes older ones with their artifacts and
 * Jobs, never the stable version, the candidate or the version in training. Artifacts of attempts
 * that never became a version (superseded or failed) go too. Staged versions overtaken by a newer
 * one before they were rolled out are archived.
 */
export function retentionStep(ctx: Context): void {
  const name = ctx.model.metadata.name;
  const stable = highestIn(ctx, "Production")?.version;
  const candidate = highestIn(ctx, "Staging")?.version;
  for (const view of ctx.versions.values()) {
    if (view.status.stage === "Staging" && candidate !== undefined && view.version < candidate) {
      setStage(
        ctx,
        view.version,
        "Archived",
        Reason.Superseded,
        `v${candidate} passed the gate before v${view.version} was rolled out`,
      );
    }
  }
  const latest = ctx.status.latestVersion;
  const kept = new Set([stable, candidate, latest].filter((v): v is number => v !== undefined));
  const newestFirst = [...ctx.versions.keys()].sort((a, b) => b - a);
  for (const v of newestFirst.slice(0, ctx.model.spec.versionHistoryLimit)) kept.add(v);

  const pruned = newestFirst.filter((v) => !kept.has(v));
  const jobVersions = new Set(ctx.observed.jobs.map(jobVersion));
  for (const v of pruned) {
    ctx.versions.delete(v);
    ctx.plan.delete.push({
      apiVersion: "trading.mlops.dev/v1alpha1",
      kind: "ModelVersion",
      name: modelVersionName(name, v),
    });
    if (jobVersions.has(v))
      ctx.plan.delete.push({ apiVersion: "batch/v1", kind: "Job", name: trainingJobName(name, v) });
  }
  // Pruned versions are gone from the registry by now, like attempts that never registered.
  const unregistered = (v: number) =>
    !kept.has(v) && !ctx.versions.has(v) && latest !== undefined && v < latest;
  const orphans = ctx.observed.artifacts.filter((a) => unregistered(a.version));
  for (const a of orphans) {
    ctx.plan.delete.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: artifactConfigMapName(name, a.version),
    });
  }
  if (pruned.length > 0) {
    const list = pruned.map((v) => `v${v}`).join(", ");
    const limit = ctx.model.spec.versionHistoryLimit;
    event(
      ctx,
      "Normal",
      Reason.VersionsPruned,
      `deleted ${list} and their artifacts (versionHistoryLimit ${limit})`,
    );
  }
}
