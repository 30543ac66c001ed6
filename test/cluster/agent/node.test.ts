import { describe, expect, it } from "vitest";
import { goArch, nodeObject, nodeStatus } from "./node.ts";

const facts = {
  name: "tm-node-1",
  podCIDR: "10.244.1.0/24",
  internalIP: "10.244.0.1",
  cpu: 2,
  memoryBytes: 8 * 2 ** 30,
  ephemeralStorageBytes: 100 * 2 ** 30,
  maxPods: 110,
  kubeletVersion: "v1.36.3",
  kernelVersion: "6.18.0",
  osImage: "Debian GNU/Linux 12",
  architecture: goArch("x64"),
  kubeletPort: 10250,
};

describe("node object", () => {
  it("carries the node's pod CIDR and well-known labels", () => {
    const node = nodeObject(facts);
    expect(node.spec?.podCIDRs).toEqual(["10.244.1.0/24"]);
    expect(node.metadata?.labels).toMatchObject({
      "kubernetes.io/hostname": "tm-node-1",
      "kubernetes.io/arch": "amd64",
    });
  });

  it("reports capacity, the InternalIP and a Ready condition with the heartbeat time", () => {
    const status = nodeStatus(
      facts,
      new Date("2026-11-24T10:00:00Z"),
      new Date("2026-11-24T10:05:00.700Z"),
    ) as {
      capacity: Record<string, string>;
      addresses: unknown[];
      conditions: { type: string; status: string; lastHeartbeatTime: string; lastTransitionTime: string }[];
    };
    expect(status.capacity).toEqual({
      cpu: "2",
      memory: "8388608Ki",
      "ephemeral-storage": "104857600Ki",
      pods: "110",
    });
    expect(status.addresses).toEqual([{ type: "InternalIP", address: "10.244.0.1" }]);
    expect(status.conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      lastHeartbeatTime: "2026-11-24T10:05:00Z",
      lastTransitionTime: "2026-11-24T10:00:00Z",
    });
    expect(status.conditions.filter((c) => c.status === "False").map((c) => c.type)).toEqual([
      "MemoryPressure",
      "DiskPressure",
      "PIDPressure",
    ]);
  });
});
