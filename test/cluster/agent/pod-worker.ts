// One pod bound to one of the agent's nodes, from sandbox to deletion: network namespace, files,
// init containers in order, then the app containers, status patches, graceful termination.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ContainerSlot, type PodSide } from "./container.ts";
import type { NodeResources } from "./downward.ts";
import { type ObjectSources, serviceLinkEnv } from "./env.ts";
import type { ImageTable } from "./images.ts";
import type { NodeApi } from "./kube.ts";
import { containerCgroup, containerLogFile, type Layout, podDir, podPaths } from "./layout.ts";
import type { Backoff, RestartPolicy } from "./lifecycle.ts";
import { createPodNetwork, deletePodNetwork } from "./netlink.ts";
import { type NetworkConfig, netnsName, vethName } from "./network.ts";
import { planContainer, podEtcFiles } from "./plan.ts";
import { writeFileAtomic, writeVolume } from "./podfs.ts";
import { killCgroup } from "./runtime.ts";
import { computePodStatus, type PodStatusJson } from "./status.ts";
import { planVolumes, referencedObjects, tokenKey, tokenSources } from "./volumes.ts";

export type RunningContainer = {
  namespace: string;
  pod: string;
  container: string;
  cgroup: string;
  startedAt: Date;
};

export type WorkerEnv = {
  api: NodeApi;
  layout: Layout;
  net: NetworkConfig;
  images: ImageTable;
  node: NodeResources;
  backoff: Backoff;
  log: Logger;
  allocateIP: () => string;
  releaseIP: (ip: string) => void;
  /** KUBERNETES_SERVICE_HOST/PORT and friends, for every pod. */
  kubernetesServiceEnv: () => Record<string, string>;
};

const SOURCES_REFRESH_MS = 60_000;
const DEFAULT_GRACE_SECONDS = 30;
const SYNC_RETRY_MS = 2_000;

type Token = { token: string; fetchedAt: number; expiresAt: number };

export class PodWorker {
  pod: V1Pod;
  /** The pod object is gone from the API (deleted with grace 0 by us or by someone else). */
  gone = false;
  /** Nothing left to do: the agent drops the worker. */
  finished = false;
  readonly observedAt = Date.now();
  private readonly env: WorkerEnv;
  private readonly uid: string;
  private readonly log: Logger;
  private stage: "setup" | "running" | "completed" | "terminating" = "setup";
  private busy = false;
  private retryAt = 0;
  private ip: string | undefined;
  private ipReleased = false;
  private startTime = new Date();
  private readonly initSlots: ContainerSlot[];
  private readonly slots: ContainerSlot[];
  private sources: (ObjectSources & { serviceEnv: Record<string, string>; fetchedAt: number }) | undefined;
  private readonly tokens = new Map<string, Token>();
  private volumesError: string | undefined;
  private lastStatus = "";

  constructor(pod: V1Pod, env: WorkerEnv) {
    this.pod = pod;
    this.env = env;
    this.uid = pod.metadata?.uid ?? "";
    this.log = env.log.child({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, uid: this.uid });
    this.initSlots = (pod.spec?.initContainers ?? []).map(
      (c, i) => new ContainerSlot(c, `spec.initContainers[${i}]`, true),
    );
    this.slots = (pod.spec?.containers ?? []).map(
      (c, i) => new ContainerSlot(c, `spec.containers[${i}]`, false),
    );
  }

  /** Advances the pod one step; overlapping calls are skipped. */
  async tick(): Promise<void> {
    if (this.busy || this.finished || Date.now() < this.retryAt) return;
    this.busy = true;
    try {
      await this.step();
    } catch (err) {
      this.log.error({ err }, "pod sync failed; retrying");
      this.retryAt = Date.now() + SYNC_RETRY_MS;
    } finally {
      this.busy = false;
    }
  }

  /** Running containers with their cgroups, for the resource metrics endpoint. */
  runningContainers(): RunningContainer[] {
    return this.slots.flatMap((s) =>
      s.record.state.kind === "running"
        ? [
            {
              namespace: this.namespace,
              pod: this.name,
              container: s.spec.name,
              cgroup: containerCgroup(this.env.layout, this.uid, s.spec.name),
              startedAt: s.record.state.startedAt,
            },
          ]
        : [],
    );
  }

  private get namespace(): string {
    return this.pod.metadata?.namespace ?? "default";
  }

  private get name(): string {
    return this.pod.metadata?.name ?? "";
  }

  private async step(): Promise<void> {
    if (this.pod.metadata?.deletionTimestamp || this.gone) {
      await this.terminate();
      return;
    }
    if (this.stage === "completed") return;
    if (this.stage === "setup") {
      const phase = this.pod.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") {
        this.stage = "completed";
        return;
      }
      await this.createSandbox();
      this.stage = "running";
    }
    await this.refreshSources();
    const side = this.podSide();
    const now = Date.now();
    const pendingInit = this.initSlots.find((s) => !s.succeeded());
    for (const slot of [...this.initSlots, ...this.slots]) await slot.collectExit(side, false);
    if (pendingInit) {
      if (!pendingInit.done) await pendingInit.startIfDue(side, now);
    } else {
      for (const slot of this.slots) {
        await slot.startIfDue(side, now);
        slot.probe(side, now, this.graceMs());
      }
    }
    const status = await this.publishStatus();
    if (status.phase === "Succeeded" || status.phase === "Failed") {
      this.log.info({ phase: status.phase }, "pod completed");
      await this.teardown();
      this.stage = "completed";
    }
  }

  private graceMs(): number {
    const seconds =
      this.pod.metadata?.deletionGracePeriodSeconds ??
      this.pod.spec?.terminationGracePeriodSeconds ??
      DEFAULT_GRACE_SECONDS;
    return seconds * 1000;
  }

  private podSide(): PodSide {
    const l = this.env.layout;
    const paths = podPaths(l, this.uid);
    return {
      uid: this.uid,
      dir: podDir(l, this.uid),
      netns: netnsName(this.env.net, this.uid),
      podIP: this.ip ?? "",
      restartPolicy: (this.pod.spec?.restartPolicy ?? "Always") as RestartPolicy,
      backoff: this.env.backoff,
      log: this.log,
      createdPathsFile: l.createdPathsFile,
      cgroup: (c) => containerCgroup(this.env.layout, this.uid, c),
      event: (e) => {
        if (this.gone) return;
        this.env.api
          .podEvent(this.pod, e)
          .catch((err) => this.log.warn({ err: String(err), event: e.reason }, "event not recorded"));
      },
      runDir: (c, n) => join(podDir(l, this.uid), "run", `${c}-${n}`),
      logFile: (c, n) => containerLogFile(l, this.namespace, this.name, this.uid, c, n),
      plan: (container, field) => {
        if (this.volumesError)
          return { ok: false, failure: { reason: "CreateContainerConfigError", message: this.volumesError } };
        return planContainer({
          pod: this.pod,
          container,
          field,
          images: this.env.images,
          facts: { podIP: this.ip ?? "", hostIP: this.env.net.gateway },
          node: this.env.node,
          sources: this.sources ?? { configMaps: new Map(), secrets: new Map() },
          serviceEnv: this.sources?.serviceEnv ?? {},
          paths,
        });
      },
    };
  }

  private async createSandbox(): Promise<void> {
    const ip = this.env.allocateIP();
    this.ip = ip;
    this.startTime = new Date();
    const dir = podDir(this.env.layout, this.uid);
    await mkdir(dir, { recursive: true });
    const state = {
      namespace: this.namespace,
      name: this.name,
      node: this.pod.spec?.nodeName,
      ip,
      netns: netnsName(this.env.net, this.uid),
      veth: vethName(this.uid),
    };
    await writeFile(join(dir, "pod.json"), `${JSON.stringify(state)}\n`);
    await createPodNetwork(this.env.net, this.uid, ip);
    const files = podEtcFiles(this.pod, {
      podIP: ip,
      clusterDomain: this.env.net.clusterDomain,
      dnsServer: this.env.net.dnsServer,
    });
    const paths = podPaths(this.env.layout, this.uid);
    for (const [name, content] of Object.entries(files)) {
      await writeFileAtomic(paths.etcFile(name as keyof typeof files), content, 0o644);
    }
    this.log.info({ ip }, "pod sandbox ready");
  }

  /** Re-reads ConfigMaps, Secrets and Services every minute (sooner while blocked) and renews tokens at 80% of their life. */
  private async refreshSources(): Promise<void> {
    const now = Date.now();
    const stale =
      !this.sources || now - this.sources.fetchedAt > (this.volumesError ? 3_000 : SOURCES_REFRESH_MS);
    const tokenDue = [...this.tokens.values()].some(
      (t) => now > t.fetchedAt + 0.8 * (t.expiresAt - t.fetchedAt),
    );
    if (!stale && !tokenDue) return;
    const api = this.env.api;
    const refs = referencedObjects(this.pod);
    const configMaps = new Map<string, V1ConfigMap | null>();
    const secrets = new Map<string, V1Secret | null>();
    for (const n of refs.configMaps) configMaps.set(n, await api.readConfigMap(this.namespace, n));
    for (const n of refs.secrets) secrets.set(n, await api.readSecret(this.namespace, n));
    const services =
      this.pod.spec?.enableServiceLinks === false ? [] : await api.listServices(this.namespace);
    const serviceEnv = { ...serviceLinkEnv(services), ...this.env.kubernetesServiceEnv() };
    this.sources = { configMaps, secrets, serviceEnv, fetchedAt: now };
    for (const source of tokenSources(this.pod)) {
      const key = tokenKey(source);
      const t = this.tokens.get(key);
      if (t && now <= t.fetchedAt + 0.8 * (t.expiresAt - t.fetchedAt)) continue;
      const issued = await api.requestToken(this.pod, source.audience, source.expirationSeconds);
      this.tokens.set(key, { token: issued.token, fetchedAt: now, expiresAt: issued.expiresAt.getTime() });
    }
    try {
      const plans = planVolumes({
        pod: this.pod,
        sources: this.sources,
        tokens: new Map([...this.tokens].map(([k, t]) => [k, t.token])),
        facts: { podIP: this.ip ?? "", hostIP: this.env.net.gateway },
        node: this.env.node,
      });
      const paths = podPaths(this.env.layout, this.uid);
      for (const plan of plans) await writeVolume(paths.volumeDir(plan.name), plan);
      this.volumesError = undefined;
    } catch (err) {
      this.volumesError = err instanceof Error ? err.message : String(err);
      this.log.warn({ err: this.volumesError }, "volumes not ready");
    }
  }

  private async publishStatus(): Promise<PodStatusJson> {
    const status = computePodStatus(
      this.pod,
      {
        initContainers: this.initSlots.map((s) => s.record),
        containers: this.slots.map((s) => s.record),
        ...(this.ip ? { podIP: this.ip } : {}),
        hostIP: this.env.net.gateway,
        startTime: this.startTime,
        sandboxReady: this.stage === "running",
      },
      new Date(),
    );
    const json = JSON.stringify(status);
    if (json !== this.lastStatus && !this.gone) {
      await this.env.api.patchPodStatus(this.namespace, this.name, status);
      this.lastStatus = json;
    }
    return status;
  }

  /** Stops every container within the grace period, removes the sandbox, then the pod object. */
  private async terminate(): Promise<void> {
    const side = this.podSide();
    if (this.stage !== "terminating") {
      this.log.info({ graceMs: this.graceMs() }, "terminating pod");
      for (const slot of this.slots.filter((s) => s.isRunning())) {
        const message = `Stopping container ${slot.spec.name}`;
        side.event({ type: "Normal", reason: "Killing", message, container: slot.spec.name });
      }
      this.stage = "terminating";
    }
    const grace = this.gone && !this.pod.metadata?.deletionTimestamp ? 0 : this.graceMs();
    await Promise.all([...this.initSlots, ...this.slots].map((s) => s.stop(side, grace)));
    for (const slot of [...this.initSlots, ...this.slots]) await slot.collectExit(side, true);
    await this.teardown();
    if (!this.gone) {
      // The final status is informative only; the pod object goes either way.
      await this.publishStatus().catch((err) =>
        this.log.warn({ err: String(err) }, "final pod status not posted"),
      );
      await this.env.api.deletePod(this.namespace, this.name, this.uid);
    }
    this.finished = true;
    this.log.info("pod removed");
  }

  /** Kills what is left in the pod's cgroups and removes its network namespace and files. */
  private async teardown(): Promise<void> {
    for (const slot of [...this.initSlots, ...this.slots])
      await killCgroup(containerCgroup(this.env.layout, this.uid, slot.spec.name));
    await killCgroup(containerCgroup(this.env.layout, this.uid, ""));
    await deletePodNetwork(this.env.net, this.uid);
    if (this.ip && !this.ipReleased) this.env.releaseIP(this.ip);
    this.ipReleased = true;
    await rm(podDir(this.env.layout, this.uid), { recursive: true, force: true });
  }
}
