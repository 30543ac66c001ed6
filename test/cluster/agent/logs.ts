// Container logs as the node agent stores them (.cluster/logs/pods/<ns>_<pod>_<uid>/<container>/<restart>.log),
// for tests and people: `kubectl logs` needs a kubelet API the agent does not serve.
//   node test/cluster/agent/logs.ts <namespace> <pod> [container] [--previous] [--cluster-dir DIR]
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export type LogQuery = { namespace: string; pod: string; container?: string; previous?: boolean };

async function newestDir(dirs: string[]): Promise<string | undefined> {
  let best: { dir: string; mtime: number } | undefined;
  for (const dir of dirs) {
    const { mtimeMs } = await stat(dir);
    if (!best || mtimeMs > best.mtime) best = { dir, mtime: mtimeMs };
  }
  return best?.dir;
}

/** The log file of the pod's current (or with `previous`, last terminated) container instance. */
export async function podLogFile(clusterDir: string, q: LogQuery): Promise<string> {
  const root = join(clusterDir, "logs", "pods");
  const prefix = `${q.namespace}_${q.pod}_`;
  const podDirs = (await readdir(root).catch(() => [] as string[])).filter((d) => d.startsWith(prefix));
  const podDir = await newestDir(podDirs.map((d) => join(root, d)));
  if (!podDir) throw new Error(`no logs for pod ${q.namespace}/${q.pod} under ${root}`);
  const containers = await readdir(podDir);
  const container = q.container ?? (containers.length === 1 ? containers[0] : undefined);
  if (!container || !containers.includes(container)) {
    throw new Error(`pod ${q.namespace}/${q.pod}: name a container, one of: ${containers.join(", ")}`);
  }
  const restarts = (await readdir(join(podDir, container)))
    .map((f) => Number(f.replace(/\.log$/, "")))
    .filter(Number.isInteger)
    .sort((a, b) => a - b);
  const wanted = q.previous ? restarts.at(-2) : restarts.at(-1);
  if (wanted === undefined) {
    throw new Error(
      `pod ${q.namespace}/${q.pod} container ${container}: no ${q.previous ? "previous " : ""}instance`,
    );
  }
  return join(podDir, container, `${wanted}.log`);
}

export async function podLogs(clusterDir: string, q: LogQuery): Promise<string> {
  return await readFile(await podLogFile(clusterDir, q), "utf8");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      previous: { type: "boolean", default: false },
      "cluster-dir": {
        type: "string",
        default: resolve(fileURLToPath(import.meta.url), "../../../../.cluster"),
      },
    },
  });
  const [namespace, pod, container] = positionals;
  if (!namespace || !pod) {
    console.error("usage: logs.ts <namespace> <pod> [container] [--previous] [--cluster-dir DIR]");
    process.exit(2);
  }
  try {
    process.stdout.write(
      await podLogs(values["cluster-dir"], { namespace, pod, container, previous: values.previous }),
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
