// One container of a pod on this node: starts it, notices its exit, restarts it by policy with
// back-off, runs its probes and stops it gracefully (preStop, SIGTERM, grace period, SIGKILL).
import { open, readFile } from "node:fs/promises";
import type { V1Container, V1Probe } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type ActionOutcome, runAction } from "./actions.ts";
import type { PodEvent } from "./kube.ts";
import {
  type Backoff,
  exitOutcome,
  type RestartPolicy,
  restartDelayMs,
  shouldRestart,
  terminationMessage,
} from "./lifecycle.ts";
import type { ContainerPlan, PlanFailure } from "./plan.ts";
import { resetTerminationLog } from "./podfs.ts";
import {
  actionTarget,
  initialTracker,
  type ProbeKind,
  type ProbeTracker,
  probeDue,
  probeTimeoutMs,
  recordProbe,
} from "./probes.ts";
import {
  type ContainerProcess,
  type ExitInfo,
  killCgroup,
  prepareMountTargets,
  signalProcess,
  startContainer,
} from "./runtime.ts";
import type { ContainerRecord, Terminated } from "./status.ts";

/** What a container needs from its pod. */
export type PodSide = {
  uid: string;
  /** The pod's directory on the host, holding every mount source. */
  dir: string;
  netns: string;
  podIP: string;
  restartPolicy: RestartPolicy;
  backoff: Backoff;
  log: Logger;
  createdPathsFile: string;
  plan: (
    container: V1Container,
    field: string,
  ) => { ok: true; plan: ContainerPlan } | { ok: false; failure: PlanFailure };
  cgroup: (container: string) => string;
  /** Reports an Event about the pod (fire and forget). */
  event: (e: PodEvent) => void;
  runDir: (container: string, restart: number) => string;
  logFile: (container: string, restart: number) => string;
};

const CONFIG_RETRY_MS = 3_000;
const UNHEALTHY_EVENT_EVERY_MS = 10_000;

async function fileTail(path: string, bytes: number): Promise<string> {
  try {
    const fh = await open(path, "r");
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString("utf8");
    } finally {
      await fh.close();
    }
  } catch {
    return "";
  }
}

export class ContainerSlot {
  readonly spec: V1Container;
  readonly field: string;
  readonly isInit: boolean;
  record: ContainerRecord;
  /** Terminated for good: will not be started again. */
  done = false;
  private proc: (ContainerProcess & { plan: ContainerPlan }) | undefined;
  private exit: ExitInfo | undefined;
  private nextStartAt = 0;
  private probes: Record<ProbeKind, ProbeTracker> = {
    startup: initialTracker("startup"),
    readiness: initialTracker("readiness"),
    liveness: initialTracker("liveness"),
  };
  private startupPassed = false;
  private probing = false;
  private stopping: Promise<void> | undefined;
  private killMessage: string | undefined;
  private readonly unhealthyReportedAt: Partial<Record<ProbeKind, number>> = {};

  constructor(spec: V1Container, field: string, isInit: boolean) {
    this.spec = spec;
    this.field = field;
    this.isInit = isInit;
    const reason = isInit ? "PodInitializing" : "ContainerCreating";
    this.record = {
      name: spec.name,
      image: spec.image ?? "",
      restartCount: 0,
      state: { kind: "waiting", reason },
      ready: false,
      started: false,
    };
  }

  isRunning(): boolean {
    return this.proc !== undefined;
  }

  succeeded(): boolean {
    return this.record.state.kind === "terminated" && this.record.state.terminated.exitCode === 0;
  }

  /** Starts the container if it is not running, not done and its back-off has passed. */
  async startIfDue(pod: PodSide, now: number): Promise<void> {
    if (this.proc || this.exit || this.done || now < this.nextStartAt) return;
    const planned = pod.plan(this.spec, this.field);
    if (!planned.ok) {
      const previous = this.record.state;
      if (previous.kind !== "waiting" || previous.message !== planned.failure.message) {
        pod.event({
          type: "Warning",
          reason: "Failed",
          message: `${planned.failure.reason}: ${planned.failure.message}`,
          container: this.spec.name,
        });
      }
      this.record.state = { kind: "waiting", ...planned.failure };
      this.nextStartAt = now + CONFIG_RETRY_MS;
      return;
    }
    const plan = planned.plan;
    for (const w of plan.warnings) pod.log.warn({ container: this.spec.name }, w);
    const restart = this.record.lastTermination ? this.record.restartCount + 1 : this.record.restartCount;
    let proc: ContainerProcess;
    try {
      await resetTerminationLog(plan.terminationLogFile);
      await prepareMountTargets(plan.mounts, pod.createdPathsFile);
      proc = await startContainer({
        netns: pod.netns,
        podDir: pod.dir,
        plan,
        cgroup: pod.cgroup(this.spec.name),
        runDir: pod.runDir(this.spec.name, restart),
        logFile: pod.logFile(this.spec.name, restart),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      pod.log.error({ container: this.spec.name, err: message }, "container start failed");
      pod.event({
        type: "Warning",
        reason: "Failed",
        message: `Error: ${message}`,
        container: this.spec.name,
      });
      this.record.state = { kind: "waiting", reason: "RunContainerError", message };
      this.nextStartAt = now + CONFIG_RETRY_MS;
      return;
    }
    this.proc = { ...proc, plan };
    this.record.restartCount = restart;
    this.record.containerID = `tm-agent://${pod.uid}/${this.spec.name}/${restart}`;
    this.record.state = { kind: "running", startedAt: proc.startedAt };
    this.startupPassed = !this.spec.startupProbe;
    this.record.started = this.startupPassed;
    this.record.ready = false;
    this.probes = {
      startup: initialTracker("startup"),
      readiness: initialTracker("readiness"),
      liveness: initialTracker("liveness"),
    };
    this.killMessage = undefined;
    pod.log.info({ container: this.spec.name, pid: proc.pid, restart, argv: plan.argv }, "container started");
    pod.event({
      type: "Normal",
      reason: "Started",
      message: `Started container ${this.spec.name}`,
      container: this.spec.name,
    });
    void proc.exited.then((e) => {
      this.exit = e;
    });
  }

  /** Records an exit seen since the last call and decides on a restart. */
  async collectExit(pod: PodSide, terminating: boolean): Promise<void> {
    const exit = this.exit;
    const proc = this.proc;
    if (!exit || !proc) return;
    await killCgroup(pod.cgroup(this.spec.name));
    const outcome = exitOutcome(exit.code, exit.signal);
    const restart = this.record.restartCount;
    const message = terminationMessage(
      await readFile(proc.plan.terminationLogFile, "utf8").catch(() => ""),
      await fileTail(pod.logFile(this.spec.name, restart), 16_384),
      this.spec.terminationMessagePolicy,
      outcome.exitCode,
    );
    const terminated: Terminated = {
      exitCode: outcome.exitCode,
      ...(outcome.signal !== undefined ? { signal: outcome.signal } : {}),
      reason: outcome.reason,
      ...((message ?? this.killMessage) ? { message: message ?? this.killMessage } : {}),
      startedAt: proc.startedAt,
      finishedAt: exit.at,
    };
    pod.log.info(
      { container: this.spec.name, exitCode: outcome.exitCode, signal: exit.signal },
      "container exited",
    );
    this.proc = undefined;
    this.exit = undefined;
    this.record.ready = false;
    this.record.started = false;
    const again = this.isInit
      ? pod.restartPolicy !== "Never" && outcome.exitCode !== 0
      : shouldRestart(pod.restartPolicy, outcome.exitCode);
    if (terminating || !again) {
      this.record.state = { kind: "terminated", terminated };
      this.done = true;
      return;
    }
    const ranFor = exit.at.getTime() - proc.startedAt.getTime();
    const delay = restartDelayMs(restart, ranFor, pod.backoff);
    if (delay > 0) {
      const message = `Back-off restarting failed container ${this.spec.name}`;
      pod.event({ type: "Warning", reason: "BackOff", message, container: this.spec.name });
    }
    this.record.lastTermination = terminated;
    this.nextStartAt = Date.now() + delay;
    this.record.state =
      delay > 0
        ? {
            kind: "waiting",
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.spec.name}`,
          }
        : { kind: "waiting", reason: "ContainerCreating" };
  }

  /** Runs whichever probe is due; at most one probe of this container is in flight. */
  probe(pod: PodSide, now: number, graceMs: number): void {
    const proc = this.proc;
    if (!proc || this.probing || this.stopping || this.isInit) return;
    const started = proc.startedAt.getTime();
    const check = (kind: ProbeKind, probe: V1Probe, after: (t: ProbeTracker) => void) => {
      if (!probeDue(probe, this.probes[kind], started, now)) return false;
      this.probing = true;
      void this.runProbe(pod, kind, probe)
        .then((outcome) => {
          this.probes[kind] = recordProbe(probe, this.probes[kind], outcome.ok, Date.now());
          if (!outcome.ok) {
            pod.log.info({ container: this.spec.name, kind, message: outcome.message }, "probe failed");
            this.reportUnhealthy(pod, kind, outcome.message);
          }
          if (this.proc === proc) after(this.probes[kind]);
        })
        .finally(() => {
          this.probing = false;
        });
      return true;
    };
    const kill = (what: string) => {
      this.killMessage = `Container ${this.spec.name} failed ${what} probe, will be restarted`;
      pod.event({ type: "Normal", reason: "Killing", message: this.killMessage, container: this.spec.name });
      void this.stop(pod, graceMs);
    };
    if (!this.startupPassed && this.spec.startupProbe) {
      check("startup", this.spec.startupProbe, (t) => {
        if (t.result === "success" && t.successes > 0) {
          this.startupPassed = true;
          this.record.started = true;
        } else if (t.failures >= (this.spec.startupProbe?.failureThreshold ?? 3)) kill("startup");
      });
      return;
    }
    if (
      this.spec.livenessProbe &&
      check("liveness", this.spec.livenessProbe, (t) => t.result === "failure" && kill("liveness"))
    )
      return;
    if (this.spec.readinessProbe) {
      check("readiness", this.spec.readinessProbe, (t) => {
        this.record.ready = t.result === "success";
      });
    } else {
      this.record.ready = true;
    }
  }

  private async runProbe(pod: PodSide, kind: ProbeKind, probe: V1Probe): Promise<ActionOutcome> {
    const proc = this.proc;
    if (!proc) return { ok: false, message: "container not running" };
    try {
      const target = actionTarget(probe, this.spec, pod.podIP, `${this.field}.${kind}Probe`);
      return await runAction(target, probeTimeoutMs(probe), { pid: proc.pid, env: proc.plan.env });
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** An Unhealthy Event per failing probe kind at most every 10 s, not one per period. */
  private reportUnhealthy(pod: PodSide, kind: ProbeKind, message: string): void {
    const now = Date.now();
    if (now - (this.unhealthyReportedAt[kind] ?? 0) < UNHEALTHY_EVENT_EVERY_MS) return;
    this.unhealthyReportedAt[kind] = now;
    const what = `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
    pod.event({
      type: "Warning",
      reason: "Unhealthy",
      message: `${what} probe failed: ${message}`,
      container: this.spec.name,
    });
  }

  /** preStop hook, SIGTERM, then SIGKILL to the whole cgroup when the grace period runs out. */
  async stop(pod: PodSide, graceMs: number): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.stopping ??= (async () => {
      const deadline = Date.now() + graceMs;
      const preStop = this.spec.lifecycle?.preStop;
      if (preStop && graceMs > 0) {
        try {
          const target = actionTarget(preStop, this.spec, pod.podIP, `${this.field}.lifecycle.preStop`);
          const outcome = await Promise.race([
            runAction(target, graceMs, { pid: proc.pid, env: proc.plan.env }),
            proc.exited.then(() => ({ ok: true, message: "container exited" })),
          ]);
          if (!outcome.ok)
            pod.log.warn({ container: this.spec.name, message: outcome.message }, "preStop hook failed");
        } catch (err) {
          pod.log.warn({ container: this.spec.name, err }, "preStop hook failed");
        }
      }
      if (graceMs > 0) signalProcess(proc.pid, "SIGTERM");
      const remaining = Math.max(0, deadline - Date.now());
      const timedOut = await Promise.race([
        proc.exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), remaining)),
      ]);
      if (timedOut) {
        pod.log.info({ container: this.spec.name, graceMs }, "grace period over, killing");
        await killCgroup(pod.cgroup(this.spec.name));
      }
      await proc.exited;
    })().finally(() => {
      this.stopping = undefined;
    });
    await this.stopping;
  }
}
