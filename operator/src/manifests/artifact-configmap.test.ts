import { describe, expect, it } from "vitest";
import { parseArtifact } from "../../../predictor/src/artifact.ts";
import { artifactText, metrics, storedModel } from "../testing/fixtures.ts";
import { ArtifactTooLargeError, artifactConfigMap, MAX_ARTIFACT_BYTES } from "./artifact-configmap.ts";
import { modelVersion, withStage } from "./model-version.ts";

const model = storedModel();
const owner = { name: "spy-momentum", namespace: "trading", uid: model.metadata.uid };

describe("artifact ConfigMap", () => {
  it("is immutable, per version, owned by the model, and holds the artifact verbatim", () => {
    const text = artifactText(model);
    const cm = artifactConfigMap({ model: owner, version: 4, artifactText: text });
    expect(cm.metadata?.name).toBe("spy-momentum-artifact-v4");
    expect(cm.immutable).toBe(true);
    expect(cm.data).toEqual({ "artifact.json": text });
    expect(cm.metadata?.annotations?.["trading.mlops.dev/artifact-sha256"]).toBe(parseArtifact(text).sha256);
    expect(cm.metadata?.ownerReferences?.[0]?.uid).toBe(model.metadata.uid);
  });

  it("refuses an artifact above the 1 MiB ConfigMap budget, naming both sizes", () => {
    const text = `${artifactText(model)}${" ".repeat(MAX_ARTIFACT_BYTES)}`;
    expect(() => artifactConfigMap({ model: owner, version: 4, artifactText: text })).toThrow(
      ArtifactTooLargeError,
    );
    expect(() => artifactConfigMap({ model: owner, version: 4, artifactText: text })).toThrow(
      new RegExp(`is ${Buffer.byteLength(text)} bytes, above the ${MAX_ARTIFACT_BYTES}-byte`),
    );
  });

  it("refuses an artifact whose content does not match its sha256", () => {
    const tampered = artifactText(model).replace('"intercept":0.0001', '"intercept":0.5');
    expect(() => artifactConfigMap({ model: owner, version: 4, artifactText: tampered })).toThrow(
      /sha256 mismatch/,
    );
  });
});

describe("ModelVersion", () => {
  it("records lineage and the artifact from the artifact itself", () => {
    const text = artifactText(model, metrics());
    const { artifact, sha256 } = parseArtifact(text);
    const mv = modelVersion({
      model,
      version: 4,
      artifact,
      artifactSha256: sha256,
      artifactBytes: text.length,
      trainingHash: "h4",
      parentVersion: 3,
    });
    expect(mv.metadata.name).toBe("spy-momentum-v4");
    expect(mv.spec).toMatchObject({
      model: "spy-momentum",
      version: 4,
      dataSha256: "e".repeat(64),
      codeVersion: "0.1.0",
      parentVersion: 3,
      params: { algorithm: { type: "Ridge", alpha: 1 }, holdoutFraction: 0.2, trainingHash: "h4" },
      artifact: { configMapRef: { name: "spy-momentum-artifact-v4", key: "artifact.json" }, sha256 },
    });
  });

  it("appends each stage change with its reason and time", () => {
    const t1 = new Date("2026-11-24T10:00:00Z");
    const t2 = new Date("2026-11-24T10:05:00Z");
    const staged = withStage(undefined, { stage: "Staging", reason: "GatePassed", message: "ok" }, t1);
    const prod = withStage(staged, { stage: "Production", reason: "RolledOut", message: "2/2 ready" }, t2);
    expect(prod.stage).toBe("Production");
    expect(prod.stageHistory).toEqual([
      { stage: "Staging", reason: "GatePassed", message: "ok", time: "2026-11-24T10:00:00.000Z" },
      { stage: "Production", reason: "RolledOut", message: "2/2 ready", time: "2026-11-24T10:05:00.000Z" },
    ]);
  });
});
