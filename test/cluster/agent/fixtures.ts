// A pod as the apiserver returns it after admission, for the agent's unit tests.
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { NodeResources } from "./downward.ts";
import type { ImageTable } from "./images.ts";
import { defaultImageTable } from "./images.ts";
import type { PodPaths } from "./plan.ts";

export function testPod(container: Partial<V1Container> = {}, spec: Partial<V1Pod["spec"]> = {}): V1Pod {
  return {
    metadata: {
      name: "web-7d9f",
      namespace: "shop",
      uid: "0b1c2d3e-1111-2222-3333-444455556666",
      labels: { app: "web", tier: "front" },
      annotations: { "example.com/owner": "team-a" },
    },
    spec: {
      nodeName: "tm-node-1",
      serviceAccountName: "web",
      restartPolicy: "Always",
      containers: [{ name: "main", image: "busybox:1.36", ...container }],
      ...spec,
    },
  };
}

export const testNode: NodeResources = { cpu: 2, memory: 8 * 2 ** 30, ephemeralStorage: 100 * 2 ** 30 };

export const testImages: ImageTable = defaultImageTable("/repo", "/opt/node/bin/node");

export const testPaths: PodPaths = {
  volumeDir: (v) => `/state/pod/volumes/${v}`,
  containerDir: (c) => `/state/pod/containers/${c}`,
  etcFile: (f) => `/state/pod/etc/${f}`,
};
