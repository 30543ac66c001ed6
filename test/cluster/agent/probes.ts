// Probe scheduling and thresholds (startup, readiness, liveness) and probe/hook targets, as the
// kubelet applies them. Pure: the runtime adapter performs the checks.
import type { V1Container, V1HTTPGetAction, V1Probe, V1TCPSocketAction } from "@kubernetes/client-node";

export type ProbeKind = "startup" | "readiness" | "liveness";
export type ProbeResult = "success" | "failure";

export type ProbeTracker = { successes: number; failures: number; result: ProbeResult; lastRunAt?: number };

/** Readiness starts failed (not ready); liveness and startup start as not-yet-failed. */
export function initialTracker(kind: ProbeKind): ProbeTracker {
  return { successes: 0, failures: 0, result: kind === "readiness" ? "failure" : "success" };
}

export function probeTimeoutMs(probe: V1Probe): number {
  return (probe.timeoutSeconds ?? 1) * 1000;
}

export function probeDue(probe: V1Probe, tracker: ProbeTracker, startedAt: number, now: number): boolean {
  if (now - startedAt < (probe.initialDelaySeconds ?? 0) * 1000) return false;
  if (tracker.lastRunAt === undefined) return true;
  return now - tracker.lastRunAt >= (probe.periodSeconds ?? 10) * 1000;
}

/** Applies one outcome: the result flips only after successThreshold / failureThreshold in a row. */
export function recordProbe(probe: V1Probe, tracker: ProbeTracker, ok: boolean, now: number): ProbeTracker {
  const successes = ok ? tracker.successes + 1 : 0;
  const failures = ok ? 0 : tracker.failures + 1;
  let result = tracker.result;
  if (ok && successes >= (probe.successThreshold ?? 1)) result = "success";
  if (!ok && failures >= (probe.failureThreshold ?? 3)) result = "failure";
  return { successes, failures, result, lastRunAt: now };
}

/** The startup probe has passed once; until then liveness and readiness do not run. */
export function startupPassed(
  probe: V1Probe | undefined,
  tracker: ProbeTracker,
  everSucceeded: boolean,
): boolean {
  if (!probe) return true;
  return (
    everSucceeded || (tracker.successes >= (probe.successThreshold ?? 1) && tracker.result === "success")
  );
}

export type ProbeTarget =
  | { kind: "http"; url: string; headers: Record<string, string> }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "exec"; command: string[] }
  | { kind: "sleep"; seconds: number };

function resolvePort(port: number | string, container: V1Container, field: string): number {
  if (typeof port === "number") return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`${field}.port: container "${container.name}" has no port named "${port}"`);
  return named.containerPort;
}

/** Probes and hooks may only reach the pod itself: a host other than the pod IP is refused. */
function checkHost(host: string | undefined, podIP: string, field: string): string {
  if (host && host !== podIP) {
    throw new Error(`${field}.host: "${host}" is not the pod IP; the node agent only probes the pod itself`);
  }
  return podIP;
}

function httpTarget(a: V1HTTPGetAction, container: V1Container, podIP: string, field: string): ProbeTarget {
  const host = checkHost(a.host, podIP, field);
  const scheme = (a.scheme ?? "HTTP").toLowerCase();
  const path = a.path ?? "/";
  const headers: Record<string, string> = {};
  for (const h of a.httpHeaders ?? []) headers[h.name] = h.value;
  const port = resolvePort(a.port, container, field);
  return {
    kind: "http",
    url: `${scheme}://${host}:${port}${path.startsWith("/") ? path : `/${path}`}`,
    headers,
  };
}

function tcpTarget(a: V1TCPSocketAction, container: V1Container, podIP: string, field: string): ProbeTarget {
  return { kind: "tcp", host: checkHost(a.host, podIP, field), port: resolvePort(a.port, container, field) };
}

type Action = {
  httpGet?: V1HTTPGetAction;
  tcpSocket?: V1TCPSocketAction;
  exec?: { command?: string[] };
  grpc?: unknown;
  sleep?: { seconds: number };
};

export function actionTarget(
  action: Action,
  container: V1Container,
  podIP: string,
  field: string,
): ProbeTarget {
  if (action.httpGet) return httpTarget(action.httpGet, container, podIP, `${field}.httpGet`);
  if (action.tcpSocket) return tcpTarget(action.tcpSocket, container, podIP, `${field}.tcpSocket`);
  if (action.exec) return { kind: "exec", command: action.exec.command ?? [] };
  if (action.sleep) return { kind: "sleep", seconds: action.sleep.seconds };
  throw new Error(`${field}: no supported action (httpGet, tcpSocket, exec, sleep)`);
}
