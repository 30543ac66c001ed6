import { describe, expect, it } from "vitest";
import { storedModel } from "../testing/fixtures.ts";
import { cpuCores, durationSeconds, prometheusRule, RULE_SELECTOR_LABEL } from "./prometheus-rule.ts";

const ruleOf = (edit: Parameters<typeof storedModel>[1] = () => {}) =>
  prometheusRule(storedModel("spy-momentum.yaml", edit));
const alert = (rule: ReturnType<typeof prometheusRule>, name: string) =>
  rule.spec.groups[0]?.rules.find((r) => r.alert === name);

describe("prometheusRule", () => {
  it("is named after the model, owned by it and labelled for a Prometheus' ruleSelector", () => {
    const rule = ruleOf((m) => {
      m.spec.monitoring = { ruleLabels: { release: "kube-prometheus-stack" } };
    });
    expect(rule).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: {
        name: "spy-momentum",
        namespace: "trading",
        labels: {
          ...RULE_SELECTOR_LABEL,
          release: "kube-prometheus-stack",
          "trading.mlops.dev/model": "spy-momentum",
        },
        ownerReferences: [{ kind: "TradingModel", name: "spy-momentum", controller: true }],
      },
    });
    const severities = Object.fromEntries(
      rule.spec.groups[0]?.rules.map((r) => [r.alert, r.labels.severity]) ?? [],
    );
    expect(severities).toEqual({
      TradingModelHighLatency: "critical",
      TradingModelHighErrorRate: "critical",
      TradingModelLowAccuracy: "critical",
      TradingModelNoData: "critical",
      TradingModelHighCPU: "warning",
      TradingModelStaleData: "warning",
      TradingModelLowConfidence: "warning",
      TradingModelFeatureDrift: "warning",
      TradingModelRetrainDue: "info",
      TradingModelNearScalingLimit: "info",
    });
  });

  it("takes each threshold and duration given in spec.monitoring.alerts, the default for the rest", () => {
    const rule = ruleOf((m) => {
      m.spec.monitoring = {
        runbookBaseUrl: "https://runbooks.example/tm.md",
        alerts: {
          latencyP95Ms: { threshold: 40 },
          accuracy: { for: "10m", minSamples: 500 },
          retrainDue: { after: "168h" },
        },
      };
    });
    const latency = alert(rule, "TradingModelHighLatency");
    expect(latency?.expr).toMatch(/\* 1000 > 40$/);
    expect(latency?.for).toBe("2m");
    expect(latency?.annotations.runbook_url).toBe("https://runbooks.example/tm.md#tradingmodelhighlatency");
    const accuracy = alert(rule, "TradingModelLowAccuracy");
    expect(accuracy?.expr).toMatch(/< 0\.6\) and .* >= 500$/);
    expect(accuracy?.for).toBe("10m");
    expect(alert(rule, "TradingModelRetrainDue")?.expr).toMatch(/> 604800$/);
    expect(alert(rule, "TradingModelNoData")?.expr).toContain("[5m]");
  });

  it("divides CPU by the limit, else the request, and leaves out what the spec gives no bound for", () => {
    const byLimit = ruleOf((m) => {
      m.spec.serving = { replicas: 2, resources: { requests: { cpu: "100m" }, limits: { cpu: "500m" } } };
    });
    expect(alert(byLimit, "TradingModelHighCPU")?.expr).toMatch(/\/ 0\.5 > 0\.8$/);
    expect(alert(byLimit, "TradingModelNearScalingLimit")).toBeUndefined();
    const byRequest = ruleOf((m) => {
      m.spec.serving = { replicas: 2, resources: { requests: { cpu: "250m" }, limits: {} } };
    });
    expect(alert(byRequest, "TradingModelHighCPU")?.expr).toMatch(/\/ 0\.25 > 0\.8$/);
    const unbounded = ruleOf((m) => {
      m.spec.serving = { replicas: 2, resources: { requests: { memory: "64Mi" }, limits: {} } };
    });
    expect(alert(unbounded, "TradingModelHighCPU")).toBeUndefined();
  });

  it("reads CPU quantities and durations as Kubernetes and Prometheus write them", () => {
    expect(["500m", "2", 1.5, "5e-1", "0.1"].map((q) => cpuCores(q, "cpu"))).toEqual([0.5, 2, 1.5, 0.5, 0.1]);
    expect(cpuCores(undefined, "cpu")).toBeUndefined();
    expect(() => cpuCores("lots", "spec.serving.resources.limits.cpu")).toThrow(
      /spec.serving.resources.limits.cpu/,
    );
    expect([durationSeconds("1h30m"), durationSeconds("45s"), durationSeconds("720h")]).toEqual([
      5400, 45, 2592000,
    ]);
  });
});
