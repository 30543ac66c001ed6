import type { CoreV1Event, KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Condition } from "../api/types.ts";
import { predictorPodMonitor } from "../manifests/pod-monitor.ts";
import { storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import { currentRejection } from "./monitoring.ts";

const monitored = (world: World) =>
  world.last?.status.conditions?.find((c: Condition) => c.type === "Monitored");
const applied = (world: World) =>
  (world.last?.apply ?? []).map((o) => `${o.kind}/${o.metadata?.name}`).filter((k) => /Monitor|Rule/.test(k));

/** A world where v1 trained, passed the gate and is served, in a cluster serving `apis`. */
function servingV1(apis?: World["monitoringApis"]): World {
  const world = new World(storedModel());
  if (apis) world.monitoringApis = apis;
  return world.serveFirstVersion();
}

describe("monitoring step", () => {
  it("installs nothing while no version serves, and says why", () => {
    const world = new World(storedModel());
    world.monitoringApis = { prometheusRules: true, podMonitors: true };
    world.reconcile();
    expect(applied(world)).toEqual([]);
    expect(monitored(world)).toMatchObject({ status: "False", reason: "NotServing" });
  });

  it("applies the PrometheusRule and a PodMonitor once a version serves, where the cluster has them", () => {
    const world = servingV1({ prometheusRules: true, podMonitors: true });
    expect(world.last?.status.stableVersion).toBe(1);
    expect(applied(world)).toEqual(["PodMonitor/spy-momentum", "PrometheusRule/spy-momentum"]);
    expect(monitored(world)).toMatchObject({
      status: "True",
      reason: "AlertRulesInstalled",
      message:
        "PrometheusRule spy-momentum holds 10 alerts; predictors scraped through PodMonitor spy-momentum",
    });
  });

  it("serves without a PrometheusRule API and says the alerts are not installed", () => {
    const world = servingV1();
    expect(world.last?.status.stableVersion).toBe(1);
    expect(world.last?.status.phase).toBe("Ready");
    expect(applied(world)).toEqual([]);
    expect(monitored(world)).toMatchObject({ status: "False", reason: "PrometheusRuleAPIMissing" });
    expect(monitored(world)?.message).toMatch(
      /^alert rules not installed: .*the model serves regardless; predictors scraped by their prometheus.io annotations/,
    );
  });

  it("applies the rule without a PodMonitor where only the PrometheusRule API exists", () => {
    const world = servingV1({ prometheusRules: true, podMonitors: false });
    expect(applied(world)).toEqual(["PrometheusRule/spy-momentum"]);
    expect(monitored(world)?.message).toContain("prometheus.io annotations");
  });

  it("scrapes the predictor pods of every track by the model label, keeping their own labels", () => {
    expect(predictorPodMonitor(storedModel())).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: {
        name: "spy-momentum",
        namespace: "trading",
        ownerReferences: [{ kind: "TradingModel", controller: true }],
      },
      spec: {
        selector: {
          matchLabels: {
            "trading.mlops.dev/model": "spy-momentum",
            "trading.mlops.dev/component": "predictor",
          },
        },
        podMetricsEndpoints: [{ port: "http", path: "/metrics", honorLabels: true }],
      },
    });
  });
});

/** The model's rule as stored at a resourceVersion. */
const storedRule = (resourceVersion: string): KubernetesObject => ({
  apiVersion: "monitoring.coreos.com/v1",
  kind: "PrometheusRule",
  metadata: { name: "spy-momentum", namespace: "trading", uid: "rule-uid", resourceVersion },
});

/** What the local cluster's rule sync records when promtool refuses a rule. */
const refusal = (resourceVersion: string, message: string, at: string, over: Partial<CoreV1Event> = {}) =>
  ({
    metadata: { name: `spy-momentum.${resourceVersion}`, namespace: "trading" },
    involvedObject: {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      name: "spy-momentum",
      namespace: "trading",
      uid: "rule-uid",
      resourceVersion,
    },
    type: "Warning",
    reason: "InvalidRules",
    message,
    source: { component: "tm-prometheus-rules" },
    lastTimestamp: new Date(at),
    ...over,
  }) as CoreV1Event;

describe("a rule loader's refusal", () => {
  it("concerns the rule only at the resourceVersion it refused, newest first", () => {
    const events = [
      refusal("7", "old complaint", "2026-11-24T09:00:00Z"),
      refusal("9", "first", "2026-11-24T09:10:00Z"),
      refusal("9", "second", "2026-11-24T09:20:00Z"),
    ];
    expect(currentRejection(storedRule("9"), events)?.message).toBe("second");
    expect(currentRejection(storedRule("10"), events)).toBeUndefined();
    expect(currentRejection(undefined, events)).toBeUndefined();
  });

  it("ignores Events about another object, of another reason or type, or of a rule deleted and recreated", () => {
    const at = "2026-11-24T09:00:00Z";
    const others = [
      refusal("9", "normal", at, { type: "Normal" }),
      refusal("9", "other reason", at, { reason: "Created" }),
      refusal("9", "old uid", at, {
        involvedObject: { ...refusal("9", "", at).involvedObject, uid: "recreated" },
      }),
      refusal("9", "other name", at, {
        involvedObject: { ...refusal("9", "", at).involvedObject, name: "other" },
      }),
    ];
    expect(currentRejection(storedRule("9"), others)).toBeUndefined();
  });

  it("turns Monitored False with the loader's message, once as a Warning Event, until the rule changes", () => {
    const world = servingV1({ prometheusRules: true, podMonitors: false });
    const complaint = 'not loaded into Prometheus: annotation "runbook_url": template: bad character';
    world.alertRules = {
      stored: storedRule("9"),
      rejections: [refusal("9", complaint, "2026-11-24T10:00:00Z")],
    };
    world.reconcile();
    const message = `PrometheusRule spy-momentum (resourceVersion 9) refused by tm-prometheus-rules: ${complaint}`;
    expect(monitored(world)).toMatchObject({ status: "False", reason: "RulesRejected", message });
    expect(world.last?.events).toContainEqual({ type: "Warning", reason: "RulesRejected", message });
    // The rule is applied all the same: a corrected spec must reach the loader.
    expect(applied(world)).toEqual(["PrometheusRule/spy-momentum"]);
    world.reconcile();
    expect(world.last?.events.filter((e) => e.reason === "RulesRejected")).toEqual([]);
    // A later apply changed the rule: the refusal was of the previous one.
    world.alertRules = { ...world.alertRules, stored: storedRule("10") };
    world.reconcile();
    expect(monitored(world)).toMatchObject({ status: "True", reason: "AlertRulesInstalled" });
  });
});
