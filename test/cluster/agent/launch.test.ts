import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const LAUNCH = join(import.meta.dirname, "launch.sh");

// launch.sh as the agent runs it, in a private mount namespace (root only, as the agent itself).
async function launch(root: string, mounts: string[][], workdir: string, argv: string[]): Promise<string> {
  const podDir = join(root, "pod");
  await mkdir(join(podDir, "volumes", "tmp"), { recursive: true });
  await writeFile(join(root, "cgroup.procs"), "");
  await writeFile(join(root, "mounts"), mounts.map((m) => `${m.join("\t")}\n`).join(""));
  const { stdout } = await run("unshare", [
    "--mount",
    "--uts",
    "--propagation",
    "private",
    "--",
    LAUNCH,
    root,
    "test-pod",
    podDir,
    join(root, "mounts"),
    workdir,
    "0",
    "0",
    "--",
    ...argv,
  ]);
  return stdout;
}

describe("launch.sh", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "agent-launch-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keeps the working directory reachable at its path when a volume covers an ancestor of it", async () => {
    // The repository under the directory an emptyDir is mounted over (a clone under /tmp, a pod
    // with an emptyDir at /tmp): the program must still find its files by their absolute paths.
    const repo = join(root, "repo");
    await mkdir(repo);
    await writeFile(join(repo, "program.txt"), "the program\n");
    const out = await launch(root, [["rw", "volumes/tmp", root]], repo, [
      "/bin/sh",
      "-c",
      `cat ${join(repo, "program.txt")}; pwd; ls ${root}`,
    ]);
    const [program, cwd, ...listing] = out.trim().split("\n");
    expect(program).toBe("the program");
    expect(cwd).toBe(repo);
    // The volume is mounted: the covered directory's other entries (cgroup.procs, mounts, pod) are hidden.
    expect(listing).toEqual(["repo"]);
  });

  it("mounts volumes read-only when asked and runs the program in the working directory", async () => {
    const repo = join(root, "repo");
    await mkdir(join(root, "pod", "volumes", "cfg"), { recursive: true });
    await writeFile(join(root, "pod", "volumes", "cfg", "key"), "value");
    await mkdir(join(repo, "cfg"), { recursive: true });
    const out = await launch(root, [["ro", "volumes/cfg", join(repo, "cfg")]], repo, [
      "/bin/sh",
      "-c",
      "cat cfg/key; echo; touch cfg/new 2>/dev/null && echo writable || echo read-only",
    ]);
    expect(out.trim().split("\n")).toEqual(["value", "read-only"]);
    expect(await readFile(join(root, "cgroup.procs"), "utf8")).toMatch(/^\d+\n$/);
  });
});
