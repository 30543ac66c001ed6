import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isRetryable, KubeClient } from "./kube-client.ts";
import { LeaseConflictError } from "./leader-election.ts";

interface Seen {
  method: string;
  url: string;
  contentType: string;
  authorization: string;
  body: string;
}

/** A scripted apiserver on loopback: each request takes the next answer for its method and path. */
let server: Server;
let port = 0;
const seen: Seen[] = [];
const script: { match: RegExp; status: number; body: unknown; delayMs?: number }[] = [];

const discovery = (group: string) => ({
  kind: "APIResourceList",
  groupVersion: group,
  resources: [
    { name: "jobs", namespaced: true, kind: "Job", verbs: [] },
    { name: "configmaps", namespaced: true, kind: "ConfigMap", verbs: [] },
    { name: "deployments", namespaced: true, kind: "Deployment", verbs: [] },
  ],
});

async function read(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    const url = req.url ?? "";
    if (url === "/apis/batch/v1" || url === "/apis/apps/v1" || url === "/api/v1") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(discovery(url.slice(url.indexOf("/", 1) + 1) || "v1")));
      return;
    }
    seen.push({
      method: req.method ?? "",
      url,
      contentType: String(req.headers["content-type"] ?? ""),
      authorization: String(req.headers.authorization ?? ""),
      body,
    });
    const index = script.findIndex((s) => s.match.test(`${req.method} ${url}`));
    const answer = index >= 0 ? script.splice(index, 1)[0] : undefined;
    if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (res.destroyed) return;
    res.writeHead(answer?.status ?? 200, { "content-type": "application/json" });
    res.end(JSON.stringify(answer?.body ?? { metadata: { resourceVersion: "5" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  seen.length = 0;
  script.length = 0;
});

function client(timeoutMs = 2_000) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t0ken" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kc, {
    fieldManager: "tradingmodel-operator",
    timeoutMs,
    retry: { attempts: 3, baseMs: 10, maxMs: 20 },
  });
}

const job = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "spy-momentum-train-v1", namespace: "trading" },
  spec: { template: { spec: { containers: [] } } },
};

describe("isRetryable", () => {
  it("retries what got no answer (status 0, network errors), 429 and 5xx; other statuses are answers", () => {
    const api = (code: number) => new ApiException(code, "m", {}, {});
    expect([0, 429, 500, 503].map((code) => isRetryable(api(code)))).toEqual([true, true, true, true]);
    expect([400, 403, 404, 409, 422].map((code) => isRetryable(api(code)))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isRetryable(new Error("ECONNRESET"))).toBe(true);
  });
});

describe("KubeClient on the wire", () => {
  it("applies server-side: PATCH with the apply content type, the field manager and force", async () => {
    await client().apply(job);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "PATCH",
      url: "/apis/batch/v1/namespaces/trading/jobs/spy-momentum-train-v1?fieldManager=tradingmodel-operator&force=true",
      contentType: "application/apply-patch+yaml",
      authorization: "Bearer t0ken",
    });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual(job);
  });

  it("hands a count over by server-side apply under the handover's field manager, without force; a Conflict means another owner keeps it", async () => {
    const handover = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "spy-momentum-predictor", namespace: "trading" },
      spec: { replicas: 3 },
    };
    expect(await client().handOver(handover)).toBe("handed over");
    expect(seen[0]).toMatchObject({
      method: "PATCH",
      url: "/apis/apps/v1/namespaces/trading/deployments/spy-momentum-predictor?fieldManager=tradingmodel-operator-replicas-handover&force=false",
      contentType: "application/apply-patch+yaml",
    });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual(handover);
    script.push({ match: /PATCH/, status: 409, body: { reason: "Conflict" } });
    expect(await client().handOver(handover)).toBe("owned elsewhere");
    expect(seen).toHaveLength(2);
  });

  it("writes status through the status subresource by server-side apply and returns the new resourceVersion", async () => {
    script.push({ match: /status/, status: 200, body: { metadata: { resourceVersion: "42" } } });
    const rv = await client().applyStatus("TradingModel", "trading", "spy-momentum", { phase: "Training" });
    expect(rv).toBe("42");
    expect(seen[0]).toMatchObject({
      method: "PATCH",
      url: "/apis/trading.mlops.dev/v1alpha1/namespaces/trading/tradingmodels/spy-momentum/status?fieldManager=tradingmodel-operator&force=true",
      contentType: "application/apply-patch+yaml",
    });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      apiVersion: "trading.mlops.dev/v1alpha1",
      kind: "TradingModel",
      metadata: { name: "spy-momentum", namespace: "trading" },
      status: { phase: "Training" },
    });
  });

  it("retries 503 and timeouts, and gives up after the attempts with the last error", async () => {
    script.push({ match: /PATCH/, status: 503, body: { message: "etcd leader changed" } });
    script.push({ match: /PATCH/, status: 200, body: {}, delayMs: 400 });
    await client(200).apply(job);
    expect(seen).toHaveLength(3);
    for (let i = 0; i < 3; i++) script.push({ match: /PATCH/, status: 500, body: { message: `boom ${i}` } });
    await expect(client().apply(job)).rejects.toMatchObject({ code: 500 });
    expect(seen).toHaveLength(6);
  });

  it("does not retry an answer: 422 fails at once", async () => {
    script.push({ match: /PATCH/, status: 422, body: { message: "spec.template: Invalid value" } });
    await expect(client().apply(job)).rejects.toMatchObject({ code: 422 });
    expect(seen).toHaveLength(1);
  });

  it("takes AlreadyExists on create and NotFound on delete as done", async () => {
    script.push({ match: /POST/, status: 409, body: { reason: "AlreadyExists" } });
    expect(await client().create(job)).toBe("exists");
    script.push({ match: /DELETE/, status: 404, body: { reason: "NotFound" } });
    expect(
      await client().remove({ apiVersion: "batch/v1", kind: "Job", name: "x", namespace: "trading" }),
    ).toBe("absent");
    expect(seen[1]).toMatchObject({
      method: "DELETE",
      url: "/apis/batch/v1/namespaces/trading/jobs/x?propagationPolicy=Background",
    });
  });

  it("lists in wire format, timestamps as strings, with the label selector", async () => {
    const item = { metadata: { name: "a", creationTimestamp: "2026-11-24T10:00:00Z" } };
    script.push({ match: /GET/, status: 200, body: { items: [item], metadata: { resourceVersion: "9" } } });
    const list = await client().listRaw("/apis/batch/v1/jobs", "trading.mlops.dev/model");
    expect(list.items[0]).toEqual(item);
    expect(seen[0]?.url).toBe("/apis/batch/v1/jobs?labelSelector=trading.mlops.dev%2Fmodel");
  });

  it("turns a Lease update conflict into LeaseConflictError and sends the resourceVersion precondition", async () => {
    script.push({ match: /PUT/, status: 409, body: { reason: "Conflict" } });
    const store = client().leaseStore("ops", "tradingmodel-operator");
    await expect(store.update({ holderIdentity: "a" }, "17")).rejects.toBeInstanceOf(LeaseConflictError);
    expect(seen[0]?.url).toBe("/apis/coordination.k8s.io/v1/namespaces/ops/leases/tradingmodel-operator");
    expect(JSON.parse(seen[0]?.body ?? "{}").metadata.resourceVersion).toBe("17");
  });
});
