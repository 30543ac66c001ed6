import { describe, expect, it } from "vitest";
import { parseTrainSpec } from "../../../predictor/src/train/spec.ts";
import { storedModel } from "../testing/fixtures.ts";
import { trainerRole, trainerRoleBinding, trainerServiceAccount } from "./trainer-rbac.ts";
import { trainingJob } from "./training-job.ts";

const images = { predictor: "tradingmodel/predictor:0.1.0", operator: "tradingmodel/operator:0.1.0" };
const model = storedModel();
const job = (champion?: number, m = model) =>
  trainingJob({
    model: m,
    version: 3,
    trainingHash: "h3",
    images,
    ttlSecondsAfterFinished: 3600,
    ...(champion ? { champion } : {}),
  });

describe("training Job", () => {
  it("has a predictable name, the model's labels and the TradingModel as controller owner", () => {
    const j = job();
    expect(j.metadata?.name).toBe("spy-momentum-train-v3");
    expect(j.metadata?.labels).toMatchObject({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/version": "v3",
    });
    expect(j.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "trading.mlops.dev/v1alpha1",
        kind: "TradingModel",
        name: "spy-momentum",
        uid: model.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(j.metadata?.annotations).toMatchObject({ "trading.mlops.dev/training-hash": "h3" });
  });

  it("takes backoff, deadline and TTL from the spec and the operator", () => {
    expect(job().spec).toMatchObject({
      backoffLimit: 2,
      activeDeadlineSeconds: 900,
      ttlSecondsAfterFinished: 3600,
    });
  });

  it("does not retry invalid input (exit 2), but retries an unreachable source and ignores evictions", () => {
    expect(job().spec?.podFailurePolicy?.rules).toEqual([
      { action: "FailJob", onExitCodes: { containerName: "train", operator: "In", values: [2] } },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    ]);
  });

  it("runs under the restricted pod security standard with a read-only root and a writable /tmp", () => {
    const pod = job().spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod?.restartPolicy).toBe("Never");
    for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.volumeMounts?.find((m) => m.mountPath === "/tmp")).toBeDefined();
      expect(c.resources?.limits).toHaveProperty("memory");
    }
  });

  it("runs `predictor train` with a spec the runtime's own parser accepts", () => {
    const train = job().spec?.template.spec?.initContainers?.[0];
    expect(train?.image).toBe("tradingmodel/predictor:0.1.0");
    const args = train?.args ?? [];
    expect(args[0]).toBe("train");
    expect(args.slice(3)).toEqual(["--out", "/out/artifact.json"]);
    const spec = parseTrainSpec(JSON.parse(args[2] as string));
    expect(spec.algorithm).toEqual({ type: "ridge", alpha: 1 });
    expect(spec.training.data).toEqual({ synthetic: { seed: 42, bars: 50000, regime: "trending" } });
    expect(train?.resources).toEqual({
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { cpu: "2", memory: "2Gi" },
    });
  });

  it("mounts the stable version's artifact and passes it as the champion", () => {
    const pod = job(2).spec?.template.spec;
    expect(pod?.initContainers?.[0]?.args?.slice(-2)).toEqual(["--champion", "/champion/artifact.json"]);
    expect(pod?.volumes?.find((v) => v.name === "champion")?.configMap?.name).toBe(
      "spy-momentum-artifact-v2",
    );
  });

  it("mounts a configMapRef data source and points the trainer at the file", () => {
    const m = storedModel("spy-momentum.yaml", (raw) => {
      (raw.spec.training as Record<string, unknown>).data = {
        configMapRef: { name: "spy-bars", key: "spy.csv" },
      };
    });
    const pod = job(undefined, m).spec?.template.spec;
    expect(JSON.parse(pod?.initContainers?.[0]?.args?.[2] as string).training.data).toEqual({
      path: "/data/spy.csv",
    });
    expect(pod?.volumes?.find((v) => v.name === "data")?.configMap).toMatchObject({ name: "spy-bars" });
  });

  it("gives API credentials to the publisher only, never to the trainer that reads user data", () => {
    const pod = job().spec?.template.spec;
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBe("spy-momentum-trainer");
    const tokenMounts = (c?: { volumeMounts?: { name: string }[] }) =>
      (c?.volumeMounts ?? []).filter((m) => m.name === "kube-api-access");
    expect(tokenMounts(pod?.initContainers?.[0])).toEqual([]);
    expect(tokenMounts(pod?.containers[0])).toHaveLength(1);
    expect(pod?.containers[0]?.args).toEqual([
      "publish-artifact",
      "--file",
      "/out/artifact.json",
      "--configmap",
      "spy-momentum-artifact-v3",
      "--model",
      "spy-momentum",
      "--model-uid",
      model.metadata.uid,
      "--version",
      "3",
    ]);
  });
});

describe("trainer RBAC", () => {
  it("allows creating ConfigMaps and reading back only the artifact in training", () => {
    expect(trainerRole(model, 3).rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get"],
        resourceNames: ["spy-momentum-artifact-v3"],
      },
    ]);
  });

  it("binds the role to the trainer ServiceAccount, which mounts no token by default", () => {
    expect(trainerServiceAccount(model).automountServiceAccountToken).toBe(false);
    expect(trainerRoleBinding(model)).toMatchObject({
      roleRef: { kind: "Role", name: "spy-momentum-trainer" },
      subjects: [{ kind: "ServiceAccount", name: "spy-momentum-trainer", namespace: "trading" }],
    });
  });
});
