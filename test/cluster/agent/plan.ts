// Pod spec → what to run for one container: argv, env, user, working dir and the bind mounts of
// its private mount namespace. Pure; the runtime adapter carries it out.
import { join } from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { NodeResources, PodRuntimeFacts } from "./downward.ts";
import { buildEnv, ContainerConfigError, expandVars, type ObjectSources } from "./env.ts";
import { containerArgv, type ImageTable, type ImageUser, lookupImage } from "./images.ts";

export type Mount = { source: string; target: string; readOnly: boolean };

export type ContainerPlan = {
  name: string;
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  user: ImageUser;
  hostname: string;
  mounts: Mount[];
  /** Host file bind-mounted at the container's terminationMessagePath. */
  terminationLogFile: string;
  warnings: string[];
};

/** Why a container cannot start, as it appears in its waiting state. */
export type PlanFailure = { reason: string; message: string };

/** Where a pod's files live on the host (see layout.ts). */
export type PodPaths = {
  volumeDir: (volume: string) => string;
  containerDir: (container: string) => string;
  etcFile: (name: "hosts" | "resolv.conf" | "hostname") => string;
};

export type PlanInput = {
  pod: V1Pod;
  container: V1Container;
  /** "spec.containers[0]" or "spec.initContainers[1]". */
  field: string;
  images: ImageTable;
  facts: PodRuntimeFacts;
  node: NodeResources;
  sources: ObjectSources;
  serviceEnv: Record<string, string>;
  paths: PodPaths;
};

export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";

export function podHostname(pod: V1Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").slice(0, 63);
}

function effectiveUser(pod: V1Pod, container: V1Container, image: ImageUser): ImageUser {
  const c = container.securityContext;
  const p = pod.spec?.securityContext;
  return { uid: c?.runAsUser ?? p?.runAsUser ?? image.uid, gid: c?.runAsGroup ?? p?.runAsGroup ?? image.gid };
}

export function planContainer(
  input: PlanInput,
): { ok: true; plan: ContainerPlan } | { ok: false; failure: PlanFailure } {
  const { pod, container, paths } = input;
  const image = lookupImage(container.image ?? "", input.images);
  if (!image.ok) return { ok: false, failure: { reason: image.reason, message: image.message } };
  const entry = image.entry;
  try {
    const user = effectiveUser(pod, container, entry.user);
    const runAsNonRoot = container.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
    if (runAsNonRoot && user.uid === 0) {
      throw new ContainerConfigError("container has runAsNonRoot and image will run as root");
    }
    const hostname = podHostname(pod);
    const terminationMessagePath = container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
    const { env, warnings } = buildEnv({
      pod,
      container,
      field: input.field,
      facts: input.facts,
      node: input.node,
      sources: input.sources,
      imageEnv: { ...entry.env, HOSTNAME: hostname, HOME: user.uid === 0 ? "/root" : "/" },
      serviceEnv: input.serviceEnv,
    });
    // The trainer reports its failure reason to $TERMINATION_LOG; point it at the mounted file.
    env.TERMINATION_LOG ??= terminationMessagePath;
    const lookup = (n: string) => env[n];
    const expand = (list: string[] | undefined) => list?.map((s) => expandVars(s, lookup));
    const argv = containerArgv(entry, expand(container.command), expand(container.args));
    if (argv.length === 0) throw new Error(`${input.field}: neither the pod nor the image sets a command`);
    const volumes = new Set((pod.spec?.volumes ?? []).map((v) => v.name));
    const terminationLogFile = join(paths.containerDir(container.name), "termination-log");
    const mounts: Mount[] = [
      { source: paths.etcFile("hosts"), target: "/etc/hosts", readOnly: false },
      { source: paths.etcFile("resolv.conf"), target: "/etc/resolv.conf", readOnly: false },
      { source: paths.etcFile("hostname"), target: "/etc/hostname", readOnly: false },
      { source: terminationLogFile, target: terminationMessagePath, readOnly: false },
    ];
    (container.volumeMounts ?? []).forEach((m, i) => {
      const at = `${input.field}.volumeMounts[${i}]`;
      if (!volumes.has(m.name)) throw new Error(`${at}.name: no volume named "${m.name}" in spec.volumes`);
      if (!m.mountPath.startsWith("/")) throw new Error(`${at}.mountPath: "${m.mountPath}" must be absolute`);
      const sub = m.subPathExpr ? expandVars(m.subPathExpr, lookup) : (m.subPath ?? "");
      if (sub.startsWith("/") || sub.split("/").includes("..")) {
        throw new Error(`${at}.subPath: "${sub}" must be relative and must not contain ".."`);
      }
      const base = paths.volumeDir(m.name);
      mounts.push({
        source: sub ? join(base, sub) : base,
        target: m.mountPath,
        readOnly: m.readOnly ?? false,
      });
    });
    const plan: ContainerPlan = {
      name: container.name,
      argv,
      env,
      workingDir: container.workingDir ?? entry.workingDir,
      user,
      hostname,
      mounts,
      terminationLogFile,
      warnings,
    };
    return { ok: true, plan };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, failure: { reason: "CreateContainerConfigError", message } };
  }
}

export type PodNetworkFacts = { podIP: string; clusterDomain: string; dnsServer: string };

/** /etc/hosts, /etc/resolv.conf and /etc/hostname as the kubelet writes them for a pod. */
export function podEtcFiles(
  pod: V1Pod,
  net: PodNetworkFacts,
): { hosts: string; "resolv.conf": string; hostname: string } {
  const ns = pod.metadata?.namespace ?? "default";
  const hostname = podHostname(pod);
  const fqdn = pod.spec?.subdomain ? `${hostname}.${pod.spec.subdomain}.${ns}.svc.${net.clusterDomain}` : "";
  const aliases = (pod.spec?.hostAliases ?? []).map((a) => `${a.ip}\t${(a.hostnames ?? []).join("\t")}`);
  const hosts = [
    "# Kubernetes-managed hosts file (tm-agent).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    `${net.podIP}\t${[fqdn, hostname].filter(Boolean).join("\t")}`,
    ...aliases,
  ].join("\n");
  const d = net.clusterDomain;
  const dnsConfig = pod.spec?.dnsConfig;
  const search = [`${ns}.svc.${d}`, `svc.${d}`, d, ...(dnsConfig?.searches ?? [])];
  const servers = [net.dnsServer, ...(dnsConfig?.nameservers ?? [])];
  const options = [
    "ndots:5",
    ...(dnsConfig?.options ?? []).map((o) => (o.value ? `${o.name}:${o.value}` : o.name)),
  ];
  const resolv = [
    ...servers.map((s) => `nameserver ${s}`),
    `search ${search.join(" ")}`,
    `options ${options.join(" ")}`,
  ];
  return { hosts: `${hosts}\n`, "resolv.conf": `${resolv.join("\n")}\n`, hostname: `${hostname}\n` };
}
