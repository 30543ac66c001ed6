import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "./kube-client.ts";
import { MonitoringApiDiscovery } from "./monitoring-apis.ts";

const log = pino({ level: "silent" });

/** A loopback apiserver whose answers to GET /apis/monitoring.coreos.com/v1 come from `answers`, in turn. */
let server: Server;
const answers: { status: number; resources?: string[] }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = req.url === "/apis/monitoring.coreos.com/v1" ? answers.shift() : undefined;
    const status = answer?.status ?? 404;
    const body = answer?.resources
      ? {
          kind: "APIResourceList",
          groupVersion: "monitoring.coreos.com/v1",
          resources: answer.resources.map((name) => ({
            name,
            namespaced: true,
            kind: name,
            verbs: [],
            singularName: "",
          })),
        }
      : { kind: "Status", code: status, message: "the server could not find the requested resource" };
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(() => server.close());

function client(): KubeClient {
  const kc = new KubeConfig();
  const port = (server.address() as AddressInfo).port;
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kc, {
    fieldManager: "test",
    timeoutMs: 2_000,
    retry: { attempts: 3, baseMs: 5, maxMs: 10 },
  });
}

describe("monitoring API discovery", () => {
  it("finds the PrometheusRule and PodMonitor APIs once their CRDs are installed", async () => {
    const discovery = new MonitoringApiDiscovery((g, v) => client().servedResources(g, v), log);
    answers.push({ status: 404 });
    await discovery.refresh();
    expect(discovery.current).toEqual({ prometheusRules: false, podMonitors: false });
    answers.push({ status: 200, resources: ["prometheusrules", "servicemonitors"] });
    await discovery.refresh();
    expect(discovery.current).toEqual({ prometheusRules: true, podMonitors: false });
    // A 503 is retried by the client; the second answer counts.
    answers.push({ status: 503 }, { status: 200, resources: ["prometheusrules", "podmonitors"] });
    await discovery.refresh();
    expect(discovery.current).toEqual({ prometheusRules: true, podMonitors: true });
  });

  it("keeps the last answer when discovery fails", async () => {
    const discovery = new MonitoringApiDiscovery((g, v) => client().servedResources(g, v), log);
    answers.push({ status: 200, resources: ["prometheusrules"] });
    await discovery.refresh();
    answers.push({ status: 500 }, { status: 500 }, { status: 500 });
    await discovery.refresh();
    expect(discovery.current).toEqual({ prometheusRules: true, podMonitors: false });
    expect(answers).toEqual([]);
  });
});
