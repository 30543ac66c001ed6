import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { parseArtifact } from "../../../predictor/src/artifact.ts";
import { runTrain } from "../../../predictor/src/train/command.ts";
import { admit } from "../api/local-admission.ts";
import { modelVersionSchema } from "../api/modelversion.ts";
import { evaluateGate } from "../gate.ts";
import { storedModel } from "../testing/fixtures.ts";
import { artifactConfigMap } from "./artifact-configmap.ts";
import { modelVersion, withStage } from "./model-version.ts";
import { trainingJob } from "./training-job.ts";

/**
 * The contract between the operator and the runtime, exercised for real: the arguments the
 * training Job passes are run by the actual `predictor train`, and what it writes becomes an
 * artifact ConfigMap and a ModelVersion that the CRD schema admits.
 */

const dir = await mkdtemp(join(tmpdir(), "trainer-contract-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const model = storedModel("spy-momentum.yaml", (raw) => {
  const training = raw.spec.training as { data: { synthetic: { bars: number } } };
  training.data.synthetic.bars = 6000;
});
const images = { predictor: "p", operator: "o" };

async function train(
  version: number,
  champion?: number,
): Promise<{ code: number; summary: Record<string, unknown>; text: string }> {
  const job = trainingJob({
    model,
    version,
    trainingHash: "h",
    images,
    ttlSecondsAfterFinished: 60,
    ...(champion ? { champion } : {}),
  });
  const args = (job.spec?.template.spec?.initContainers?.[0]?.args ?? []).map((a) =>
    a
      .replace("/out/artifact.json", join(dir, `v${version}.json`))
      .replace("/champion/artifact.json", join(dir, `v${champion}.json`)),
  );
  const lines: string[] = [];
  const code = await runTrain(args.slice(1), {
    stdout: (line) => lines.push(line),
    stderr: new PassThrough(),
    env: { TERMINATION_LOG: join(dir, "termination-log") },
  });
  return {
    code,
    summary: JSON.parse(lines[0] ?? "{}"),
    text: await readFile(join(dir, `v${version}.json`), "utf8"),
  };
}

describe("training Job arguments run by the real trainer", () => {
  it("train a version whose artifact fits a ConfigMap and whose ModelVersion the schema admits", async () => {
    const { code, summary, text } = await train(1);
    expect(code).toBe(0);
    const cm = artifactConfigMap({ model: { ...model.metadata }, version: 1, artifactText: text });
    expect(cm.metadata?.annotations?.["trading.mlops.dev/artifact-sha256"]).toBe(summary.sha256);
    const { artifact, sha256 } = parseArtifact(text);
    const mv = modelVersion({
      model,
      version: 1,
      artifact,
      artifactSha256: sha256,
      artifactBytes: text.length,
      trainingHash: "h",
    });
    const verdict = evaluateGate(model.spec.training.gate, artifact.metrics);
    const status = withStage(
      { metrics: artifact.metrics, gate: { passed: verdict.passed, message: verdict.message } },
      { stage: "Staging", reason: "GatePassed", message: verdict.message },
      new Date(),
    );
    expect(admit(modelVersionSchema, { ...mv, status }).errors).toEqual([]);
  });

  it("judge the champion on the candidate's holdout when the Job mounts it", async () => {
    const { code, summary } = await train(2, 1);
    expect(code).toBe(0);
    const champion = summary.champion as { metrics: { samples: number } };
    expect(champion.metrics.samples).toBe((summary.metrics as { samples: number }).samples);
  });
});
