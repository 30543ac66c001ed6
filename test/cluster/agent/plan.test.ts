import { describe, expect, it } from "vitest";
import { testImages, testNode, testPaths, testPod } from "./fixtures.ts";
import { planContainer, podEtcFiles } from "./plan.ts";

const facts = { podIP: "10.244.1.7", hostIP: "10.244.0.1" };
const sources = { configMaps: new Map(), secrets: new Map() };

function plan(container: Parameters<typeof testPod>[0], spec: Parameters<typeof testPod>[1] = {}) {
  const pod = testPod(container, spec);
  const c = pod.spec?.containers[0];
  if (!c) throw new Error("no container");
  return planContainer({
    pod,
    container: c,
    field: "spec.containers[0]",
    images: testImages,
    facts,
    node: testNode,
    sources,
    serviceEnv: {},
    paths: testPaths,
  });
}

describe("container plan", () => {
  it("runs the predictor image as node with args expanded from env, as the image's user", () => {
    const result = plan(
      {
        image: "tradingmodel/predictor:1.0",
        args: ["serve", "--port", "$(PORT)"],
        env: [{ name: "PORT", value: "8080" }],
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      },
      { volumes: [{ name: "tmp", emptyDir: {} }] },
    );
    if (!result.ok) throw new Error(result.failure.message);
    expect(result.plan.argv).toEqual([
      "/opt/node/bin/node",
      "/repo/predictor/src/cli.ts",
      "serve",
      "--port",
      "8080",
    ]);
    expect(result.plan.user).toEqual({ uid: 1000, gid: 1000 });
    expect(result.plan.workingDir).toBe("/repo");
    expect(result.plan.env).toMatchObject({ HOSTNAME: "web-7d9f", TERMINATION_LOG: "/dev/termination-log" });
    expect(result.plan.mounts).toEqual([
      { source: "/state/pod/etc/hosts", target: "/etc/hosts", readOnly: false },
      { source: "/state/pod/etc/resolv.conf", target: "/etc/resolv.conf", readOnly: false },
      { source: "/state/pod/etc/hostname", target: "/etc/hostname", readOnly: false },
      {
        source: "/state/pod/containers/main/termination-log",
        target: "/dev/termination-log",
        readOnly: false,
      },
      { source: "/state/pod/volumes/tmp", target: "/tmp", readOnly: false },
    ]);
  });

  it("honours securityContext users and refuses root under runAsNonRoot", () => {
    const asUser = plan({ securityContext: { runAsUser: 2000 } }, { securityContext: { runAsGroup: 3000 } });
    expect(asUser.ok && asUser.plan.user).toEqual({ uid: 2000, gid: 3000 });
    expect(plan({ securityContext: { runAsNonRoot: true } })).toEqual({
      ok: false,
      failure: {
        reason: "CreateContainerConfigError",
        message: "container has runAsNonRoot and image will run as root",
      },
    });
  });

  it("reports an unknown image as ImageNotRunnable and a bad mount by its field", () => {
    const unknown = plan({ image: "redis:7" });
    expect(unknown.ok === false && unknown.failure.reason).toBe("ImageNotRunnable");
    const badMount = plan({ volumeMounts: [{ name: "nope", mountPath: "/x" }] });
    expect(badMount.ok === false && badMount.failure.message).toBe(
      'spec.containers[0].volumeMounts[0].name: no volume named "nope" in spec.volumes',
    );
  });

  it("writes resolv.conf with the cluster search path and hosts with the pod's address", () => {
    const files = podEtcFiles(testPod({}, { hostname: "trainer", subdomain: "jobs" }), {
      podIP: "10.244.1.7",
      clusterDomain: "cluster.local",
      dnsServer: "10.96.0.10",
    });
    expect(files["resolv.conf"]).toBe(
      "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
    );
    expect(files.hosts).toContain("10.244.1.7\ttrainer.jobs.shop.svc.cluster.local\ttrainer\n");
    expect(files.hostname).toBe("trainer\n");
  });
});
