import type { CoreV1Event, KubernetesObject, V1ConfigMap, V1Job, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ModelVersion } from "../api/types.ts";
import { labels } from "../manifests/names.ts";
import { ownedBy } from "../manifests/owner.ts";
import { storedModel } from "../testing/fixtures.ts";
import { type NamespaceCache, observe, ownerKey } from "./observe.ts";

const model = storedModel();
const mine = ownedBy(model.metadata);
const theirs = ownedBy({ name: model.metadata.name, uid: "an-older-model-of-the-same-name" });
const now = new Date("2026-11-24T10:00:00Z");

const job = (version: number, owner = mine): V1Job => ({
  metadata: {
    name: `spy-momentum-train-v${version}`,
    uid: `job-${version}`,
    labels: labels("spy-momentum", "trainer", { version }),
    ownerReferences: owner,
  },
});
const pod = (jobUid: string): V1Pod => ({
  metadata: {
    name: `${jobUid}-pod`,
    labels: labels("spy-momentum", "trainer"),
    ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "x", uid: jobUid }],
  },
});
const artifact = (version: number): V1ConfigMap => ({
  metadata: {
    name: `spy-momentum-artifact-v${version}`,
    labels: labels("spy-momentum", "artifact", { version }),
    ownerReferences: mine,
  },
  data: { "artifact.json": `{"v":${version}}` },
});

function cache(over: Partial<NamespaceCache> = {}): NamespaceCache {
  return { jobs: [], pods: [], versions: [], configMaps: [], deployments: [], autoscalers: [], ...over };
}

describe("observe", () => {
  it("takes only children this model controls by uid, and the pods of its Jobs", () => {
    const observed = observe(
      model,
      cache({ jobs: [job(1), job(2, theirs)], pods: [pod("job-1"), pod("job-2")] }),
      now,
    );
    expect(observed.jobs.map((j) => j.metadata?.name)).toEqual(["spy-momentum-train-v1"]);
    expect(observed.trainingPods.map((p) => p.metadata?.name)).toEqual(["job-1-pod"]);
  });

  it("reads artifact text only for versions not registered yet", () => {
    const registered = {
      metadata: { ownerReferences: mine },
      spec: { model: "spy-momentum", version: 1 },
    } as unknown as ModelVersion;
    const observed = observe(
      model,
      cache({ configMaps: [artifact(1), artifact(2)], versions: [registered] }),
      now,
    );
    expect(observed.artifacts).toEqual([
      { version: 1, name: "spy-momentum-artifact-v1" },
      { version: 2, name: "spy-momentum-artifact-v2", text: '{"v":2}' },
    ]);
  });

  it("notices the model's autoscalers by track, not another owner's", () => {
    const hpa = (name: string, ownerReferences = mine) => ({
      metadata: { name, ownerReferences },
      spec: { maxReplicas: 3, scaleTargetRef: { kind: "Deployment", name } },
    });
    const autoscalers = [
      hpa("spy-momentum-predictor"),
      hpa("spy-momentum-predictor-canary"),
      hpa("spy-momentum-predictor-preview", []),
    ];
    expect(observe(model, cache({ autoscalers }), now).autoscaledTracks).toEqual(["stable", "canary"]);
    expect(observe(model, cache(), now).autoscaledTracks).toEqual([]);
  });

  it("picks the model's own PrometheusRule and the refusals of rules of its name", () => {
    const rule = (name: string, owner: typeof mine) => ({ metadata: { name, ownerReferences: owner } });
    const refusal = (name: string) => ({ involvedObject: { kind: "PrometheusRule", name } }) as CoreV1Event;
    const observed = observe(
      model,
      cache({
        prometheusRules: [rule("spy-momentum", theirs), rule("other", mine), rule("spy-momentum", mine)],
        ruleRejections: [refusal("other"), refusal("spy-momentum")],
      }),
      now,
    );
    expect(observed.alertRules).toEqual({
      stored: rule("spy-momentum", mine),
      rejections: [refusal("spy-momentum")],
    });
    expect(observe(model, cache(), now).alertRules).toBeUndefined();
  });
});

describe("ownerKey", () => {
  it("maps a child to its model's key by controller reference, else by the model label", () => {
    const child = (meta: KubernetesObject["metadata"]) => ({ metadata: { namespace: "trading", ...meta } });
    expect(ownerKey(child({ ownerReferences: mine }))).toBe("trading/spy-momentum");
    expect(ownerKey(child({ labels: { "trading.mlops.dev/model": "other" } }))).toBe("trading/other");
    expect(ownerKey(child({}))).toBeUndefined();
  });
});
