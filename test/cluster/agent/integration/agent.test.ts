// The node agent against a real control plane started by make cluster-up's scripts: pods run as
// local processes in their own network namespaces, with the API access, volumes, probes, restart
// policies, termination and logs that our manifests rely on; cluster-down leaves nothing behind.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Container,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  clusterScript,
  eventually,
  newControlPlane,
  runCommand,
} from "../../control-plane-harness.ts";
import { podLogs } from "../logs.ts";

// A bridge, address ranges and kubelet ports of its own, and no node services (kube-proxy owns the
// host's packet filter: one set per machine), so the test runs beside a developer's cluster.
const BRIDGE = "tmit";
const NETWORK = {
  TM_NODE_AGENT: "1",
  TM_SERVICES: "0",
  TM_AGENT_BRIDGE: BRIDGE,
  TM_KUBELET_PORT: "20250",
  TM_METRICS_PORT: "24443",
  TM_CLUSTER_CIDR: "10.246.0.0/16",
  TM_SERVICE_CIDR: "10.98.0.0/16",
};
const NS = "agent-test";

let cluster: ControlPlane;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;

function shell(name: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: "busybox:1.36", command: ["sh", "-c", script], ...extra };
}

/** A node one-liner: busybox maps to the host's tools, with Node 24 first on PATH. */
function nodeProgram(name: string, program: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: "busybox", command: ["node", "--input-type=module", "-e", program], ...extra };
}

async function createPod(name: string, spec: V1Pod["spec"]): Promise<void> {
  await core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec } });
}

async function podWhen(
  name: string,
  what: string,
  ok: (p: V1Pod) => boolean,
  timeoutMs = 60_000,
): Promise<V1Pod> {
  return await eventually(`pod ${name}: ${what}`, timeoutMs, async () => {
    const pod = await core.readNamespacedPod({ name, namespace: NS });
    return ok(pod) ? pod : undefined;
  });
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  cluster = await newControlPlane();
  cluster.env = { ...cluster.env, ...NETWORK };
  const up = await clusterScript(cluster, "up");
  if (up.code !== 0) throw new Error(`cluster-up failed:\n${up.stderr}`);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await eventually("the default ServiceAccount of the test namespace", 30_000, async () =>
    (await core.listNamespacedServiceAccount({ namespace: NS })).items.length > 0 ? true : undefined,
  );
});

afterAll(async () => {
  if (cluster) await clusterScript(cluster, "down");
});

describe("node agent", () => {
  it("registers Ready nodes with pod CIDRs inside the cluster CIDR", async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(["tm-node-1", "tm-node-2"]);
    for (const n of nodes) {
      expect(n.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      expect(n.spec?.podCIDR).toMatch(/^10\.246\.\d+\.0\/24$/);
    }
  });

  it("runs a busybox pod to completion with downward-API env, and its log is readable", async () => {
    await createPod("hello", {
      restartPolicy: "Never",
      containers: [
        shell("main", 'echo "hello from $POD on $NODE ip $IP"', {
          env: [
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          ],
        }),
      ],
    });
    const pod = await podWhen("hello", "Succeeded", (p) => p.status?.phase === "Succeeded");
    const log = await podLogs(cluster.stateDir, { namespace: NS, pod: "hello" });
    expect(log).toBe(`hello from hello on ${pod.spec?.nodeName} ip ${pod.status?.podIP}\n`);
  });

  it("makes a Deployment of 2 replicas Ready, each pod reachable from the host at podIP:port", async () => {
    const server = nodeProgram(
      "web",
      'import http from "node:http"; http.createServer((q, r) => r.end(process.env.HOSTNAME)).listen(8080);',
      {
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
      },
    );
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [server] } },
        },
      },
    });
    await eventually("deployment web 2/2 ready", 60_000, async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace: NS });
      return d.status?.readyReplicas === 2 ? true : undefined;
    });
    const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=web" })).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.status?.podIP).toMatch(/^10\.246\.\d+\.\d+$/);
      expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      const res = await httpGet(`http://${p.status?.podIP}:8080/`);
      expect(res).toEqual({ status: 200, body: p.metadata?.name });
    }
  });

  it("completes a Job Succeeded, restarting its failed container under OnFailure", async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: {
        metadata: { name: "retry" },
        spec: {
          template: {
            spec: {
              restartPolicy: "OnFailure",
              volumes: [{ name: "scratch", emptyDir: {} }],
              containers: [
                shell("main", "test -f /scratch/tried && echo done && exit 0; touch /scratch/tried; exit 1", {
                  volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
                }),
              ],
            },
          },
        },
      },
    });
    await eventually("job retry complete", 60_000, async () => {
      const job = await batch.readNamespacedJob({ name: "retry", namespace: NS });
      return job.status?.succeeded === 1 ? true : undefined;
    });
    const [pod] = (await core.listNamespacedPod({ namespace: NS, labelSelector: "job-name=retry" })).items;
    expect(pod?.status?.phase).toBe("Succeeded");
    expect(pod?.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    expect(await podLogs(cluster.stateDir, { namespace: NS, pod: pod?.metadata?.name ?? "" })).toBe("done\n");
  });

  it("ends a failing Job pod Failed with its exit code and termination message", async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: {
        metadata: { name: "broken" },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [shell("train", 'echo "no rows in window" > "$TERMINATION_LOG"; exit 3')],
            },
          },
        },
      },
    });
    const [pod] = await eventually("job broken pod failed", 60_000, async () => {
      const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: "job-name=broken" })).items;
      return pods[0]?.status?.phase === "Failed" ? pods : undefined;
    });
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: "Error",
      message: "no rows in window",
    });
  });

  it("lets a pod's ServiceAccount do exactly what its Role grants", async () => {
    const rbac = new KubeConfig();
    rbac.loadFromFile(cluster.kubeconfig);
    const rbacApi = rbac.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "reader" } } });
    await rbacApi.createNamespacedRole({
      namespace: NS,
      body: {
        metadata: { name: "configmap-reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
      },
    });
    await rbacApi.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: NS }],
      },
    });
    const clientNode = new URL(
      "../../../../node_modules/@kubernetes/client-node/dist/index.js",
      import.meta.url,
    ).pathname;
    await createPod("rbac", {
      serviceAccountName: "reader",
      restartPolicy: "Never",
      containers: [
        nodeProgram(
          "main",
          `const k8s = await import(${JSON.stringify(clientNode)});
           const kc = new k8s.KubeConfig(); kc.loadFromCluster();
           const api = kc.makeApiClient(k8s.CoreV1Api);
           const outcome = (p) => p.then(() => "allowed", (e) => "denied " + e.code);
           console.log("configmaps", await outcome(api.listNamespacedConfigMap({ namespace: "${NS}" })));
           console.log("secrets", await outcome(api.listNamespacedSecret({ namespace: "${NS}" })));`,
        ),
      ],
    });
    await podWhen("rbac", "Succeeded", (p) => p.status?.phase === "Succeeded");
    expect(await podLogs(cluster.stateDir, { namespace: NS, pod: "rbac" })).toBe(
      "configmaps allowed\nsecrets denied 403\n",
    );
  });

  it("reports an image with no local command as ImageNotRunnable", async () => {
    await createPod("nginx", { containers: [{ name: "main", image: "nginx:1.27" }] });
    const pod = await podWhen(
      "nginx",
      "waiting",
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting !== undefined,
    );
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("ImageNotRunnable");
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('image "nginx:1.27"');
    // `kubectl describe pod` shows it too: the node's Event about the container.
    const event = await eventually("the Failed event of pod nginx", 10_000, async () => {
      const events = await core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: "involvedObject.name=nginx",
      });
      return events.items.find((e) => e.reason === "Failed");
    });
    expect(event).toMatchObject({
      type: "Warning",
      source: { component: "kubelet", host: pod.spec?.nodeName },
    });
    expect(event.message).toContain("ImageNotRunnable");
  });

  it("drains a deleted pod: preStop, SIGTERM, the app's own shutdown, then the pod object is gone", async () => {
    await createPod("drain", {
      terminationGracePeriodSeconds: 10,
      containers: [
        nodeProgram(
          "main",
          `import http from "node:http";
           const s = http.createServer((q, r) => r.end("ok")).listen(8080);
           process.on("SIGTERM", () => { console.log("SIGTERM"); setTimeout(() => { console.log("drained"); process.exit(0); }, 1000); });`,
          {
            lifecycle: { preStop: { sleep: { seconds: 1 } } },
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ),
      ],
    });
    const pod = await podWhen(
      "drain",
      "Ready",
      (p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    );
    const ip = pod.status?.podIP ?? "";
    const started = Date.now();
    await core.deleteNamespacedPod({ name: "drain", namespace: NS });
    // The server keeps answering through the preStop hook and until its own drain ends.
    expect((await httpGet(`http://${ip}:8080/`)).body).toBe("ok");
    await eventually("pod drain gone", 30_000, async () =>
      (await core.listNamespacedPod({ namespace: NS, fieldSelector: "metadata.name=drain" })).items.length ===
      0
        ? true
        : undefined,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(await podLogs(cluster.stateDir, { namespace: NS, pod: "drain" })).toBe("SIGTERM\ndrained\n");
  });
});

describe("metrics.k8s.io served by the agent", () => {
  it("reports a busy pod's CPU, and the HPA scales its Deployment on it", async () => {
    const burn = nodeProgram("burn", "for (;;) {}", { resources: { requests: { cpu: "100m" } } });
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: "burner" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "burner" } },
          template: { metadata: { labels: { app: "burner" } }, spec: { containers: [burn] } },
        },
      },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const usage = await eventually("PodMetrics of the burner", 60_000, async () => {
      const list = (await custom
        .listNamespacedCustomObject({
          group: "metrics.k8s.io",
          version: "v1beta1",
          namespace: NS,
          plural: "pods",
          labelSelector: "app=burner",
        })
        .catch(() => ({ items: [] }))) as { items: { containers: { usage: { cpu: string } }[] }[] };
      return list.items[0]?.containers[0]?.usage.cpu;
    });
    // A busy loop uses most of a core (the machine has 2): far above its 100m request.
    expect(Number(usage.replace(/n$/, "")) / 1e9).toBeGreaterThan(0.3);
    await kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: NS,
      body: {
        metadata: { name: "burner" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "burner" },
          minReplicas: 1,
          maxReplicas: 2,
          metrics: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
            },
          ],
        },
      },
    });
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    // The HPA syncs every 15 s and counts a pod's CPU only a metrics window after it became Ready.
    await eventually("the HPA scaling burner to 2", 120_000, async () => {
      const d = await apps.readNamespacedDeployment({ name: "burner", namespace: NS });
      return d.spec?.replicas === 2 ? true : undefined;
    }).catch(async (err: Error) => {
      const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "burner", namespace: NS });
      throw new Error(`${err.message}; HPA status: ${JSON.stringify(hpa.status)}`);
    });
    await apps.deleteNamespacedDeployment({ name: "burner", namespace: NS });
  }, 240_000);
});

describe("make cluster-down with the node agent", () => {
  it("leaves no pod process, network namespace, veth, bridge or cgroup behind", async () => {
    const down = await clusterScript(cluster, "down");
    expect(down.code, down.stderr).toBe(0);
    const netns = await runCommand("/usr/sbin/ip", ["netns", "list"], { timeoutMs: 5_000 });
    expect(netns.stdout.split("\n").filter((l) => l.startsWith(`${BRIDGE}-pod-`))).toEqual([]);
    const bridge = await runCommand("/usr/sbin/ip", ["link", "show", BRIDGE], { timeoutMs: 5_000 });
    expect(bridge.code).not.toBe(0);
    expect(existsSync(`/sys/fs/cgroup/unified/tm-agent/${BRIDGE}`)).toBe(false);
    const stillRunning: string[] = [];
    for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmdline.includes(cluster.stateDir)) stillRunning.push(cmdline.replaceAll("\0", " "));
    }
    expect(stillRunning).toEqual([]);
  });
});
