// A metrics.k8s.io/v1beta1 API served by the agent itself, for a cluster started without the node
// services (TM_SERVICES=0: a second cluster beside the first, the agent's own tests), where no
// metrics-server runs; with the services the real metrics-server serves it from the kubelets'
// /metrics/resource. The agent samples its containers' cgroup CPU time every 10 s and reports the
// rate between the last two samples. It registers the APIService (admin
// credentials) behind a Service whose cluster IP it answers on directly (a host address on the
// bridge, like the apiserver forward) and whose Endpoints name the bridge gateway (what kube-proxy
// DNATs the cluster IP to). Only the aggregator's front-proxy client certificate is accepted; the
// user it names must be allowed by a SubjectAccessReview.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import os from "node:os";
import type { TLSSocket } from "node:tls";
import { ApiregistrationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { NodeApi } from "./kube.ts";
import {
  API_RESOURCES,
  type CpuSample,
  cpuRate,
  nodeMetrics,
  type PodMetricsInput,
  parseLabelSelector,
  podMetrics,
} from "./metrics-api-json.ts";
import { addLocalAddress } from "./netlink.ts";
import type { NetworkConfig } from "./network.ts";
import type { RunningContainer } from "./pod-worker.ts";
import { statusCode, withRetry } from "./retry.ts";
import { cgroupCpuUsageUsec, cgroupMemoryBytes, nodeCpuSeconds } from "./runtime.ts";

export type MetricsPod = {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  containers: RunningContainer[];
};

export type MetricsApiOptions = {
  api: NodeApi;
  admin: KubeConfig;
  net: NetworkConfig;
  /** Port on the bridge gateway (the Service's Endpoints). */
  port: number;
  pkiDir: string;
  nodeNames: string[];
  pods: () => MetricsPod[];
  log: Logger;
};

const SAMPLE_EVERY_MS = 10_000;
const SERVICE = { namespace: "kube-system", name: "tm-agent-metrics" };

type Samples = { previous?: CpuSample; current: CpuSample };

/** Two most recent CPU samples per cgroup (and for the machine), taken every 10 s. */
class Sampler {
  readonly containers = new Map<string, Samples>();
  machine: Samples | undefined;

  async sample(pods: MetricsPod[]): Promise<void> {
    const at = Date.now();
    const live = new Set<string>();
    for (const c of pods.flatMap((p) => p.containers)) {
      const usec = await cgroupCpuUsageUsec(c.cgroup);
      if (usec === undefined) continue;
      live.add(c.cgroup);
      this.containers.set(c.cgroup, {
        previous: this.containers.get(c.cgroup)?.current,
        current: { at, usec },
      });
    }
    for (const key of this.containers.keys()) if (!live.has(key)) this.containers.delete(key);
    this.machine = { previous: this.machine?.current, current: { at, usec: (await nodeCpuSeconds()) * 1e6 } };
  }

  window(s: Samples | undefined): number {
    return s?.previous ? Math.round((s.current.at - s.previous.at) / 1000) : 0;
  }
}

async function podInput(p: MetricsPod, sampler: Sampler): Promise<PodMetricsInput | undefined> {
  const containers = [];
  for (const c of p.containers) {
    const s = sampler.containers.get(c.cgroup);
    const cores = s && cpuRate(s.previous, s.current);
    if (cores === undefined) return undefined;
    containers.push({ name: c.container, cpuCores: cores, memoryBytes: await cgroupMemoryBytes(c.cgroup) });
  }
  return containers.length > 0
    ? { namespace: p.namespace, name: p.name, labels: p.labels, containers }
    : undefined;
}

async function register(o: MetricsApiOptions): Promise<string> {
  const core = o.admin.makeApiClient(CoreV1Api);
  const registration = o.admin.makeApiClient(ApiregistrationV1Api);
  const { namespace, name } = SERVICE;
  const ignoreConflict = (err: unknown) => {
    if (statusCode(err) !== 409) throw err;
  };
  await withRetry(() =>
    core
      .createNamespacedService({
        namespace,
        body: { metadata: { name }, spec: { ports: [{ name: "https", port: 443, targetPort: o.port }] } },
      })
      .catch(ignoreConflict),
  );
  const endpoints = {
    metadata: { name, namespace },
    subsets: [
      { addresses: [{ ip: o.net.gateway }], ports: [{ name: "https", port: o.port, protocol: "TCP" }] },
    ],
  };
  await withRetry(() =>
    core
      .replaceNamespacedEndpoints({ name, namespace, body: endpoints })
      .catch((err) =>
        statusCode(err) === 404
          ? core.createNamespacedEndpoints({ namespace, body: endpoints })
          : Promise.reject(err),
      ),
  );
  const apiService = {
    metadata: { name: "v1beta1.metrics.k8s.io" },
    spec: {
      group: "metrics.k8s.io",
      version: "v1beta1",
      service: { namespace, name, port: 443 },
      // The agent serves with a node certificate; the aggregator reaches it on this machine only.
      insecureSkipTLSVerify: true,
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  };
  await withRetry(async () => {
    const existing = await registration.readAPIService({ name: apiService.metadata.name }).catch((err) => {
      if (statusCode(err) === 404) return null;
      throw err;
    });
    if (!existing) await registration.createAPIService({ body: apiService });
    else {
      const body = {
        ...apiService,
        metadata: { ...apiService.metadata, resourceVersion: existing.metadata?.resourceVersion },
      };
      await registration.replaceAPIService({ name: apiService.metadata.name, body });
    }
  });
  const clusterIP = (await withRetry(() => core.readNamespacedService({ name, namespace }))).spec?.clusterIP;
  if (!clusterIP) throw new Error(`service ${namespace}/${name} has no cluster IP`);
  return clusterIP;
}

export async function startMetricsApi(o: MetricsApiOptions): Promise<Server[]> {
  const sampler = new Sampler();
  await sampler.sample(o.pods());
  setInterval(
    () =>
      void sampler.sample(o.pods()).catch((err) => o.log.warn({ err: String(err) }, "metrics sample failed")),
    SAMPLE_EVERY_MS,
  ).unref();
  const firstNode = o.nodeNames[0] ?? "";
  const json = (res: import("node:http").ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const failure = (res: import("node:http").ServerResponse, code: number, reason: string) =>
    json(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", reason, code });
  /** The one object asked for by name (404 when there is none), or else the list. */
  const answer = (
    res: import("node:http").ServerResponse,
    kind: string,
    name: string | undefined,
    items: unknown[],
  ) => {
    if (!name) return json(res, 200, { kind, apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items });
    return items[0] ? json(res, 200, items[0]) : failure(res, 404, "NotFound");
  };
  const handler = async (
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ) => {
    const url = new URL(req.url ?? "/", "https://metrics");
    const path = url.pathname.replace(/\/$/, "");
    if (["/healthz", "/readyz", "/livez"].includes(path)) return json(res, 200, "ok");
    const base = "/apis/metrics.k8s.io/v1beta1";
    if (path === base) return json(res, 200, API_RESOURCES);
    const m =
      /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/(pods|nodes)(?:\/([^/]+))?$/.exec(path);
    if (!m) return failure(res, 404, "NotFound");
    const [, namespace, resource = "", name] = m;
    const user = String(req.headers["x-remote-user"] ?? "");
    const groups = ([] as string[]).concat(req.headers["x-remote-group"] ?? []).flatMap((g) => g.split(","));
    const attrs = {
      group: "metrics.k8s.io",
      resource,
      verb: name ? "get" : "list",
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
    };
    if (!(await o.api.accessAllowed(user, groups, attrs))) {
      return failure(res, 403, "Forbidden");
    }
    const now = new Date();
    if (resource === "nodes") {
      const s = sampler.machine;
      const cores = s ? cpuRate(s.previous, s.current) : undefined;
      const items =
        cores === undefined
          ? []
          : o.nodeNames
              .filter((n) => !name || n === name)
              .map((n) => nodeMetrics(n, cores, os.totalmem() - os.freemem(), now, sampler.window(s)));
      return answer(res, "NodeMetricsList", name, items);
    }
    const matches = parseLabelSelector(url.searchParams.get("labelSelector") ?? "");
    const items = [];
    for (const p of o.pods()) {
      if ((namespace && p.namespace !== namespace) || (name && p.name !== name) || !matches(p.labels))
        continue;
      const input = await podInput(p, sampler);
      const s = sampler.containers.get(p.containers[0]?.cgroup ?? "");
      if (input) items.push(podMetrics(input, now, sampler.window(s)));
    }
    return answer(res, "PodMetricsList", name, items);
  };
  const tls = {
    cert: await readFile(`${o.pkiDir}/node-${firstNode}-serving.crt`),
    key: await readFile(`${o.pkiDir}/node-${firstNode}-serving.key`),
    ca: await readFile(`${o.pkiDir}/front-proxy-ca.crt`),
    requestCert: true,
    rejectUnauthorized: true,
  };
  const listen = async (host: string, port: number) => {
    const server = createServer(tls, (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      if (cn !== "front-proxy-client")
        return json(res, 403, { kind: "Status", code: 403, reason: "Forbidden" });
      handler(req, res).catch((err: unknown) =>
        json(res, 500, { kind: "Status", code: 500, message: String(err) }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  };
  const gatewayServer = await listen(o.net.gateway, o.port);
  const clusterIP = await register(o);
  await addLocalAddress(o.net, clusterIP);
  const clusterIPServer = await listen(clusterIP, 443);
  o.log.info({ listen: [`${o.net.gateway}:${o.port}`, `${clusterIP}:443`] }, "metrics.k8s.io API registered");
  return [gatewayServer, clusterIPServer];
}
