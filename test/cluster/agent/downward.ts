// Downward API values (env fieldRef/resourceFieldRef and downwardAPI volume items), resolved the
// way the kubelet resolves them.
import type {
  V1Container,
  V1ObjectFieldSelector,
  V1Pod,
  V1ResourceFieldSelector,
} from "@kubernetes/client-node";
import { parseQuantity } from "../../../operator/src/manifests/quantity.ts";

export { parseQuantity };

export type NodeResources = { cpu: number; memory: number; ephemeralStorage: number };

export type PodRuntimeFacts = { podIP: string; hostIP: string };

function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map?.[k])}`)
    .join("\n");
}

/** `metadata.labels['app']` → the label's value; whole maps in volumes as `k="v"` lines. */
export function resolveFieldRef(
  pod: V1Pod,
  ref: V1ObjectFieldSelector,
  facts: PodRuntimeFacts,
  field: string,
): string {
  const path = ref.fieldPath;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) {
    const map = keyed[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[keyed[2] ?? ""] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata?.labels);
    case "metadata.annotations":
      return formatMap(pod.metadata?.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return facts.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return facts.hostIP;
    default:
      throw new Error(`${field}.fieldPath: "${path}" is not a supported downward API field`);
  }
}

/** limits.cpu with divisor 1m → millicores, rounded up; an unset limit is the node's allocatable. */
export function resolveResourceFieldRef(
  container: V1Container,
  ref: V1ResourceFieldSelector,
  node: NodeResources,
  field: string,
): string {
  const [kind, resource] = ref.resource.split(".", 2);
  const allocatable: Record<string, number> = {
    cpu: node.cpu,
    memory: node.memory,
    "ephemeral-storage": node.ephemeralStorage,
  };
  if ((kind !== "limits" && kind !== "requests") || resource === undefined || !(resource in allocatable)) {
    throw new Error(`${field}.resource: "${ref.resource}" is not a supported resource field`);
  }
  const limit = container.resources?.limits?.[resource];
  const request = container.resources?.requests?.[resource] ?? limit;
  const set = kind === "limits" ? limit : request;
  const value =
    set === undefined ? (kind === "limits" ? (allocatable[resource] ?? 0) : 0) : parseQuantity(set, field);
  const divisor = parseQuantity(ref.divisor ?? "1", `${field}.divisor`);
  if (divisor <= 0) throw new Error(`${field}.divisor: must be positive`);
  return String(Math.ceil(value / divisor - 1e-9));
}
