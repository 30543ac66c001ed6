import { describe, expect, it } from "vitest";
import { testPod } from "./fixtures.ts";
import { type ContainerRecord, computePodStatus, type PodRecord, podPhase } from "./status.ts";

const t0 = new Date("2026-11-24T10:00:00.250Z");
const t1 = new Date("2026-11-24T10:00:05Z");

function c(
  name: string,
  state: ContainerRecord["state"],
  extra: Partial<ContainerRecord> = {},
): ContainerRecord {
  return {
    name,
    image: "busybox",
    restartCount: 0,
    state,
    ready: false,
    started: state.kind === "running",
    ...extra,
  };
}
const running = { kind: "running" as const, startedAt: t0 };
const exited = (exitCode: number) => ({
  kind: "terminated" as const,
  terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt: t0, finishedAt: t1 },
});

function record(containers: ContainerRecord[], initContainers: ContainerRecord[] = []): PodRecord {
  return {
    containers,
    initContainers,
    podIP: "10.244.1.2",
    hostIP: "10.244.0.1",
    startTime: t0,
    sandboxReady: true,
  };
}

describe("pod phase", () => {
  it("ends a Job pod Succeeded or Failed by exit code under restartPolicy Never", () => {
    const pod = testPod({}, { restartPolicy: "Never" });
    expect(podPhase(pod, record([c("main", exited(0))]))).toBe("Succeeded");
    expect(podPhase(pod, record([c("main", exited(2))]))).toBe("Failed");
  });

  it("keeps Always and OnFailure pods Running while a failed container waits to restart", () => {
    const lastTermination = { exitCode: 1, reason: "Error", startedAt: t0, finishedAt: t1 };
    const backingOff = c(
      "main",
      { kind: "waiting", reason: "CrashLoopBackOff" },
      { lastTermination, restartCount: 1 },
    );
    expect(podPhase(testPod({}, { restartPolicy: "Always" }), record([backingOff]))).toBe("Running");
    expect(podPhase(testPod({}, { restartPolicy: "OnFailure" }), record([c("main", exited(1))]))).toBe(
      "Running",
    );
    expect(podPhase(testPod({}, { restartPolicy: "OnFailure" }), record([c("main", exited(0))]))).toBe(
      "Succeeded",
    );
  });

  it("is Pending while a container has never started or an init container has not succeeded", () => {
    const pod = testPod();
    expect(podPhase(pod, record([c("main", { kind: "waiting", reason: "ImageNotRunnable" })]))).toBe(
      "Pending",
    );
    expect(
      podPhase(
        pod,
        record([c("main", { kind: "waiting", reason: "PodInitializing" })], [c("init", running)]),
      ),
    ).toBe("Pending");
    const never = testPod({}, { restartPolicy: "Never" });
    expect(
      podPhase(
        never,
        record([c("main", { kind: "waiting", reason: "PodInitializing" })], [c("init", exited(1))]),
      ),
    ).toBe("Failed");
  });
});

describe("pod status", () => {
  it("reports pod IP, Ready conditions and container states with second-precision times", () => {
    const status = computePodStatus(
      testPod(),
      record([c("main", running, { ready: true, containerID: "tm://x" })]),
      t1,
    );
    expect(status.phase).toBe("Running");
    expect(status.podIPs).toEqual([{ $patch: "replace" }, { ip: "10.244.1.2" }]);
    expect(status.startTime).toBe("2026-11-24T10:00:00Z");
    expect(status.conditions.map((x) => [x.type, x.status])).toEqual([
      ["PodReadyToStartContainers", "True"],
      ["Initialized", "True"],
      ["Ready", "True"],
      ["ContainersReady", "True"],
      ["PodScheduled", "True"],
    ]);
    expect(status.containerStatuses[0]).toMatchObject({
      name: "main",
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: "2026-11-24T10:00:00Z" } },
    });
  });

  it("names unready containers and keeps a condition's transition time while it holds", () => {
    const pod = testPod();
    pod.status = { conditions: [{ type: "Ready", status: "False", lastTransitionTime: t0 }] };
    const status = computePodStatus(
      pod,
      record([c("main", running), c("side", running, { ready: true })]),
      t1,
    );
    const ready = status.conditions.find((x) => x.type === "Ready");
    expect(ready).toEqual({
      type: "Ready",
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [main]",
      lastTransitionTime: "2026-11-24T10:00:00Z",
    });
  });

  it("reports a failed Job container's exit code and termination message", () => {
    const failed = exited(3);
    failed.terminated = { ...failed.terminated, message: "no rows in window" } as typeof failed.terminated;
    const status = computePodStatus(testPod({}, { restartPolicy: "Never" }), record([c("main", failed)]), t1);
    expect(status.phase).toBe("Failed");
    expect(status.conditions.find((x) => x.type === "Ready")?.reason).toBe("PodCompleted");
    expect(status.containerStatuses[0]).toMatchObject({
      state: { terminated: { exitCode: 3, reason: "Error", message: "no rows in window" } },
    });
  });

  it("keeps a pod with ready containers unready until its readiness gates are True", () => {
    const pod = testPod({}, { readinessGates: [{ conditionType: "example.com/lb-registered" }] });
    const ready = () => computePodStatus(pod, record([c("main", running, { ready: true })]), t1).conditions;
    expect(ready().find((x) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ReadinessGatesNotReady",
      message: 'the status of pod readiness gates [example.com/lb-registered] is not "True"',
    });
    expect(ready().find((x) => x.type === "ContainersReady")?.status).toBe("True");
    pod.status = { conditions: [{ type: "example.com/lb-registered", status: "True" }] };
    expect(ready().find((x) => x.type === "Ready")?.status).toBe("True");
  });
});
