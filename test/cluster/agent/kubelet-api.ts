// The part of the kubelet's HTTPS API the cluster uses: /containerLogs (kubectl logs [-f], through the
// apiserver) and /metrics/resource (metrics-server → metrics.k8s.io → HPA), plus /healthz. It
// listens on 127.0.0.1:<daemonEndpoints port> with the node's serving certificate, accepts clients
// whose certificate the cluster CA signed, and asks the apiserver (SubjectAccessReview) whether
// that user may get the node's subresource, as the kubelet's webhook authorization does.
import { open, readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { NodeApi } from "./kube.ts";
import { podLogFile } from "./logs.ts";
import type { RunningContainer } from "./pod-worker.ts";
import { resourceMetricsText } from "./resource-metrics.ts";
import { cgroupCpuUsageUsec, cgroupMemoryBytes, nodeCpuSeconds } from "./runtime.ts";

export type KubeletApiOptions = {
  api: NodeApi;
  port: number;
  pkiDir: string;
  clusterDir: string;
  containers: () => RunningContainer[];
  log: Logger;
};

async function resourceMetrics(containers: RunningContainer[]): Promise<string> {
  const usage = [];
  for (const c of containers) {
    const usec = await cgroupCpuUsageUsec(c.cgroup);
    if (usec === undefined) continue;
    usage.push({ ...c, cpuSeconds: usec / 1e6, memoryBytes: await cgroupMemoryBytes(c.cgroup) });
  }
  const node = { cpuSeconds: await nodeCpuSeconds(), memoryBytes: os.totalmem() - os.freemem() };
  return resourceMetricsText(node, usage, new Date());
}

/** The kubelet's mapping of paths to node subresources for authorization. */
function subresource(path: string): string {
  if (path.startsWith("/metrics")) return "metrics";
  if (path.startsWith("/stats")) return "stats";
  if (path.startsWith("/logs")) return "log";
  return "proxy";
}

const FOLLOW_POLL_MS = 500;

/** Writes what is appended to the log until the container stops or the client goes away. */
async function followLog(
  file: string,
  from: number,
  running: () => boolean,
  res: ServerResponse,
): Promise<void> {
  let offset = from;
  while (!res.destroyed) {
    const alive = running();
    const fh = await open(file, "r");
    try {
      const { size } = await fh.stat();
      if (size > offset) {
        const chunk = Buffer.alloc(size - offset);
        await fh.read(chunk, 0, chunk.length, offset);
        offset = size;
        res.write(chunk);
      }
    } finally {
      await fh.close();
    }
    if (!alive) return;
    await sleep(FOLLOW_POLL_MS);
  }
}

export async function startKubeletApi(o: KubeletApiOptions): Promise<Server> {
  const nodeName = o.api.nodeName;
  const allowed = (user: string, groups: string[], sub: string) =>
    o.api.accessAllowed(user, groups, { verb: "get", resource: "nodes", subresource: sub, name: nodeName });
  const server = createServer(
    {
      cert: await readFile(`${o.pkiDir}/node-${nodeName}-serving.crt`),
      key: await readFile(`${o.pkiDir}/node-${nodeName}-serving.key`),
      ca: await readFile(`${o.pkiDir}/ca.crt`),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const url = new URL(req.url ?? "/", "https://kubelet");
      const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
        // A failure while a log streams can only end the response: its status is already sent.
        if (res.headersSent) {
          res.end();
          return;
        }
        res.writeHead(code, { "Content-Type": type });
        res.end(body);
      };
      void (async () => {
        if (url.pathname === "/healthz") return send(200, "ok");
        const subject = (req.socket as TLSSocket).getPeerCertificate().subject;
        const groups = ([] as string[]).concat(subject?.O ?? []);
        const user = String(subject?.CN ?? "");
        if (!(await allowed(user, groups, subresource(url.pathname)))) {
          return send(
            403,
            `Forbidden (user=${user}, verb=get, resource=nodes, subresource=${subresource(url.pathname)})`,
          );
        }
        if (url.pathname === "/metrics/resource") {
          return send(200, await resourceMetrics(o.containers()), "text/plain; version=0.0.4");
        }
        const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
        if (logs) {
          const [, namespace = "", pod = "", container = ""] = logs;
          const previous = url.searchParams.get("previous") === "true";
          const file = await podLogFile(o.clusterDir, { namespace, pod, container, previous });
          const text = await readFile(file, "utf8");
          const tail = Number(url.searchParams.get("tailLines") ?? Number.NaN);
          res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
          res.write(
            Number.isInteger(tail) && tail >= 0
              ? text
                  .split("\n")
                  .slice(-tail - 1)
                  .join("\n")
              : text,
          );
          const running = () =>
            o
              .containers()
              .some((c) => c.namespace === namespace && c.pod === pod && c.container === container);
          if (url.searchParams.get("follow") === "true" && !previous) {
            await followLog(file, Buffer.byteLength(text), running, res);
          }
          res.end();
          return;
        }
        return send(
          404,
          `${url.pathname}: not served by the tm node agent (served: /containerLogs, /metrics/resource, /healthz)`,
        );
      })().catch((err: unknown) => send(500, err instanceof Error ? err.message : String(err)));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => resolve());
  });
  o.log.info({ node: nodeName, port: o.port }, "kubelet API listening");
  return server;
}
