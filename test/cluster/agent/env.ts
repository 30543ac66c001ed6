// A container's environment, built in the kubelet's order: image ENV, Service links, envFrom, env
// (later wins), with $(VAR) references expanded against what came before.
import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from "@kubernetes/client-node";
import {
  type NodeResources,
  type PodRuntimeFacts,
  resolveFieldRef,
  resolveResourceFieldRef,
} from "./downward.ts";

/** ConfigMaps and Secrets of the pod's namespace by name; null means the API said 404. */
export type ObjectSources = {
  configMaps: ReadonlyMap<string, V1ConfigMap | null>;
  secrets: ReadonlyMap<string, V1Secret | null>;
};

/** A reason the kubelet would give as CreateContainerConfigError; the pod waits and is retried. */
export class ContainerConfigError extends Error {}

/** Kubernetes' dependent-variable expansion: $(NAME) → value, $$ → $, unknown names stay as written. */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  return input.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) => {
    if (whole === "$$") return "$";
    return lookup(name ?? "") ?? whole;
  });
}

function serviceEnvName(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}

/** Docker-link style variables for Services with a cluster IP, as the kubelet injects them. */
export function serviceLinkEnv(services: readonly V1Service[]): Record<string, string> {
  const env: Record<string, string> = {};
  const sorted = [...services].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const svc of sorted) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    const first = ports[0];
    if (!ip || ip === "None" || !first) continue;
    const prefix = serviceEnvName(svc.metadata?.name ?? "");
    env[`${prefix}_SERVICE_HOST`] = ip;
    env[`${prefix}_SERVICE_PORT`] = String(first.port);
    for (const port of ports) {
      if (port.name) env[`${prefix}_SERVICE_PORT_${serviceEnvName(port.name)}`] = String(port.port);
    }
    const proto = (first.protocol ?? "TCP").toLowerCase();
    env[`${prefix}_PORT`] = `${proto}://${ip}:${first.port}`;
    for (const port of ports) {
      const p = (port.protocol ?? "TCP").toLowerCase();
      const base = `${prefix}_PORT_${port.port}_${p.toUpperCase()}`;
      env[base] = `${p}://${ip}:${port.port}`;
      env[`${base}_PROTO`] = p;
      env[`${base}_PORT`] = String(port.port);
      env[`${base}_ADDR`] = ip;
    }
  }
  return env;
}

function decodeSecret(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return { ...out, ...(secret.stringData ?? {}) };
}

/** The ConfigMap or Secret a pod refers to; undefined when it is missing and the reference optional. */
export function lookupObject<T>(
  kind: "configmap" | "secret",
  map: ReadonlyMap<string, T | null>,
  name: string,
  optional: boolean | undefined,
): T | undefined {
  const obj = map.get(name);
  if (obj) return obj;
  if (optional) return undefined;
  throw new ContainerConfigError(`${kind} "${name}" not found`);
}

export type EnvInput = {
  pod: V1Pod;
  container: V1Container;
  /** Index into spec.containers or spec.initContainers, for error messages. */
  field: string;
  facts: PodRuntimeFacts;
  node: NodeResources;
  sources: ObjectSources;
  imageEnv: Record<string, string>;
  serviceEnv: Record<string, string>;
};

export function buildEnv(input: EnvInput): { env: Record<string, string>; warnings: string[] } {
  const { pod, container, sources } = input;
  const env: Record<string, string> = { ...input.imageEnv, ...input.serviceEnv };
  const warnings: string[] = [];
  const validName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
  (container.envFrom ?? []).forEach((from, i) => {
    const prefix = from.prefix ?? "";
    let data: Record<string, string> = {};
    if (from.configMapRef) {
      const cm = lookupObject(
        "configmap",
        sources.configMaps,
        from.configMapRef.name ?? "",
        from.configMapRef.optional,
      );
      data = cm?.data ?? {};
    } else if (from.secretRef) {
      const s = lookupObject("secret", sources.secrets, from.secretRef.name ?? "", from.secretRef.optional);
      data = s ? decodeSecret(s) : {};
    }
    for (const [k, v] of Object.entries(data)) {
      if (validName.test(prefix + k)) env[prefix + k] = v;
      else warnings.push(`${input.field}.envFrom[${i}]: key "${k}" is not a valid variable name, not set`);
    }
  });
  (container.env ?? []).forEach((e, i) => {
    const field = `${input.field}.env[${i}]`;
    const from = e.valueFrom;
    if (!from) {
      env[e.name] = expandVars(e.value ?? "", (n) => env[n]);
    } else if (from.fieldRef) {
      env[e.name] = resolveFieldRef(pod, from.fieldRef, input.facts, `${field}.valueFrom.fieldRef`);
    } else if (from.resourceFieldRef) {
      const ref = from.resourceFieldRef;
      const target = ref.containerName
        ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
            (c) => c.name === ref.containerName,
          )
        : container;
      if (!target) throw new Error(`${field}.valueFrom.resourceFieldRef.containerName: no such container`);
      env[e.name] = resolveResourceFieldRef(target, ref, input.node, `${field}.valueFrom.resourceFieldRef`);
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const cm = lookupObject("configmap", sources.configMaps, ref.name ?? "", ref.optional);
      const value = cm?.data?.[ref.key];
      if (value !== undefined) env[e.name] = value;
      else if (cm && !ref.optional) {
        throw new ContainerConfigError(
          `couldn't find key ${ref.key} in ConfigMap ${pod.metadata?.namespace}/${ref.name}`,
        );
      }
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const s = lookupObject("secret", sources.secrets, ref.name ?? "", ref.optional);
      const value = s ? decodeSecret(s)[ref.key] : undefined;
      if (value !== undefined) env[e.name] = value;
      else if (s && !ref.optional) {
        throw new ContainerConfigError(
          `couldn't find key ${ref.key} in Secret ${pod.metadata?.namespace}/${ref.name}`,
        );
      }
    } else {
      throw new Error(
        `${field}.valueFrom: no supported source (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef)`,
      );
    }
  });
  return { env, warnings };
}
