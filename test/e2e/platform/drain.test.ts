// Deleting a predictor pod under load fails no request: the pod leaves the Service's ready
// endpoints as soon as it is terminating, and keeps serving (SHUTDOWN_DELAY_MS) while clients
// learn that, before it stops accepting connections.
import type { V1EndpointSlice, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, kubectl } from "../support/kubectl.ts";
import { runLoad } from "../support/load.ts";
import { useNamespace } from "../support/namespace.ts";
import { readyPods } from "../support/pods.ts";
import { deployPredictor, predictBody, waitForReadyPods } from "../support/predictor.ts";
import { openService, type ServiceEndpoint } from "../support/service.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-drain");
let service: ServiceEndpoint;

beforeAll(async () => {
  await deployPredictor({
    namespace: ns.name,
    name: "drain",
    replicas: 2,
    env: { SHUTDOWN_DELAY_MS: "3000" },
  });
  service = await openService(ns.name, "drain", "http");
});

afterAll(() => service?.close());

/** The `ready` condition of an IP's endpoint in the Service's slices; undefined when not listed. */
async function endpointReady(ip: string): Promise<boolean | undefined> {
  const slices = await getJson<{ items: V1EndpointSlice[] }>([
    "endpointslices",
    "-n",
    ns.name,
    "-l",
    "kubernetes.io/service-name=drain",
  ]);
  for (const s of slices.items) {
    for (const e of s.endpoints ?? []) if (e.addresses.includes(ip)) return e.conditions?.ready !== false;
  }
  return undefined;
}

describe("pod deletion under load", () => {
  it("fails no request while a pod is deleted, and the pod leaves the endpoints while it still runs", async () => {
    const pods = await readyPods(ns.name, "app=drain");
    // A Ready pod reaches the EndpointSlice a moment later (endpointslice controller sync).
    await waitFor(
      "both pods' endpoints to be ready",
      async () => {
        for (const p of pods) if ((await endpointReady(p.status?.podIP as string)) !== true) return false;
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const [victim] = pods;
    const name = victim?.metadata?.name as string;
    const ip = victim?.status?.podIP as string;

    let deletion: Promise<unknown> | undefined;
    let notReadyWhileRunning: Promise<boolean> | undefined;
    // 200 requests, 25 ms apart (40 per second for 5 s); the pod is deleted after the 40th.
    const load = await runLoad({
      address: service.address,
      path: "/v1/predict",
      body: predictBody(),
      count: 200,
      intervalMs: 25,
      onStarted: (i) => {
        if (i !== 40) return;
        deletion = kubectl(["delete", "pod", name, "-n", ns.name, "--wait=false"]);
        notReadyWhileRunning = waitFor(
          `${name}'s endpoint to turn not ready while the pod still exists`,
          async () => {
            const ready = await endpointReady(ip);
            if (ready !== false && ready !== undefined) return undefined;
            const pod = await getJson<{ items: V1Pod[] }>([
              "pods",
              "-n",
              ns.name,
              `--field-selector=metadata.name=${name}`,
            ]);
            return pod.items.length === 1;
          },
          { timeoutMs: 10_000, intervalMs: 100 },
        );
      },
    });
    await deletion;
    expect(await notReadyWhileRunning).toBe(true);
    expect(load.failures).toEqual([]);
    expect(load.outcomes).toHaveLength(200);
    // The Deployment replaces the pod, and the deleted one ends.
    await waitForReadyPods(ns.name, "app=drain", 2);
    await waitFor(
      `pod ${name} to be gone`,
      async () =>
        (await kubectl(["get", "pod", name, "-n", ns.name, "--ignore-not-found", "-o", "name"])).trim() ===
        "",
    );
  });
});
