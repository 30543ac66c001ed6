// Volume contents as files (ConfigMap, Secret, projected incl. service-account tokens, downward
// API) and emptyDirs. The agent writes them under the pod's directory and bind-mounts them.
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1Secret,
  V1Volume,
} from "@kubernetes/client-node";
import {
  type NodeResources,
  type PodRuntimeFacts,
  resolveFieldRef,
  resolveResourceFieldRef,
} from "./downward.ts";
import { ContainerConfigError, lookupObject, type ObjectSources } from "./env.ts";

export type VolumeFile = { path: string; data: Buffer; mode: number };
export type VolumePlan =
  | { name: string; kind: "files"; files: VolumeFile[] }
  | { name: string; kind: "emptyDir" };

export type TokenSource = { audience: string; expirationSeconds: number };
/** Tokens fetched through TokenRequest, keyed by tokenKey(). */
export type Tokens = ReadonlyMap<string, string>;

const DEFAULT_MODE = 0o644;
const DEFAULT_TOKEN_SECONDS = 3600;

export function tokenKey(t: TokenSource): string {
  return `${t.audience}|${t.expirationSeconds}`;
}

/** The distinct service-account tokens the pod's projected volumes ask for. */
export function tokenSources(pod: V1Pod): TokenSource[] {
  const seen = new Map<string, TokenSource>();
  for (const v of pod.spec?.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      if (!s.serviceAccountToken) continue;
      const t = {
        audience: s.serviceAccountToken.audience ?? "",
        expirationSeconds: s.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
      };
      seen.set(tokenKey(t), t);
    }
  }
  return [...seen.values()];
}

/** Names of the ConfigMaps and Secrets the pod reads through volumes, env and envFrom. */
export function referencedObjects(pod: V1Pod): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}

function checkPath(path: string, field: string): string {
  if (path === "" || path.startsWith("/") || path.split("/").includes("..")) {
    throw new Error(`${field}: path "${path}" must be relative and must not contain ".."`);
  }
  return path;
}

function keyedFiles(
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  mode: number,
  what: string,
  optional: boolean,
  field: string,
): VolumeFile[] {
  if (!items || items.length === 0) {
    return Object.keys(data)
      .sort()
      .map((k) => ({ path: checkPath(k, field), data: data[k] ?? Buffer.alloc(0), mode }));
  }
  const files: VolumeFile[] = [];
  items.forEach((item, i) => {
    const value = data[item.key];
    if (value === undefined) {
      if (optional) return;
      throw new ContainerConfigError(`configured key "${item.key}" not found in ${what}`);
    }
    files.push({
      path: checkPath(item.path, `${field}.items[${i}].path`),
      data: value,
      mode: item.mode ?? mode,
    });
  });
  return files;
}

function configMapData(cm: V1ConfigMap | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm?.data ?? {})) out[k] = Buffer.from(v, "utf8");
  for (const [k, v] of Object.entries(cm?.binaryData ?? {})) out[k] = Buffer.from(v, "base64");
  return out;
}

function secretData(s: V1Secret | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s?.data ?? {})) out[k] = Buffer.from(v, "base64");
  for (const [k, v] of Object.entries(s?.stringData ?? {})) out[k] = Buffer.from(v, "utf8");
  return out;
}

/** A reference to a ConfigMap or Secret whose keys become files. */
type KeyedSource = { name?: string; items?: V1KeyToPath[]; optional?: boolean };

function configMapFiles(sources: ObjectSources, ref: KeyedSource, mode: number, field: string): VolumeFile[] {
  const cm = lookupObject("configmap", sources.configMaps, ref.name ?? "", ref.optional);
  return keyedFiles(
    configMapData(cm),
    ref.items,
    mode,
    `ConfigMap ${ref.name}`,
    ref.optional ?? false,
    field,
  );
}

function secretFiles(sources: ObjectSources, ref: KeyedSource, mode: number, field: string): VolumeFile[] {
  const secret = lookupObject("secret", sources.secrets, ref.name ?? "", ref.optional);
  return keyedFiles(secretData(secret), ref.items, mode, `Secret ${ref.name}`, ref.optional ?? false, field);
}

export type VolumeInput = {
  pod: V1Pod;
  sources: ObjectSources;
  tokens: Tokens;
  facts: PodRuntimeFacts;
  node: NodeResources;
};

function downwardFiles(
  items: V1DownwardAPIVolumeFile[],
  mode: number,
  input: VolumeInput,
  field: string,
): VolumeFile[] {
  return items.map((item, i) => {
    const at = `${field}.items[${i}]`;
    let value: string;
    if (item.fieldRef) {
      value = resolveFieldRef(input.pod, item.fieldRef, input.facts, `${at}.fieldRef`);
    } else if (item.resourceFieldRef) {
      const name = item.resourceFieldRef.containerName;
      const container = input.pod.spec?.containers.find((c) => c.name === name);
      if (!container) throw new Error(`${at}.resourceFieldRef.containerName: no container "${name ?? ""}"`);
      value = resolveResourceFieldRef(container, item.resourceFieldRef, input.node, `${at}.resourceFieldRef`);
    } else {
      throw new Error(`${at}: needs fieldRef or resourceFieldRef`);
    }
    return {
      path: checkPath(item.path, `${at}.path`),
      data: Buffer.from(value, "utf8"),
      mode: item.mode ?? mode,
    };
  });
}

function planVolume(volume: V1Volume, field: string, input: VolumeInput): VolumePlan {
  const { sources } = input;
  const name = volume.name;
  if (volume.emptyDir) return { name, kind: "emptyDir" };
  if (volume.configMap) {
    const c = volume.configMap;
    return {
      name,
      kind: "files",
      files: configMapFiles(sources, c, c.defaultMode ?? DEFAULT_MODE, `${field}.configMap`),
    };
  }
  if (volume.secret) {
    const { secretName, ...s } = volume.secret;
    return {
      name,
      kind: "files",
      files: secretFiles(
        sources,
        { ...s, name: secretName },
        s.defaultMode ?? DEFAULT_MODE,
        `${field}.secret`,
      ),
    };
  }
  if (volume.downwardAPI) {
    const d = volume.downwardAPI;
    return {
      name,
      kind: "files",
      files: downwardFiles(d.items ?? [], d.defaultMode ?? DEFAULT_MODE, input, `${field}.downwardAPI`),
    };
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
    const files: VolumeFile[] = [];
    (volume.projected.sources ?? []).forEach((s, i) => {
      const at = `${field}.projected.sources[${i}]`;
      if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        const key = tokenKey({
          audience: t.audience ?? "",
          expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
        });
        const token = input.tokens.get(key);
        if (token === undefined)
          throw new ContainerConfigError(`service account token for ${at} is not available yet`);
        files.push({
          path: checkPath(t.path, `${at}.serviceAccountToken.path`),
          data: Buffer.from(token),
          mode,
        });
      } else if (s.configMap) {
        files.push(...configMapFiles(sources, s.configMap, mode, `${at}.configMap`));
      } else if (s.secret) {
        files.push(...secretFiles(sources, s.secret, mode, `${at}.secret`));
      } else if (s.downwardAPI) {
        files.push(...downwardFiles(s.downwardAPI.items ?? [], mode, input, `${at}.downwardAPI`));
      } else {
        throw new Error(
          `${at}: unsupported projected source (supported: serviceAccountToken, configMap, secret, downwardAPI)`,
        );
      }
    });
    return { name, kind: "files", files };
  }
  const type = Object.keys(volume).find((k) => k !== "name") ?? "none";
  throw new Error(
    `${field}: volume type "${type}" is not supported by the node agent (supported: emptyDir, configMap, secret, projected, downwardAPI)`,
  );
}

export function planVolumes(input: VolumeInput): VolumePlan[] {
  return (input.pod.spec?.volumes ?? []).map((v, i) => planVolume(v, `spec.volumes[${i}]`, input));
}
