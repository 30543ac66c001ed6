// The agent runs no container images: a table maps each image repository the cluster may see to
// the local command that stands in for it, with the image's ENTRYPOINT/CMD/WORKDIR/USER/ENV
// semantics so that a pod's command and args combine with it as they would on a real kubelet.
import { dirname, join } from "node:path";

export type ImageUser = { uid: number; gid: number };

export type ImageEntry = {
  /** Repository without registry host "docker.io", "library/" or tag, e.g. "tradingmodel/predictor". */
  repository: string;
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  env: Record<string, string>;
  user: ImageUser;
};

export type ImageTable = readonly ImageEntry[];

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The project's own images and a busybox stand-in for tests. `repoRoot` plays the image's /app,
 * `nodeBinary` its `node`. Extend by concatenating entries (the agent's `--images` file does).
 * `compileCacheDir`: Node's compile cache shared by every pod of the project's images, so that a
 * pod does not compile again what an earlier one (or cluster-up's warm-up) compiled.
 */
export function defaultImageTable(
  repoRoot: string,
  nodeBinary: string,
  compileCacheDir?: string,
): ImageTable {
  const nodeEnv = {
    PATH: `${dirname(nodeBinary)}:${SYSTEM_PATH}`,
    NODE_ENV: "production",
    ...(compileCacheDir ? { NODE_COMPILE_CACHE: compileCacheDir } : {}),
  };
  const appUser = { uid: 1000, gid: 1000 };
  return [
    {
      repository: "tradingmodel/predictor",
      entrypoint: [nodeBinary, join(repoRoot, "predictor/src/cli.ts")],
      cmd: ["serve"],
      workingDir: repoRoot,
      env: nodeEnv,
      user: appUser,
    },
    {
      repository: "tradingmodel/operator",
      entrypoint: [nodeBinary, join(repoRoot, "operator/src/main.ts")],
      cmd: [],
      workingDir: repoRoot,
      env: nodeEnv,
      user: appUser,
    },
    {
      repository: "busybox",
      entrypoint: [],
      cmd: ["sh"],
      workingDir: "/",
      env: { PATH: `${dirname(nodeBinary)}:${SYSTEM_PATH}` },
      user: { uid: 0, gid: 0 },
    },
  ];
}

/** "docker.io/library/busybox:1.36@sha256:…" → "busybox"; "ghcr.io/x/y:1" → "ghcr.io/x/y". */
export function imageRepository(image: string): string {
  let name = image.split("@")[0] ?? image;
  const lastSlash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > lastSlash) name = name.slice(0, colon);
  for (const prefix of ["docker.io/", "index.docker.io/", "library/"]) {
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
  }
  return name;
}

export type ImageLookup =
  | { ok: true; entry: ImageEntry }
  | { ok: false; reason: "ImageNotRunnable"; message: string };

export function lookupImage(image: string, table: ImageTable): ImageLookup {
  const repository = imageRepository(image);
  const entry = table.find((e) => e.repository === repository);
  if (entry) return { ok: true, entry };
  const known = table.map((e) => e.repository).join(", ");
  return {
    ok: false,
    reason: "ImageNotRunnable",
    message: `image "${image}" has no local command in the node agent's image table (known: ${known})`,
  };
}

/** The argv a container runs: command replaces ENTRYPOINT and drops CMD; args replaces CMD. */
export function containerArgv(entry: ImageEntry, command?: string[], args?: string[]): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  return [...entry.entrypoint, ...(args && args.length > 0 ? args : entry.cmd)];
}

/** Parses an `--images` file: a JSON array of entries whose fields are all checked. */
export function parseImageTable(json: string, source: string): ImageTable {
  const raw: unknown = JSON.parse(json);
  if (!Array.isArray(raw)) throw new Error(`${source}: expected a JSON array of image entries`);
  return raw.map((item: unknown, i) => {
    const at = `${source}[${i}]`;
    if (typeof item !== "object" || item === null) throw new Error(`${at}: expected an object`);
    const e = item as Record<string, unknown>;
    const strings = (field: string): string[] => {
      const v = e[field];
      if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
        throw new Error(`${at}.${field}: expected an array of strings`);
      }
      return v;
    };
    const str = (field: string): string => {
      const v = e[field];
      if (typeof v !== "string" || v === "") throw new Error(`${at}.${field}: expected a non-empty string`);
      return v;
    };
    const env = e.env ?? {};
    if (typeof env !== "object" || env === null || !Object.values(env).every((v) => typeof v === "string")) {
      throw new Error(`${at}.env: expected an object of strings`);
    }
    const user = (e.user ?? { uid: 0, gid: 0 }) as Record<string, unknown>;
    if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid)) {
      throw new Error(`${at}.user: expected {uid, gid} integers`);
    }
    return {
      repository: str("repository"),
      entrypoint: strings("entrypoint"),
      cmd: strings("cmd"),
      workingDir: str("workingDir"),
      env: env as Record<string, string>,
      user: { uid: user.uid as number, gid: user.gid as number },
    };
  });
}
