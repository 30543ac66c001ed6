import { describe, expect, it } from "vitest";
import type { Condition } from "../api/types.ts";
import { predictorPodMonitor } from "../manifests/pod-monitor.ts";
import { storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";

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
