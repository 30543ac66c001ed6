import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Probes {
  /** Liveness: the process can still do its work (the event loop turns, the elector runs). */
  healthy: () => boolean;
  /** Readiness: the caches are synced and the process is not shutting down. */
  ready: () => boolean;
}

/** `/metrics`, `/healthz` and `/readyz` on one port. */
export async function startProbeServer(
  host: string,
  port: number,
  registry: Registry,
  probes: Probes,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const text = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return text(405, "method not allowed\n");
    if (path === "/healthz") return probes.healthy() ? text(200, "ok\n") : text(503, "unhealthy\n");
    if (path === "/readyz") return probes.ready() ? text(200, "ok\n") : text(503, "not ready\n");
    if (path === "/metrics") {
      registry.metrics().then(
        (body) => text(200, body, registry.contentType),
        (err: unknown) => text(500, `${String(err)}\n`),
      );
      return;
    }
    text(404, "not found\n");
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
