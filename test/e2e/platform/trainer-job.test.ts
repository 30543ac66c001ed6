// A Job running the trainer completes, its pod's logs carry the trainer's summary, and a trainer
// that exits with a user error fails its Job.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { apply, getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { containerLog } from "../support/pods.ts";
import { PREDICTOR_IMAGE, TRAIN_SPEC } from "../support/predictor.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-job");

function trainerJob(name: string, spec: object): object {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { namespace: ns.name, name },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "train",
              image: PREDICTOR_IMAGE,
              args: ["train", "--spec", JSON.stringify(spec), "--out", "/out/artifact.json"],
              volumeMounts: [{ name: "out", mountPath: "/out" }],
            },
          ],
          volumes: [{ name: "out", emptyDir: {} }],
        },
      },
    },
  };
}

async function finished(name: string): Promise<{ type: string; pod: V1Pod }> {
  const condition = await waitFor(
    `Job ${name} to finish`,
    async () => {
      const job = await getJson<V1Job>(["job", name, "-n", ns.name]);
      return job.status?.conditions?.find(
        (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
      );
    },
    { timeoutMs: 120_000 },
  );
  const pods = await getJson<{ items: V1Pod[] }>(["pods", "-n", ns.name, "-l", `job-name=${name}`]);
  expect(pods.items).toHaveLength(1);
  return { type: condition.type, pod: pods.items[0] as V1Pod };
}

describe("trainer Job", () => {
  it("completes, and its log holds the trainer's summary", async () => {
    await apply(trainerJob("train-ok", TRAIN_SPEC));
    const { type, pod } = await finished("train-ok");
    expect(type).toBe("Complete");
    expect(pod.status?.phase).toBe("Succeeded");
    const log = await containerLog(ns.name, pod.metadata?.name as string, "train");
    const summary = log
      .split("\n")
      .filter((l) => l.includes('"status":"ok"'))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ status: "ok", artifact: "/out/artifact.json", rows: 5000 });
  });

  it("fails when the trainer exits with a user error (exit code 2), with the reason in the pod", async () => {
    await apply(trainerJob("train-bad", { ...TRAIN_SPEC, algorithm: { type: "ridge", alpha: -1 } }));
    const { type, pod } = await finished("train-bad");
    expect(type).toBe("Failed");
    expect(pod.status?.phase).toBe("Failed");
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).toBe(2);
    expect(terminated?.message ?? "").toContain("alpha");
  });
});
