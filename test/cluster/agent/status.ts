// Pod status from what the agent knows about its containers, computed the way the kubelet does
// (phase, conditions, container statuses), as the JSON sent in a merge patch of pods/status.
import type { V1Pod } from "@kubernetes/client-node";

export type Terminated = {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: Date;
  finishedAt: Date;
};

export type ContainerState =
  | { kind: "waiting"; reason: string; message?: string }
  | { kind: "running"; startedAt: Date }
  | { kind: "terminated"; terminated: Terminated };

export type ContainerRecord = {
  name: string;
  image: string;
  restartCount: number;
  state: ContainerState;
  lastTermination?: Terminated;
  ready: boolean;
  started: boolean;
  containerID?: string;
};

export type PodRecord = {
  initContainers: ContainerRecord[];
  containers: ContainerRecord[];
  podIP?: string;
  hostIP: string;
  startTime: Date;
  sandboxReady: boolean;
};

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

/**
 * A pod IP list for a strategic merge patch: the directive replaces the stored list instead of
 * merging by IP, so a new sandbox address never sits beside the old one.
 */
type IPList = ({ ip: string } | { $patch: "replace" })[];

function ipList(ip: string): IPList {
  return [{ $patch: "replace" }, { ip }];
}

type ConditionJson = {
  type: string;
  status: "True" | "False";
  reason?: string;
  message?: string;
  lastTransitionTime: string;
};

export type PodStatusJson = {
  phase: Phase;
  conditions: ConditionJson[];
  hostIP: string;
  hostIPs: IPList;
  podIP?: string;
  podIPs?: IPList;
  startTime: string;
  initContainerStatuses?: unknown[];
  containerStatuses: unknown[];
};

export function k8sTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function terminatedJson(t: Terminated, containerID?: string) {
  return {
    exitCode: t.exitCode,
    ...(t.signal !== undefined ? { signal: t.signal } : {}),
    reason: t.reason,
    ...(t.message ? { message: t.message } : {}),
    startedAt: k8sTime(t.startedAt),
    finishedAt: k8sTime(t.finishedAt),
    ...(containerID ? { containerID } : {}),
  };
}

function stateJson(s: ContainerState, containerID?: string) {
  switch (s.kind) {
    case "waiting":
      return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
    case "running":
      return { running: { startedAt: k8sTime(s.startedAt) } };
    case "terminated":
      return { terminated: terminatedJson(s.terminated, containerID) };
  }
}

function containerStatusJson(c: ContainerRecord) {
  return {
    name: c.name,
    image: c.image,
    imageID: `tm-agent://${c.image}`,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: stateJson(c.state, c.containerID),
    lastState: c.lastTermination ? { terminated: terminatedJson(c.lastTermination) } : {},
  };
}

function initDone(c: ContainerRecord): boolean {
  return c.state.kind === "terminated" && c.state.terminated.exitCode === 0;
}

/** The kubelet's getPhase: counts running, stopped (incl. waiting to restart) and succeeded containers. */
export function podPhase(pod: V1Pod, record: PodRecord): Phase {
  const policy = pod.spec?.restartPolicy ?? "Always";
  const failedInit = record.initContainers.some(
    (c) => c.state.kind === "terminated" && c.state.terminated.exitCode !== 0,
  );
  if (failedInit && policy === "Never") return "Failed";
  if (!record.initContainers.every(initDone)) return "Pending";
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of record.containers) {
    if (c.state.kind === "running") running++;
    else if (c.state.kind === "terminated") {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastTermination) stopped++;
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "OnFailure") return "Running";
    return "Failed";
  }
  return "Pending";
}

function condition(
  type: string,
  ok: boolean,
  previous: ConditionJson[],
  now: Date,
  reason?: string,
  message?: string,
): ConditionJson {
  const status = ok ? "True" : "False";
  const before = previous.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : k8sTime(now);
  return {
    type,
    status,
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
    lastTransitionTime,
  };
}

/** Ready needs ready containers and every readiness gate's condition True (set by others). */
function readyCondition(
  pod: V1Pod,
  containersReady: boolean,
  previous: ConditionJson[],
  now: Date,
  reason: string,
  message: string | undefined,
): ConditionJson {
  if (!containersReady) return condition("Ready", false, previous, now, reason, message);
  const closed = (pod.spec?.readinessGates ?? [])
    .map((g) => g.conditionType)
    .filter((type) => pod.status?.conditions?.find((c) => c.type === type)?.status !== "True");
  if (closed.length === 0) return condition("Ready", true, previous, now);
  const gateMessage = `the status of pod readiness gates [${closed.join(" ")}] is not "True"`;
  return condition("Ready", false, previous, now, "ReadinessGatesNotReady", gateMessage);
}

export function computePodStatus(pod: V1Pod, record: PodRecord, now: Date): PodStatusJson {
  const previous = (pod.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status === "True" ? ("True" as const) : ("False" as const),
    lastTransitionTime: c.lastTransitionTime ? k8sTime(new Date(c.lastTransitionTime)) : k8sTime(now),
  }));
  const phase = podPhase(pod, record);
  const notInitialized = record.initContainers.filter((c) => !initDone(c)).map((c) => c.name);
  const notReady = record.containers.filter((c) => !c.ready).map((c) => c.name);
  const completed = phase === "Succeeded" || phase === "Failed";
  const readyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = completed ? undefined : `containers with unready status: [${notReady.join(" ")}]`;
  const containersReady = notReady.length === 0 && !completed;
  const conditions = [
    condition("PodReadyToStartContainers", record.sandboxReady, previous, now),
    condition(
      "Initialized",
      notInitialized.length === 0,
      previous,
      now,
      "ContainersNotInitialized",
      `containers with incomplete status: [${notInitialized.join(" ")}]`,
    ),
    readyCondition(pod, containersReady, previous, now, readyReason, readyMessage),
    condition("ContainersReady", containersReady, previous, now, readyReason, readyMessage),
    condition("PodScheduled", true, previous, now),
  ];
  return {
    phase,
    conditions,
    hostIP: record.hostIP,
    hostIPs: ipList(record.hostIP),
    ...(record.podIP ? { podIP: record.podIP, podIPs: ipList(record.podIP) } : {}),
    startTime: k8sTime(record.startTime),
    ...(record.initContainers.length > 0
      ? { initContainerStatuses: record.initContainers.map(containerStatusJson) }
      : {}),
    containerStatuses: record.containers.map(containerStatusJson),
  };
}
