import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sameJson } from "../controller/reconciler.ts";
import { measurementDue } from "../rollout/machine.ts";
import { metrics, storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import { jobState, jobVersion } from "./observed.ts";

/**
 * Random histories of a model's life (trainings that pass, fail the gate or crash, rollouts that
 * finish or stall, spec edits, Jobs collected by TTL, reconciles at any point) against the
 * promises users rely on, checked after every reconcile.
 */

type Step =
  | { kind: "reconcile" }
  | { kind: "trainingSucceeds"; accuracy: number; championAccuracy: number }
  | { kind: "trainingFails"; exitCode: 1 | 2 | 3 }
  | { kind: "rolloutCompletes" }
  | { kind: "rolloutStalls" }
  | { kind: "retrain"; token: string }
  | { kind: "editServing"; replicas: number }
  | { kind: "jobsCollected" }
  | { kind: "measured"; accuracy: number }
  | {
      kind: "control";
      field: "paused" | "promoteVersion" | "abortVersion" | "rollbackToVersion";
      version: number;
    };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: "reconcile" as const }),
  fc.record({
    kind: fc.constant("trainingSucceeds" as const),
    accuracy: fc.double({ min: 0.45, max: 0.6, noNaN: true }),
    championAccuracy: fc.double({ min: 0.45, max: 0.6, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("trainingFails" as const),
    exitCode: fc.constantFrom(1 as const, 2 as const, 3 as const),
  }),
  fc.constant({ kind: "rolloutCompletes" as const }),
  fc.constant({ kind: "rolloutStalls" as const }),
  fc.record({ kind: fc.constant("retrain" as const), token: fc.string({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("editServing" as const), replicas: fc.integer({ min: 1, max: 4 }) }),
  fc.constant({ kind: "jobsCollected" as const }),
  fc.record({
    kind: fc.constant("measured" as const),
    accuracy: fc.double({ min: 0.3, max: 0.7, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("control" as const),
    field: fc.constantFrom(
      "paused" as const,
      "promoteVersion" as const,
      "abortVersion" as const,
      "rollbackToVersion" as const,
    ),
    version: fc.integer({ min: 1, max: 4 }),
  }),
);

function runningJobVersion(world: World): number | undefined {
  const running = world.jobs.filter((j) => jobState(j) === "Running");
  return running.length === 1 ? jobVersion(running[0] as (typeof running)[number]) : undefined;
}

function apply(world: World, s: Step): void {
  const running = runningJobVersion(world);
  switch (s.kind) {
    case "reconcile":
      break;
    case "trainingSucceeds":
      if (running !== undefined) {
        world.trainingSucceeds(
          running,
          metrics({ directionalAccuracy: s.accuracy }),
          metrics({ directionalAccuracy: s.championAccuracy }),
        );
      }
      break;
    case "trainingFails":
      if (running !== undefined) world.trainingFails(running, s.exitCode, `exit ${s.exitCode}`);
      break;
    case "rolloutCompletes":
      world.rolloutCompletes();
      break;
    case "rolloutStalls":
      world.rolloutStalls();
      break;
    case "retrain":
      world.editSpec((spec) => {
        spec.training.retrainRequest = s.token;
      });
      break;
    case "editServing":
      world.editSpec((spec) => {
        spec.serving.replicas = s.replicas;
      });
      break;
    case "jobsCollected":
      world.jobs = world.jobs.filter((j) => jobState(j) === "Running");
      world.pods = [];
      break;
    case "measured": {
      // What Prometheus would say now, if the rollout asked (the shell asks only when one is due).
      const due = measurementDue(world.model, world.now);
      if (due) {
        const value = (v: number) => ({ value: v });
        world.measurement = {
          version: due.version,
          measuredAt: world.now.toISOString(),
          window: due.window,
          candidate: {
            feedback: value(1000),
            feedbackHits: value(Math.round(1000 * s.accuracy)),
            requests: value(5000),
            errors: value(0),
            latencyP95Seconds: value(0.003),
            psiMax: value(0.01),
            shadowCompared: value(1000),
            shadowSignAgreements: value(990),
            shadowAbsDiffSum: value(0.1),
            strategyOutcomes: value(1000),
            strategyGains: value(s.accuracy),
            strategyLosses: value(1 - s.accuracy),
          },
        };
      }
      world.now = new Date(world.now.getTime() + 30_000);
      break;
    }
    case "control":
      world.editSpec((spec) => {
        if (s.field === "paused") spec.rollout.paused = !spec.rollout.paused;
        else spec.rollout[s.field] = s.version;
      });
      break;
  }
}

function checkPromises(world: World, productionBefore: number[]): void {
  const plan = world.last;
  if (!plan) return;
  const production = world.versions
    .filter((v) => v.status?.stage === "Production")
    .map((v) => v.spec.version);
  const staged = world.versions.filter((v) => v.status?.stage === "Staging").map((v) => v.spec.version);
  const existing = new Set(world.versions.map((v) => v.spec.version));

  // One Job trains at a time, and a Job is never created twice.
  expect(world.jobs.filter((j) => jobState(j) === "Running").length).toBeLessThanOrEqual(1);
  const names = world.jobs.map((j) => j.metadata?.name);
  expect(new Set(names).size).toBe(names.length);
  // At most one version serves as stable, and it is never pruned while it does.
  expect(production.length).toBeLessThanOrEqual(1);
  for (const v of productionBefore) {
    if (!production.includes(v)) expect(existing.has(v)).toBe(true);
  }
  // The status says which version is stable, and every condition exactly once.
  expect(plan.status.stableVersion).toBe(production[0]);
  expect((plan.status.conditions ?? []).map((c) => c.type).sort()).toEqual([
    "Degraded",
    "Monitored",
    "Progressing",
    "Ready",
    "Training",
  ]);
  // A canary runs only while a rollout is under way, and stable never has fewer pods than the spec.
  const canary = world.deployments.find((d) => /-predictor-(canary|preview)$/.test(d.metadata?.name ?? ""));
  if (canary) expect(["Progressing", "Paused", "Promoting"]).toContain(plan.status.rollout?.phase);
  const stable = world.deployments.find((d) => d.metadata?.name?.endsWith("-predictor"));
  // (With an autoscaler, serving.replicas is only the count a new stable Deployment starts from.)
  if (!world.model.spec.serving.autoscaling && stable?.spec?.replicas !== undefined) {
    expect(stable.spec.replicas).toBeGreaterThanOrEqual(world.model.spec.serving.replicas);
  }
  // Pods only ever run a version that passed the gate.
  const served = world.deployments[0]?.spec?.template.metadata?.labels?.["trading.mlops.dev/version"];
  if (served !== undefined) expect([...production, ...staged].map((v) => `v${v}`)).toContain(served);
  // Ready means something serves.
  if (plan.status.conditions?.find((c) => c.type === "Ready")?.status === "True") {
    expect(production.length).toBe(1);
    expect(["Pending", "Failed"]).not.toContain(plan.status.phase);
  }
}

/**
 * Once a reconcile has seen the results of its own writes, the next one, with nothing changed in
 * the cluster or the clock, finds nothing to do: no object created or deleted, no version status,
 * no event, the same status. (Today's defect it guards against: a stored status field missing from
 * a hand-kept list was dropped by every other reconcile.)
 */
function checkIdle(world: World): void {
  const before = structuredClone(world.model.status);
  const now = world.now;
  const plan = world.reconcile();
  world.now = now;
  expect(plan.create.map((o) => o.metadata?.name)).toEqual([]);
  expect(plan.delete).toEqual([]);
  expect(plan.versionStatus).toEqual([]);
  expect(plan.events).toEqual([]);
  expect(sameJson(plan.status, before)).toBe(true);
}

describe("reconcile invariants", () => {
  it.each(["mean-reversion-bluegreen.yaml", "spy-momentum.yaml"])(
    "a second reconcile with nothing changed plans nothing and writes nothing (%s)",
    (fixture) => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
          const world = new World(storedModel(fixture));
          world.reconcile();
          for (const s of steps) {
            apply(world, s);
            const now = world.now;
            world.reconcile(); // acts on the change
            world.reconcile(); // sees its own writes
            world.now = now;
            checkIdle(world);
          }
        }),
        { numRuns: fixture === "spy-momentum.yaml" ? 80 : 200 },
      );
    },
  );

  it.each(["mean-reversion-bluegreen.yaml", "spy-momentum.yaml"])(
    "hold over random histories of %s",
    (fixture) => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
          const world = new World(storedModel(fixture));
          world.reconcile();
          for (const s of steps) {
            apply(world, s);
            const productionBefore = world.versions
              .filter((v) => v.status?.stage === "Production")
              .map((v) => v.spec.version);
            world.reconcile();
            checkPromises(world, productionBefore);
          }
        }),
        { numRuns: fixture === "spy-momentum.yaml" ? 100 : 300 },
      );
    },
  );
});
