import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killServed, readyAddress, serve } from "./test-process.ts";
import { TEST_FEATURES, writeTestArtifact } from "./test-support.ts";

/*
 * Triton's HTTP client (tritonclient, from PyPI, installed into .tools/python by `make
 * python-deps`) against a real `predictor serve` process on loopback: the OIP routes as an
 * independent client reads them. Two processes start (the predictor, Python with the client): on a
 * busy machine that takes longer than the unit project's 30 s default.
 */

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PYTHON = join(ROOT, ".tools", "python", "bin", "python");
const DRIVER = join(ROOT, "test", "python", "oip_client.py");

const ROWS = [
  [0.01, -0.02, 0.03],
  [-0.004, 0.011, 0.018],
  [0.002, 0.001, 0.021],
];

let dir: string;
let artifactPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "predictor-oip-"));
  artifactPath = (await writeTestArtifact(dir)).path;
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(killServed);

interface Refusal {
  status: string;
  message: string;
}

interface ClientReport {
  live: boolean;
  ready: boolean;
  modelReady: boolean;
  versionReady: boolean;
  otherModelReady: boolean;
  metadata: {
    name: string;
    versions: string[];
    inputs: { name: string; datatype: string; shape: number[] }[];
  };
  matrix: {
    id: string;
    prediction: number[];
    lower: number[];
    upper: number[];
    parameters: { prediction_ids: string; interval_level: number };
  };
  byFeatureFp32: number[];
  wrongModel: Refusal | null;
  binaryOutputs: Refusal | null;
}

describe("the OIP routes under Triton's HTTP client", () => {
  it("answers health, metadata and inference as the client reads them, with /v1's numbers", async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run make python-deps`);
    const url = new URL(await readyAddress(serve({ ARTIFACT_PATH: artifactPath })));
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [DRIVER, url.host, "demo", "v2", JSON.stringify(ROWS)],
      { timeout: 60_000 },
    );
    const report = JSON.parse(stdout) as ClientReport;
    expect(report).toMatchObject({ live: true, ready: true, modelReady: true, versionReady: true });
    expect(report.otherModelReady).toBe(false);
    expect(report.metadata).toMatchObject({ name: "demo", versions: ["v2"] });
    expect(report.metadata.inputs.map((t) => t.name)).toEqual(TEST_FEATURES);

    const v1 = await fetch(`${url.origin}/v1/predict/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rows: ROWS.map((features) => ({ features })) }),
    });
    const expected = ((await v1.json()) as { results: { prediction: number }[] }).results.map(
      (r) => r.prediction,
    );
    expect(report.matrix.id).toBe("7");
    expect(report.matrix.prediction).toEqual(expected);
    report.matrix.lower.forEach((lower, i) => {
      expect(lower).toBeCloseTo((expected[i] as number) - 0.01, 15);
    });
    report.matrix.upper.forEach((upper, i) => {
      expect(upper).toBeCloseTo((expected[i] as number) + 0.012, 15);
    });
    expect(report.matrix.parameters.interval_level).toBe(0.9);
    expect(report.matrix.parameters.prediction_ids.split(",")).toHaveLength(ROWS.length);
    // FP32 features are the float32 nearest the values: the predictions agree to float32 precision.
    report.byFeatureFp32.forEach((y, i) => {
      expect(y).toBeCloseTo(expected[i] as number, 6);
    });

    expect(report.wrongModel).toMatchObject({ status: "404" });
    expect(report.wrongModel?.message).toMatch(/model "no-such-model" is not served here/);
    expect(report.binaryOutputs).toMatchObject({ status: "400" });
    expect(report.binaryOutputs?.message).toMatch(
      /^parameters\.binary_data_output asks for binary tensor data/,
    );
  }, 90_000);
});
