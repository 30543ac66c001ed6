import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { trainingJob } from "../manifests/training-job.ts";
import { artifactText, metrics, storedModel } from "../testing/fixtures.ts";
import { type ConfigMapStore, type PublishError, parsePublishArgs, publishArtifact } from "./publish.ts";

const model = storedModel();
/** Exactly what the training Job passes to its publisher container. */
const argv = (
  trainingJob({
    model,
    version: 3,
    trainingHash: "h",
    images: { predictor: "p", operator: "o" },
    ttlSecondsAfterFinished: 60,
  }).spec?.template.spec?.containers[0]?.args ?? []
).slice(1);

/** An in-memory namespace's ConfigMaps, answering create like the apiserver (409 on a taken name). */
function memoryStore(): ConfigMapStore & { items: Map<string, V1ConfigMap> } {
  const items = new Map<string, V1ConfigMap>();
  return {
    items,
    async create(cm) {
      const name = cm.metadata?.name ?? "";
      if (items.has(name)) return "exists";
      items.set(name, cm);
      return "created";
    },
    async get(name) {
      return items.get(name);
    },
  };
}

describe("publish-artifact", () => {
  it("parses the arguments the training Job passes", () => {
    expect(parsePublishArgs(argv)).toEqual({
      file: "/out/artifact.json",
      configMap: "spy-momentum-artifact-v3",
      model: "spy-momentum",
      modelUid: model.metadata.uid,
      version: 3,
    });
  });

  it("names a missing or bad flag, with exit code 2", () => {
    expect(() => parsePublishArgs(argv.slice(2))).toThrow(/^missing --file/);
    expect(() => parsePublishArgs([...argv.slice(0, -1), "three"])).toThrow(
      /--version three: must be an integer >= 1/,
    );
    try {
      parsePublishArgs(["--bogus"]);
    } catch (err) {
      expect((err as PublishError).exitCode).toBe(2);
    }
  });

  it("stores the artifact as the version's immutable ConfigMap, and again without error when retried", async () => {
    const store = memoryStore();
    const text = artifactText(model);
    const first = JSON.parse(await publishArtifact(parsePublishArgs(argv), text, "trading", store));
    expect(first).toMatchObject({ status: "ok", configMap: "spy-momentum-artifact-v3", stored: "created" });
    expect(store.items.get("spy-momentum-artifact-v3")?.immutable).toBe(true);
    const again = JSON.parse(await publishArtifact(parsePublishArgs(argv), text, "trading", store));
    expect(again.stored).toBe("unchanged");
  });

  it("refuses to replace a different artifact under the same name", async () => {
    const store = memoryStore();
    await publishArtifact(parsePublishArgs(argv), artifactText(model), "trading", store);
    const other = artifactText(model, metrics({ r2: 0.5 }));
    await expect(publishArtifact(parsePublishArgs(argv), other, "trading", store)).rejects.toThrow(
      /^ConfigMap spy-momentum-artifact-v3 already holds artifact [0-9a-f]{64}, not [0-9a-f]{64}$/,
    );
  });

  it("refuses a corrupt artifact and a name that is not the version's, with exit code 2", async () => {
    const store = memoryStore();
    const corrupt = publishArtifact(parsePublishArgs(argv), "{not json", "trading", store);
    await expect(corrupt).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/not valid JSON/),
    });
    const renamed = parsePublishArgs(argv.map((a) => (a === "spy-momentum-artifact-v3" ? "other" : a)));
    await expect(publishArtifact(renamed, artifactText(model), "trading", store)).rejects.toThrow(
      "--configmap other is not v3's artifact name spy-momentum-artifact-v3",
    );
    expect(store.items.size).toBe(0);
  });
});
