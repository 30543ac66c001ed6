// Which pods a Service's traffic goes to, computed the way kube-proxy computes it: the Service
// port is matched to the EndpointSlice port of the same name and protocol, and only endpoints
// whose `ready` condition is not false are used (unset means ready, per the EndpointSlice API;
// a terminating pod's endpoint turns not ready before the pod stops).
import type { V1EndpointSlice, V1Service, V1ServicePort } from "@kubernetes/client-node";

export type Backend = { ip: string; port: number };

/** A Service or Service port that does not exist: the caller's mistake, not the proxy's. */
export class NotFound extends Error {}

/** The Service port a caller names by number or by name; an error lists the ports there are. */
export function findServicePort(service: V1Service, port: string | number): V1ServicePort {
  const ports = service.spec?.ports ?? [];
  const wanted = String(port);
  const found = ports.find((p) => String(p.port) === wanted || p.name === wanted);
  if (found) return found;
  const ns = service.metadata?.namespace ?? "";
  const name = service.metadata?.name ?? "";
  const known = ports.map((p) => (p.name ? `${p.name}/${p.port}` : String(p.port))).join(", ") || "none";
  throw new NotFound(`service ${ns}/${name} has no port "${wanted}" (ports: ${known})`);
}

/** Slices belong to a Service through the kubernetes.io/service-name label. */
export function slicesOf(service: V1Service, slices: readonly V1EndpointSlice[]): V1EndpointSlice[] {
  const ns = service.metadata?.namespace;
  const name = service.metadata?.name;
  return slices.filter(
    (s) => s.metadata?.namespace === ns && s.metadata?.labels?.["kubernetes.io/service-name"] === name,
  );
}

/** Ready IPv4 backends of one Service port, deduplicated, in address order. */
export function readyBackends(servicePort: V1ServicePort, slices: readonly V1EndpointSlice[]): Backend[] {
  const protocol = servicePort.protocol ?? "TCP";
  const name = servicePort.name ?? "";
  const seen = new Map<string, Backend>();
  for (const slice of slices) {
    if (slice.addressType !== "IPv4") continue;
    const port = (slice.ports ?? []).find(
      (p) => (p.name ?? "") === name && (p.protocol ?? "TCP") === protocol,
    );
    if (port?.port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const ip of endpoint.addresses) seen.set(`${ip}:${port.port}`, { ip, port: port.port });
    }
  }
  return [...seen.values()].sort((a, b) => compareIPv4(a.ip, b.ip) || a.port - b.port);
}

function compareIPv4(a: string, b: string): number {
  const key = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  return key(a) - key(b);
}

/** Round robin over whatever the backends are at each pick; the list may change between picks. */
export class RoundRobin {
  private next = 0;

  pick(backends: readonly Backend[]): Backend | undefined {
    if (backends.length === 0) return undefined;
    const backend = backends[this.next % backends.length];
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return backend;
  }
}
