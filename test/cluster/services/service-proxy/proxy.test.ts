// The service proxy against real sockets: backends are HTTP servers on loopback addresses
// (127.0.0.2, 127.0.0.3) that answer with their own address.
import { createServer, get, type Server } from "node:http";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFound } from "./backends.ts";
import { controlServer } from "./control.ts";
import { type ClusterView, ServiceProxy } from "./proxy.ts";

const backendIPs = ["127.0.0.2", "127.0.0.3"];
const servers: Server[] = [];
let backendPort = 0;

const service: V1Service = {
  metadata: { namespace: "trading", name: "demo" },
  spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] },
};
let ready: Record<string, boolean> = {};

const view: ClusterView = {
  service: (namespace, name) => (namespace === "trading" && name === "demo" ? service : undefined),
  readService: async () => undefined,
  slices: (): V1EndpointSlice[] => [
    {
      metadata: { namespace: "trading", name: "demo-x", labels: { "kubernetes.io/service-name": "demo" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: backendPort, protocol: "TCP" }],
      endpoints: backendIPs.map((ip) => ({ addresses: [ip], conditions: { ready: ready[ip] ?? true } })),
    },
  ],
};
const proxy = new ServiceProxy(view);

/** One request on a new connection, as each new client connection is balanced on its own. */
function request(address: string, path = "/"): Promise<{ status: number; body: string }> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const req = get({ host, port: Number(port), path, agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

beforeAll(async () => {
  for (const ip of backendIPs) {
    const server = createServer((_req, res) => res.end(ip));
    await new Promise<void>((resolve) => server.listen(backendPort, ip, resolve));
    const address = server.address();
    if (address && typeof address !== "string") backendPort = address.port;
    servers.push(server);
  }
});

afterAll(async () => {
  await proxy.close();
  for (const s of servers) s.close();
});

describe("ServiceProxy", () => {
  it("balances new connections round robin over the ready endpoints", async () => {
    ready = {};
    const { address, backends } = await proxy.address("trading", "demo", 80);
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(backends).toHaveLength(2);
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push((await request(address)).body);
    expect(new Set(seen)).toEqual(new Set(backendIPs));
    expect(seen.filter((s) => s === "127.0.0.2")).toHaveLength(3);
  });

  it("sends no new connection to an endpoint once it is not ready", async () => {
    ready = { "127.0.0.2": false };
    const { address } = await proxy.address("trading", "demo", "http");
    for (let i = 0; i < 4; i++) expect((await request(address)).body).toBe("127.0.0.3");
  });

  it("refuses connections while the service has no ready endpoint", async () => {
    ready = { "127.0.0.2": false, "127.0.0.3": false };
    const { address, backends } = await proxy.address("trading", "demo", 80);
    expect(backends).toEqual([]);
    await expect(request(address)).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it("gives one address per service port, whether named by number or name", async () => {
    const byNumber = await proxy.address("trading", "demo", 80);
    const byName = await proxy.address("trading", "demo", "http");
    expect(byName.address).toBe(byNumber.address);
  });

  it("rejects an unknown service or port as not found", async () => {
    await expect(proxy.address("trading", "nope", 80)).rejects.toThrow(NotFound);
    await expect(proxy.address("trading", "demo", 81)).rejects.toThrow('has no port "81"');
  });
});

describe("control API", () => {
  let control: Server;
  let base = "";
  beforeAll(async () => {
    control = controlServer(proxy);
    await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
    const a = control.address();
    if (a && typeof a !== "string") base = `127.0.0.1:${a.port}`;
  });
  afterAll(() => control.close());

  it("answers the address of a service port and 404 with the reason for an unknown one", async () => {
    ready = {};
    const ok = await request(base, "/v1/services/trading/demo/http");
    expect(ok.status).toBe(200);
    const { address } = JSON.parse(ok.body) as { address: string };
    expect((await request(address)).body).toMatch(/^127\.0\.0\.[23]$/);
    const missing = await request(base, "/v1/services/trading/demo/grpc");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: expect.stringContaining('has no port "grpc"') });
    expect((await request(base, "/healthz")).body).toBe("ok");
  });
});
