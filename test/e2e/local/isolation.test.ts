// The local cluster keeps every packet on this machine: a pod has routes to the pod and service
// ranges only, names outside the cluster do not resolve (CoreDNS has no upstream), and the host
// guards its bridge (forwarded packets never cross to another interface; the ranges fall into
// blackhole routes when the bridge is gone). Local cluster only (see vitest.config.ts).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { apply, getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { containerLog } from "../support/pods.ts";
import { PREDICTOR_IMAGE } from "../support/predictor.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);
const BRIDGE = process.env.TM_AGENT_BRIDGE ?? "tm0";
const ns = useNamespace("e2e-iso");

// Runs in the pod: its IPv4 routes (/proc/net/route, hex little-endian), one outside lookup, and
// Prometheus (a host service) by its Service name.
const PROBE = `
const fs = require("node:fs");
const hex = (h) => [3, 2, 1, 0].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16)).join(".");
const routes = fs.readFileSync("/proc/net/route", "utf8").trim().split("\\n").slice(1)
  .map((l) => l.split("\\t")).map((f) => hex(f[1]) + "/" + hex(f[7]));
const prometheusReady = () => new Promise((resolve) => {
  const req = require("node:http").get("http://prometheus.monitoring.svc:9090/-/ready", { timeout: 5000 }, (res) => {
    res.resume();
    resolve(res.statusCode);
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => resolve(e.code || e.message));
});
(async () => {
  const outside = await require("node:dns").promises.lookup("registry.npmjs.org").then((r) => r.address, (e) => e.code);
  console.log("PROBE " + JSON.stringify({ routes, outside, prometheus: await prometheusReady() }));
})();
`;

let probe: { routes: string[]; outside: string; prometheus: number | string };

beforeAll(async () => {
  await apply({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { namespace: ns.name, name: "isolation" },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "probe", image: PREDICTOR_IMAGE, command: ["node", "-e", PROBE] }],
        },
      },
    },
  });
  await waitFor(
    "Job isolation to complete",
    async () =>
      (await getJson<V1Job>(["job", "isolation", "-n", ns.name])).status?.conditions?.some(
        (c) => c.type === "Complete" && c.status === "True",
      ),
    { timeoutMs: 120_000 },
  );
  const [pod] = (await getJson<{ items: V1Pod[] }>(["pods", "-n", ns.name, "-l", "job-name=isolation"]))
    .items;
  const log = await containerLog(ns.name, pod?.metadata?.name as string, "probe");
  const line = log.split("\n").find((l) => l.includes("PROBE {"));
  if (!line) throw new Error(`the probe printed no result; its log:\n${log}`);
  probe = JSON.parse(line.slice(line.indexOf("PROBE ") + 6));
});

describe("network isolation of the local cluster", () => {
  it("gives a pod routes to the pod and service ranges only, no default route", () => {
    expect(probe.routes.sort()).toEqual(["10.244.0.0/255.255.0.0", "10.96.0.0/255.255.0.0"]);
  });

  it("answers no name outside the cluster", () => {
    expect(probe.outside).toBe("ENOTFOUND");
  });

  it("lets pods reach Prometheus, which listens on the host's loopback, by its Service name", () => {
    expect(probe.prometheus).toBe(200);
  });

  it("drops forwarded packets that would leave the bridge, and blackholes the ranges as a fallback", async () => {
    const guard = (await run("iptables", ["-w", "-t", "mangle", "-S", "TM-BRIDGE-GUARD"])).stdout;
    expect(guard).toContain(`-A TM-BRIDGE-GUARD -i ${BRIDGE} ! -o ${BRIDGE} -j DROP`);
    expect(guard).toContain(`-A TM-BRIDGE-GUARD ! -i ${BRIDGE} -o ${BRIDGE} -j DROP`);
    const blackholes = (await run("ip", ["route", "show", "type", "blackhole"])).stdout;
    expect(blackholes).toContain("blackhole 10.96.0.0/16");
    expect(blackholes).toContain("blackhole 10.244.0.0/16");
    // Forwarding is on for packets arriving on the bridge only.
    const all = (await run("sysctl", ["-n", "net.ipv4.conf.all.forwarding"])).stdout.trim();
    expect(all).toBe("0");
  });
});
