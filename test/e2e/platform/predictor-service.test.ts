// A Deployment of the predictor becomes Ready with N pods, and traffic sent to its Service from
// the host is answered by every ready pod.
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../support/kubectl.ts";
import { runLoad } from "../support/load.ts";
import { useNamespace } from "../support/namespace.ts";
import { readyPods } from "../support/pods.ts";
import { deployPredictor, predictBody } from "../support/predictor.ts";
import { openService, type ServiceEndpoint } from "../support/service.ts";

const ns = useNamespace("e2e-svc");
const replicas = 3;
let service: ServiceEndpoint;

/** Requests a pod's predictor has answered on /v1/predict, from its own metrics (via the apiserver's pod proxy). */
async function predictionsServed(pod: V1Pod): Promise<number> {
  const text = await kubectl([
    "get",
    "--raw",
    `/api/v1/namespaces/${ns.name}/pods/${pod.metadata?.name}:8080/proxy/metrics`,
  ]);
  let total = 0;
  for (const line of text.split("\n")) {
    if (
      line.startsWith("predictor_http_requests_total{") &&
      line.includes('route="/v1/predict"') &&
      line.includes('status="200"')
    ) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

beforeAll(async () => {
  await deployPredictor({ namespace: ns.name, name: "demo", replicas });
  service = await openService(ns.name, "demo", "http");
});

afterAll(() => service?.close());

describe("predictor Deployment behind a Service", () => {
  it("becomes Ready with every replica, each with its own pod IP", async () => {
    const pods = await readyPods(ns.name, "app=demo");
    expect(pods).toHaveLength(replicas);
    const ips = pods.map((p) => p.status?.podIP);
    expect(new Set(ips).size).toBe(replicas);
    for (const ip of ips) expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const deployment = JSON.parse(await kubectl(["get", "deployment", "demo", "-n", ns.name, "-o", "json"]));
    expect(deployment.status.readyReplicas).toBe(replicas);
  });

  it("answers predictions sent to the Service from every ready pod", async () => {
    const pods = await readyPods(ns.name, "app=demo");
    const before = await Promise.all(pods.map(predictionsServed));
    const result = await runLoad({
      address: service.address,
      path: "/v1/predict",
      body: predictBody(),
      count: 30,
      intervalMs: 20,
    });
    expect(result.failures).toEqual([]);
    const answer = JSON.parse(result.outcomes[0]?.body ?? "{}");
    expect(answer).toMatchObject({ model: "demo", modelVersion: "v1", track: "stable" });
    const after = await Promise.all(pods.map(predictionsServed));
    const served = after.map((n, i) => n - (before[i] ?? 0));
    expect(served.reduce((a, b) => a + b, 0)).toBe(30);
    // Round robin over three endpoints: every pod answered. (A port-forward, the fallback on a
    // cluster without the loopback service proxy, pins one pod: see support/service.ts.)
    const answering = served.filter((n) => n > 0).length;
    expect(answering).toBe(service.balanced ? replicas : 1);
  });
});
