// The node agent: plays one or more Nodes on this machine, each with its own credentials, and
// runs the pods bound to them. Pod events come from a list+watch per node that is restarted when
// it stops on an error, plus a periodic relist so that a slow or broken watch never stalls pods.
import { mkdir, writeFile } from "node:fs/promises";
import type { Server } from "node:net";
import { join } from "node:path";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { backoffDelay } from "../../../predictor/src/backoff.ts";
import { type ApiserverForward, startApiserverForward } from "./apiserver-forward.ts";
import { machineFacts, NodeHeartbeat } from "./heartbeat.ts";
import type { ImageTable } from "./images.ts";
import { NodeApi } from "./kube.ts";
import { startKubeletApi } from "./kubelet-api.ts";
import type { Layout } from "./layout.ts";
import type { Backoff } from "./lifecycle.ts";
import { startMetricsApi } from "./metrics-api.ts";
import { ensureBridge } from "./netlink.ts";
import { allocatePodIP, type NetworkConfig, nodePodCidr } from "./network.ts";
import { PodWorker } from "./pod-worker.ts";
import { WATCH_RESTART } from "./retry.ts";

export type AgentNode = { name: string; kubeconfig: string };

export type AgentConfig = {
  nodes: AgentNode[];
  /** Used for one write only: the `kubernetes` Endpoints, which no node may write. */
  adminKubeconfig: string;
  layout: Layout;
  net: NetworkConfig;
  images: ImageTable;
  backoff: Backoff;
  maxPods: number;
  /** Node i (from 0) serves its kubelet API on this port + i. */
  kubeletPortBase: number;
  /**
   * Serve metrics.k8s.io on this port of the bridge gateway: for clusters without metrics-server
   * (it runs with the node services; a second cluster beside the first has none).
   */
  metricsPort: number | undefined;
  kubeletVersion: string;
  log: Logger;
};

const TICK_MS = 200;
const RELIST_MS = 10_000;

type NodeRuntime = { podCIDR: string; api: NodeApi; heartbeat: NodeHeartbeat; usedIPs: Set<string> };

export class Agent {
  private readonly config: AgentConfig;
  private readonly nodes = new Map<string, NodeRuntime>();
  private readonly workers = new Map<string, PodWorker>();
  private readonly removed = new Set<string>();
  private forward: ApiserverForward | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Kubelet APIs and the metrics API. */
  private readonly servers: Server[] = [];

  constructor(config: AgentConfig) {
    this.config = config;
  }

  async start(): Promise<void> {
    const { layout, net, log } = this.config;
    await mkdir(layout.podsStateDir, { recursive: true });
    await mkdir(layout.logsDir, { recursive: true });
    await writeFile(layout.pidFile, `${process.pid}\n`);
    await ensureBridge(net);
    const machine = machineFacts();
    for (const [i, n] of this.config.nodes.entries()) {
      const index = i + 1;
      const api = new NodeApi(n.name, n.kubeconfig);
      const facts = {
        ...machine,
        name: n.name,
        podCIDR: nodePodCidr(net, index),
        // The kubelet endpoint listens on loopback, where the cluster's node serving certs point.
        internalIP: "127.0.0.1",
        maxPods: this.config.maxPods,
        kubeletVersion: this.config.kubeletVersion,
        kubeletPort: this.config.kubeletPortBase + i,
      };
      const heartbeat = new NodeHeartbeat(api, facts, log);
      const podCIDR = await heartbeat.start();
      this.nodes.set(n.name, { podCIDR, api, heartbeat, usedIPs: new Set() });
      this.servers.push(
        await startKubeletApi({
          api,
          port: facts.kubeletPort,
          pkiDir: join(layout.clusterDir, "pki"),
          clusterDir: layout.clusterDir,
          containers: () =>
            [...this.workers.values()]
              .filter((w) => w.pod.spec?.nodeName === n.name)
              .flatMap((w) => w.runningContainers()),
          log,
        }),
      );
    }
    const first = this.nodes.values().next().value;
    if (!first) throw new Error("no nodes configured");
    const admin = new KubeConfig();
    admin.loadFromFile(this.config.adminKubeconfig);
    this.forward = await startApiserverForward(first.api, admin, net, log);
    for (const name of this.nodes.keys()) await this.watchPods(name);
    if (this.config.metricsPort !== undefined) {
      this.servers.push(
        ...(await startMetricsApi({
          api: first.api,
          admin,
          net,
          port: this.config.metricsPort,
          pkiDir: join(layout.clusterDir, "pki"),
          nodeNames: [...this.nodes.keys()],
          pods: () =>
            [...this.workers.values()].map((w) => ({
              namespace: w.pod.metadata?.namespace ?? "",
              name: w.pod.metadata?.name ?? "",
              labels: w.pod.metadata?.labels ?? {},
              containers: w.runningContainers(),
            })),
          log,
        })),
      );
    }
    this.timers.push(setInterval(() => this.tickAll(), TICK_MS));
    this.timers.push(setInterval(() => void this.relistAll(), RELIST_MS));
    log.info({ nodes: [...this.nodes.keys()] }, "node agent running");
  }

  /** Stops heartbeats and watches; running pods stay up until cleanup (the agent can be restarted). */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    for (const n of this.nodes.values()) n.heartbeat.stop();
    for (const server of [...(this.forward?.servers ?? []), ...this.servers]) server.close();
  }

  private node(name: string): NodeRuntime {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`node ${name} is not played by this agent`);
    return n;
  }

  private observe(nodeName: string, pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? "";
    if (this.removed.has(uid)) return;
    const existing = this.workers.get(uid);
    if (existing) {
      existing.pod = pod;
      return;
    }
    const n = this.node(nodeName);
    const { config } = this;
    const machine = machineFacts();
    const worker = new PodWorker(pod, {
      api: n.api,
      layout: config.layout,
      net: config.net,
      images: config.images,
      node: {
        cpu: machine.cpu,
        memory: machine.memoryBytes,
        ephemeralStorage: machine.ephemeralStorageBytes,
      },
      backoff: config.backoff,
      log: config.log.child({ node: nodeName }),
      allocateIP: () => {
        const ip = allocatePodIP(n.podCIDR, n.usedIPs);
        if (!ip) throw new Error(`node ${nodeName}: no free pod address in ${n.podCIDR}`);
        n.usedIPs.add(ip);
        return ip;
      },
      releaseIP: (ip) => n.usedIPs.delete(ip),
      kubernetesServiceEnv: () => this.forward?.env ?? {},
    });
    this.workers.set(uid, worker);
  }

  private forget(pod: V1Pod): void {
    const worker = this.workers.get(pod.metadata?.uid ?? "");
    if (!worker) return;
    worker.pod = pod;
    worker.gone = true;
  }

  private async watchPods(nodeName: string): Promise<void> {
    const { log } = this.config;
    const watch = this.node(nodeName).api.podWatch();
    let failures = 0;
    watch.on("add", (pod) => this.observe(nodeName, pod));
    watch.on("update", (pod) => this.observe(nodeName, pod));
    watch.on("delete", (pod) => this.forget(pod));
    watch.on("connect", () => {
      failures = 0;
    });
    // The list+watch stops for good on any error but 410; start it again after a back-off.
    watch.on("error", (err) => {
      const delay = backoffDelay(WATCH_RESTART, failures++);
      log.warn({ node: nodeName, err: String(err), delayMs: delay }, "pod watch stopped; restarting");
      setTimeout(
        () => void watch.start().catch((e) => log.error({ err: String(e) }, "pod watch restart failed")),
        delay,
      );
    });
    await watch.start();
  }

  private async relistAll(): Promise<void> {
    for (const [name, n] of this.nodes) {
      try {
        const listedAt = Date.now();
        const pods = await n.api.listPods();
        const live = new Set(pods.map((p) => p.metadata?.uid));
        for (const pod of pods) this.observe(name, pod);
        for (const [uid, w] of this.workers) {
          if (w.pod.spec?.nodeName === name && !live.has(uid) && w.observedAt < listedAt) w.gone = true;
        }
      } catch (err) {
        this.config.log.warn({ node: name, err: String(err) }, "pod relist failed");
      }
    }
  }

  private tickAll(): void {
    for (const [uid, w] of this.workers) {
      if (w.finished) {
        this.workers.delete(uid);
        this.removed.add(uid);
        continue;
      }
      void w.tick();
    }
  }
}
