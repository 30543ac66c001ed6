// Writes a pod's files on the host: volumes (atomically, so a bind-mounted directory never shows
// a half-written file), /etc files and termination-message files.
import { chmod, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { VolumePlan } from "./volumes.ts";

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** Brings a volume directory to the plan: new and changed files replaced, files no longer listed removed. */
export async function writeVolume(dir: string, plan: VolumePlan): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (plan.kind === "emptyDir") {
    await chmod(dir, 0o777);
    return;
  }
  const wanted = new Set(plan.files.map((f) => f.path));
  for (const file of plan.files) await writeFileAtomic(join(dir, file.path), file.data, file.mode);
  for (const existing of await listFiles(dir)) {
    if (!wanted.has(existing)) await rm(join(dir, existing));
  }
}

/** An empty, world-writable file a container of any uid can write its termination message to. */
export async function resetTerminationLog(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, "");
  await chmod(path, 0o666);
}
