// Node agent CLI.
//   node test/cluster/agent/main.ts run [--node tm-node-1 …] [--cluster-dir .cluster] [--images f.json]
//   node test/cluster/agent/main.ts cleanup [--cluster-dir .cluster]
// `run` plays each node with .cluster/node-<name>.kubeconfig; `cleanup` removes every process,
// network namespace, veth, the bridge and mount points the agent made, also after a crash.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import pino from "pino";
import { Agent } from "./agent.ts";
import { cleanup } from "./cleanup.ts";
import { defaultImageTable, parseImageTable } from "./images.ts";
import { layout } from "./layout.ts";
import { KUBELET_BACKOFF } from "./lifecycle.ts";
import { DEFAULT_NETWORK, networkConfig } from "./network.ts";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    "cluster-dir": { type: "string", default: join(repoRoot, ".cluster") },
    node: { type: "string", multiple: true, default: ["tm-node-1", "tm-node-2"] },
    images: { type: "string" },
    bridge: { type: "string", default: DEFAULT_NETWORK.bridge },
    "cluster-cidr": { type: "string", default: DEFAULT_NETWORK.clusterCidr },
    "service-cidr": { type: "string", default: DEFAULT_NETWORK.serviceCidr },
    "dns-ip": { type: "string", default: DEFAULT_NETWORK.dnsServer },
    "max-pods": { type: "string", default: "110" },
    "kubelet-port": { type: "string", default: "10250" },
    "metrics-api": { type: "boolean", default: false },
    "metrics-port": { type: "string", default: "4443" },
    "backoff-initial-ms": { type: "string", default: String(KUBELET_BACKOFF.initialMs) },
  },
});

const net = networkConfig({
  bridge: values.bridge,
  clusterCidr: values["cluster-cidr"],
  serviceCidr: values["service-cidr"],
  dnsServer: values["dns-ip"],
});
const l = layout(resolve(values["cluster-dir"]), net.bridge);
const log = pino({ base: { component: "tm-agent" } });

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag}: "${value}" is not a positive integer`);
  return n;
}

async function run(): Promise<void> {
  const nodes = values.node.map((name) => ({
    name,
    kubeconfig: join(l.clusterDir, `node-${name}.kubeconfig`),
  }));
  const extra = values.images ? parseImageTable(await readFile(values.images, "utf8"), values.images) : [];
  const first = nodes[0];
  if (!first) throw new Error("--node: at least one node");
  // Pods of an earlier agent run (crashed or restarted) are not adopted: clear them, start afresh.
  const stale = await cleanup(l, net);
  log.info({ stale }, "cleared state of an earlier run");
  const kc = new KubeConfig();
  kc.loadFromFile(first.kubeconfig);
  const version = await kc.makeApiClient(VersionApi).getCode();
  const agent = new Agent({
    nodes,
    adminKubeconfig: join(l.clusterDir, "kubeconfig"),
    layout: l,
    net,
    images: [
      ...extra,
      ...defaultImageTable(repoRoot, process.execPath, join(l.clusterDir, "node-compile-cache")),
    ],
    backoff: {
      ...KUBELET_BACKOFF,
      initialMs: positiveInt("backoff-initial-ms", values["backoff-initial-ms"]),
    },
    maxPods: positiveInt("max-pods", values["max-pods"]),
    kubeletPortBase: positiveInt("kubelet-port", values["kubelet-port"]),
    metricsPort: values["metrics-api"] ? positiveInt("metrics-port", values["metrics-port"]) : undefined,
    kubeletVersion: version.gitVersion,
    log,
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, "stopping (pods keep running until cleanup)");
    agent.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  await agent.start();
}

const command = positionals[0];
if (command === "run") {
  run().catch((err) => {
    log.fatal({ err }, "node agent failed to start");
    process.exit(1);
  });
} else if (command === "cleanup") {
  const report = await cleanup(l, net);
  console.log(JSON.stringify(report));
  if (report.leftovers.length > 0) process.exitCode = 1;
} else {
  console.error(
    "usage: main.ts run [--node NAME]… [--cluster-dir DIR] [--images FILE] | main.ts cleanup [--cluster-dir DIR]",
  );
  process.exitCode = 2;
}
