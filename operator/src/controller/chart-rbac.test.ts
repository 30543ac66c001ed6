// The chart's Role must allow every call the operator makes: a missing verb shows only on a real
// cluster, as a 403 that stalls a rollout. The calls are collected from the plans of whole
// rollouts (canary promoted, blue-green promoted, an abort, retention) and from the informers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Plan } from "../reconcile/context.ts";
import { metrics, storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import { WATCHED } from "./informers.ts";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const helpers = readFileSync(
  join(import.meta.dirname, "../../../helm/tradingmodel-operator/templates/_helpers.tpl"),
  "utf8",
);

/** The rules of the chart's `tmo.rules` template (plain YAML between its define and end). */
function chartRules(): Rule[] {
  const body = helpers.split('{{- define "tmo.rules" -}}')[1]?.split("{{- end -}}")[0];
  if (!body) throw new Error('_helpers.tpl has no "tmo.rules" template');
  return parse(body) as Rule[];
}

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "");
const resourceOf = (kind: string) => `${kind.toLowerCase()}s`;

/** "group/resource verb" for every call the plans make (server-side apply may create). */
function callsOf(plans: Plan[]): Set<string> {
  const calls = new Set<string>();
  const add = (apiVersion: string, kind: string, verbs: string[]) => {
    for (const verb of verbs) calls.add(`${groupOf(apiVersion)}/${resourceOf(kind)} ${verb}`);
  };
  for (const plan of plans) {
    for (const o of plan.apply as KubernetesObject[])
      add(o.apiVersion ?? "", o.kind ?? "", ["create", "patch"]);
    for (const o of plan.create as KubernetesObject[]) add(o.apiVersion ?? "", o.kind ?? "", ["create"]);
    for (const ref of plan.delete) add(ref.apiVersion, ref.kind, ["delete"]);
    if (plan.versionStatus.length > 0) calls.add("trading.mlops.dev/modelversions/status patch");
    calls.add("trading.mlops.dev/tradingmodels/status patch");
  }
  return calls;
}

function allowed(rules: Rule[], call: string): boolean {
  const [groupResource = "", verb = ""] = call.split(" ");
  const slash = groupResource.indexOf("/");
  const group = groupResource.slice(0, slash);
  const resource = groupResource.slice(slash + 1);
  return rules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );
}

/** Reconciles until `done`, with every asked pod ready, collecting the plans. */
function until(world: World, plans: Plan[], done: () => boolean) {
  for (let i = 0; i < 40 && !done(); i++) {
    world.rolloutCompletes();
    plans.push(world.reconcile());
  }
  expect(done()).toBe(true);
}

function rollouts(file: string, strategy: Record<string, unknown>): Plan[] {
  const world = new World(
    storedModel(file, (raw) => {
      const spec = raw.spec as Record<string, unknown>;
      spec.serving = { replicas: 2, autoscaling: { maxReplicas: 4 } };
      spec.rollout = strategy;
      // No checks: each step advances on time alone, so the plans cover every step.
      spec.analysis = { interval: "10s" };
      spec.versionHistoryLimit = 2;
    }),
  );
  const plans: Plan[] = [];
  const stableIs = (v: number) => () =>
    world.model.status?.stableVersion === v && !world.model.status.candidateVersion;
  plans.push(world.reconcile());
  world.trainingSucceeds(1);
  until(world, plans, stableIs(1));
  for (const version of [2, 3, 4]) {
    world.editSpec((spec) => {
      spec.training.retrainRequest = `r${version}`;
      if (version === 4) spec.rollout.abortVersion = 4;
    });
    plans.push(world.reconcile());
    world.trainingSucceeds(
      version,
      metrics({ directionalAccuracy: 0.56 }),
      metrics({ directionalAccuracy: 0.55 }),
    );
    until(world, plans, stableIs(version === 4 ? 3 : version));
  }
  return plans;
}

describe("the chart's RBAC", () => {
  const rules = chartRules();

  it("allows every call of canary, blue-green and shadow rollouts, an abort and retention", () => {
    const calls = callsOf([
      ...rollouts("spy-momentum.yaml", { strategy: "Canary", canary: { steps: [50, 100] } }),
      ...rollouts("mean-reversion-bluegreen.yaml", { strategy: "BlueGreen" }),
      ...rollouts("spy-momentum.yaml", { strategy: "Shadow", shadow: { duration: "30s" } }),
      ...rollouts("spy-momentum.yaml", {
        strategy: "Canary",
        canary: { steps: [50, 100] },
        shadow: { duration: "30s" },
      }),
    ]);
    for (const needed of [
      "apps/deployments delete",
      "apps/deployments patch",
      "batch/jobs create",
      // Each candidate track's own autoscaler, deleted with it.
      "autoscaling/horizontalpodautoscalers patch",
      "autoscaling/horizontalpodautoscalers delete",
    ]) {
      expect(calls).toContain(needed);
    }
    expect([...calls].filter((call) => !allowed(rules, call))).toEqual([]);
  });

  it("allows the informers to list and watch everything they watch", () => {
    const calls = WATCHED.flatMap((w) => {
      const group = w.prefix.startsWith("/apis/") ? (w.prefix.split("/")[2] ?? "") : "";
      return [`${group}/${w.plural} list`, `${group}/${w.plural} watch`];
    });
    expect(calls.filter((call) => !allowed(rules, call))).toEqual([]);
  });
});
