// Alerts end to end on the local cluster: the PrometheusRule the operator generates for a model,
// loaded by the cluster's real Prometheus, fires through the real Alertmanager (Debian's
// prometheus-alertmanager, started by make cluster-up) to a webhook receiver here. Local only:
// Alertmanager's route points at this file's receiver on 127.0.0.1.
import { createServer, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TradingModel } from "../../../operator/src/api/types.ts";
import { snapshot } from "../../../operator/src/dashboard/snapshot.ts";
import { prometheusRule } from "../../../operator/src/manifests/prometheus-rule.ts";
import { storedModel } from "../../../operator/src/testing/fixtures.ts";
import { e2eContext } from "../support/context.ts";
import { apply, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { deployPredictor, predictBody, waitForReadyPods } from "../support/predictor.ts";
import { openService, type ServiceEndpoint } from "../support/service.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-alerts");
const WEBHOOK_PORT = Number(process.env.TM_ALERT_WEBHOOK_PORT ?? 9097);

type Alert = {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
};

/** Every alert Alertmanager delivered, in order. */
const received: Alert[] = [];
let receiver: Server;
let service: ServiceEndpoint;
let sending = false;
let traffic: Promise<void> = Promise.resolve();

/** A model as the apiserver would store it, here only for its rule (short durations keep the test short). */
function model(name: string, alerts: object): TradingModel {
  return storedModel("spy-momentum.yaml", (raw) => {
    raw.metadata = { ...raw.metadata, name, namespace: ns.name };
    raw.spec.monitoring = { alerts };
  });
}

/** The generated rule without its owner reference: no TradingModel exists to own it here. */
function ruleOf(m: TradingModel): object {
  const rule = prometheusRule(m);
  return { ...rule, metadata: { ...rule.metadata, ownerReferences: undefined } };
}

function delivered(alertname: string, model: string, status: Alert["status"]): Promise<Alert> {
  return waitFor(
    `${status} ${alertname} of ${model} at the webhook`,
    async () =>
      received.find(
        (a) =>
          a.status === status &&
          a.labels.alertname === alertname &&
          a.labels.model === model &&
          a.labels.namespace === ns.name,
      ),
    { timeoutMs: 120_000, intervalMs: 200 },
  );
}

/** Predictions at about 20 a second until stopped, each with a timeout. */
async function sendTraffic(address: string): Promise<void> {
  while (sending) {
    await fetch(`http://${address}/v1/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: predictBody(),
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
    await sleep(50);
  }
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      received.push(...(JSON.parse(body) as { alerts: Alert[] }).alerts);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(WEBHOOK_PORT, "127.0.0.1", resolve));
  await deployPredictor({ namespace: ns.name, name: "slow", replicas: 1, env: { CHAOS_LATENCY_MS: "40" } });
  service = await openService(ns.name, "slow", 80);
  await apply(
    ruleOf(model("slow", { latencyP95Ms: { for: "5s" } })),
    ruleOf(model("idle", { noData: { for: "10s" } })),
  );
});

afterAll(async () => {
  sending = false;
  await traffic;
  service?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("alerts through Prometheus and Alertmanager", () => {
  it("raises no-data for a model with no traffic, with the model's labels", async () => {
    const alert = await delivered("TradingModelNoData", "idle", "firing");
    expect(alert.labels).toMatchObject({ severity: "critical", namespace: ns.name, model: "idle" });
    expect(alert.annotations.runbook_url).toBe("docs/monitoring.md#tradingmodelnodata");
  });

  it("fires the latency alert while chaos adds 40 ms, and resolves it once the latency is gone", async () => {
    sending = true;
    traffic = sendTraffic(service.address);
    const firing = await delivered("TradingModelHighLatency", "slow", "firing");
    expect(firing.labels).toMatchObject({
      severity: "critical",
      namespace: ns.name,
      model: "slow",
      track: "stable",
    });
    expect(firing.annotations.description).toMatch(
      new RegExp(
        `^p95 latency of the stable predictors of ${ns.name}/slow is \\d+\\.\\d ms, above 25 ms for 5s\\.$`,
      ),
    );
    await kubectl(["set", "env", "deployment/slow", "-n", ns.name, "CHAOS_LATENCY_MS=0"]);
    await waitForReadyPods(ns.name, "app=slow", 1);
    await delivered("TradingModelHighLatency", "slow", "resolved");
  });

  it("draws the model's dashboard from the real Prometheus into an SVG, serving panels with data", async () => {
    const { svg, panels } = await snapshot({
      prometheusUrl: e2eContext().prometheusUrl,
      namespace: ns.name,
      model: "slow",
      rangeSeconds: 600,
    });
    const withData = new Set(panels.filter((p) => p.points.length > 0).map((p) => p.title));
    for (const title of [
      "p95 latency",
      "Throughput",
      "CPU per pod",
      "Memory per pod",
      "Ready replicas per track",
    ]) {
      expect(withData, title).toContain(title);
    }
    expect(svg).toMatch(/^<svg /);
    expect(svg.length).toBeGreaterThan(10_000);
  });
});
