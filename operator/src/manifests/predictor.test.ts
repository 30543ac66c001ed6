import { readFile } from "node:fs/promises";
import type { V1Deployment, V1ManagedFieldsEntry } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { storedModel, storedVersion } from "../testing/fixtures.ts";
import {
  predictorAutoscaler,
  predictorDeployment,
  predictorService,
  replicasHandover,
  replicasHandoverManager,
} from "./predictor.ts";

const model = storedModel();
const version = storedVersion(3);

const deployment = predictorDeployment({
  model,
  version: version.spec,
  track: "stable",
  image: "tradingmodel/predictor:0.1.0",
});
const pod = deployment.spec?.template.spec;
const container = pod?.containers[0];

describe("predictor Deployment", () => {
  it("labels pods with model, version and track, and selects on model and track only", () => {
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/version": "v3",
      "trading.mlops.dev/track": "stable",
    });
    expect(deployment.spec?.selector.matchLabels).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/track": "stable",
    });
  });

  it("tells the predictor which artifact to load and which sha256 it must have", () => {
    expect(container?.env).toEqual(
      expect.arrayContaining([
        { name: "MODEL_NAME", value: "spy-momentum" },
        { name: "MODEL_VERSION", value: "v3" },
        { name: "MODEL_TRACK", value: "stable" },
        { name: "ARTIFACT_PATH", value: "/artifact/artifact.json" },
        { name: "ARTIFACT_SHA256", value: "a".repeat(64) },
      ]),
    );
    expect(container?.volumeMounts).toContainEqual({
      name: "artifact",
      mountPath: "/artifact",
      readOnly: true,
    });
    expect(pod?.volumes?.find((v) => v.name === "artifact")?.configMap?.name).toBe(
      "spy-momentum-artifact-v3",
    );
  });

  it("runs the image's entrypoint with the predictor's node flags: a 2 MB young generation, collected on the main thread", async () => {
    // The command replaces the image's ENTRYPOINT, so it must be that entrypoint with the flags
    // after node: a change to the Dockerfile that this command missed fails here.
    const dockerfile = await readFile(new URL("../../../predictor/Dockerfile", import.meta.url), "utf8");
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(entrypoint).toEqual(["node", "predictor/src/cli.ts"]);
    expect(container?.command).toEqual([
      "node",
      "--max-semi-space-size=2",
      "--single-threaded-gc",
      "predictor/src/cli.ts",
    ]);
    expect(container?.args).toEqual(["serve"]);
    expect(container?.env?.map((e) => e.name)).not.toContain("NODE_OPTIONS");
  });

  it("is probed on /readyz and /healthz and drains before it stops", () => {
    expect(container?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container?.livenessProbe?.httpGet?.path).toBe("/healthz");
    const sleep = container?.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(sleep).toBeGreaterThan(0);
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(sleep);
  });

  it("is not killed by liveness while it starts: a startup probe allows two minutes, liveness follows", () => {
    const startup = container?.startupProbe;
    expect(startup?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(120);
    // Once started, a hung predictor is still restarted within half a minute.
    const liveness = container?.livenessProbe;
    expect((liveness?.periodSeconds ?? 10) * (liveness?.failureThreshold ?? 3)).toBeLessThanOrEqual(30);
  });

  it("rolls out without ever going below the desired ready pods, all new pods starting at once", () => {
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    // A promotion's rolling update of stable waits for one pod start, not one per pod.
    expect(deployment.spec?.strategy?.rollingUpdate?.maxSurge).toBe("100%");
  });

  it("turns ready within a second of answering /readyz", () => {
    expect(container?.readinessProbe?.periodSeconds).toBe(1);
  });

  it("runs without a service-account token, non-root, read-only, and is scraped by Prometheus", () => {
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(deployment.spec?.template.metadata?.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8080",
    });
  });

  it("leaves the replica count to the autoscaler when autoscaling is on, and sets it otherwise", () => {
    expect(deployment.spec?.replicas).toBeUndefined();
    const fixed = storedModel("mean-reversion-bluegreen.yaml");
    expect(
      predictorDeployment({ model: fixed, version: version.spec, track: "stable", image: "i" }).spec
        ?.replicas,
    ).toBe(2);
    expect(predictorAutoscaler(fixed, "stable", { minReplicas: 2, maxReplicas: 4 })).toBeUndefined();
  });

  it("scales one track's Deployment on the spec's CPU target within the bounds given, owned by the model", () => {
    const hpa = predictorAutoscaler(model, "canary", { minReplicas: 1, maxReplicas: 3 });
    expect(hpa?.metadata).toMatchObject({
      name: "spy-momentum-predictor-canary",
      labels: { "trading.mlops.dev/track": "canary" },
      ownerReferences: [{ kind: "TradingModel", name: "spy-momentum", controller: true }],
    });
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "spy-momentum-predictor-canary" },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{ resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    });
  });
});

describe("replicasHandover: before an apply stops sending a Deployment's count", () => {
  const OPERATOR = "tradingmodel-operator";
  // managedFields as the apiserver writes them (the shape the informers cache): the operator's
  // applies own the spec, the Deployment controller's status updates own status.replicas too.
  const entry = (
    manager: string,
    operation: "Apply" | "Update",
    fields: object,
    subresource?: string,
  ): V1ManagedFieldsEntry => ({
    manager,
    operation,
    apiVersion: "apps/v1",
    fieldsType: "FieldsV1",
    fieldsV1: fields,
    ...(subresource ? { subresource } : {}),
  });
  const appliedSpec = { "f:spec": { "f:replicas": {}, "f:selector": {}, "f:template": {} } };
  const deploymentStatus = entry(
    "kube-controller-manager",
    "Update",
    { "f:status": { "f:replicas": {} } },
    "status",
  );
  const live = (...managedFields: V1ManagedFieldsEntry[]): V1Deployment => ({
    ...structuredClone(deployment),
    metadata: { ...deployment.metadata, managedFields },
    spec: { ...(deployment.spec as NonNullable<V1Deployment["spec"]>), replicas: 3 },
  });
  const stableInput = {
    model: storedModel("spy-momentum.yaml", (raw) => {
      (raw.spec as { serving: object }).serving = {
        replicas: 3,
        autoscaling: { minReplicas: 2, maxReplicas: 5 },
      };
    }),
    version: version.spec,
    track: "stable",
    image: "tradingmodel/predictor:0.1.0",
  } as const;
  const autoscaled = predictorDeployment(stableInput);

  it("hands the live count over when the operator's applies alone own it and the next apply drops it", () => {
    expect(autoscaled.spec?.replicas).toBeUndefined();
    expect(
      replicasHandover(live(entry(OPERATOR, "Apply", appliedSpec), deploymentStatus), autoscaled, OPERATOR),
    ).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "spy-momentum-predictor", namespace: "trading" },
      spec: { replicas: 3 },
    });
    expect(replicasHandoverManager(OPERATOR)).toBe("tradingmodel-operator-replicas-handover");
  });

  it("hands nothing over when the field stays anyway, or is still sent", () => {
    const ours = entry(OPERATOR, "Apply", appliedSpec);
    const also = (manager: string, operation: "Apply" | "Update", subresource?: string) =>
      live(ours, entry(manager, operation, { "f:spec": { "f:replicas": {} } }, subresource));
    for (const other of [
      also("kube-controller-manager", "Update", "scale"), // the HPA scaled it
      also(replicasHandoverManager(OPERATOR), "Apply"), // handed over already
      also("kubectl", "Update", "scale"), // kubectl scale
    ]) {
      expect(replicasHandover(other, autoscaled, OPERATOR)).toBeUndefined();
    }
    // Created with its count (an Update of the operator's), never applied with it.
    const created = live(
      entry(OPERATOR, "Update", { "f:spec": { "f:replicas": {} } }),
      entry(OPERATOR, "Apply", { "f:spec": { "f:template": {} } }),
    );
    expect(replicasHandover(created, autoscaled, OPERATOR)).toBeUndefined();
    // Another manager's applies: not ours to hand over.
    expect(
      replicasHandover(live(entry("someone", "Apply", appliedSpec)), autoscaled, OPERATOR),
    ).toBeUndefined();
    // The apply still sends a count, or there is no Deployment yet.
    const counted = predictorDeployment({ ...stableInput, replicas: 3 });
    expect(replicasHandover(live(ours), counted, OPERATOR)).toBeUndefined();
    expect(replicasHandover(undefined, autoscaled, OPERATOR)).toBeUndefined();
  });
});

describe("predictor Service", () => {
  it("is named after the model and sends traffic to the live tracks' pods (stable and canary), never a shadow's", () => {
    const service = predictorService(model);
    expect(service.metadata?.name).toBe("spy-momentum");
    expect(service.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/traffic": "live",
    });
    const podLabels = (track: "stable" | "canary" | "shadow") =>
      predictorDeployment({ model, version: version.spec, track, image: "i" }).spec?.template.metadata
        ?.labels ?? {};
    const selects = (labels: Record<string, string>) =>
      Object.entries(service.spec?.selector ?? {}).every(([k, v]) => labels[k] === v);
    expect(selects(podLabels("stable"))).toBe(true);
    expect(selects(podLabels("canary"))).toBe(true);
    expect(selects(podLabels("shadow"))).toBe(false);
    expect(service.spec?.ports).toEqual([{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }]);
  });
});
