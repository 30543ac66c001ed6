import { describe, expect, it } from "vitest";
import { psi } from "../drift.ts";
import { DriftWindow } from "./drift-window.ts";
import { servedModel } from "./model.ts";
import { testArtifactFile } from "./test-support.ts";

const model = servedModel(testArtifactFile());
// Reference deciles of ret_1 are -0.012, -0.009, ..., 0.012: bin b holds [edge b-1, edge b).
const inBin = (bin: number) => -0.0135 + 0.003 * bin;

function rowWithRet1(value: number): number[] {
  return [value, 0, 0.02];
}

describe("DriftWindow", () => {
  it("reads no drift from rows spread like the training data", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) window.add(rowWithRet1(inBin(i % 10)), 0, 0);
    const ret1 = window.psiByFeature().find((p) => p.feature === "ret_1");
    expect(ret1?.psi).toBeCloseTo(0, 12);
  });

  it("reads strong drift when every row lands in one decile", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) window.add(rowWithRet1(inBin(9)), 0, 0);
    const byFeature = Object.fromEntries(window.psiByFeature().map((p) => [p.feature, p.psi]));
    expect(byFeature.ret_1).toBeGreaterThan(0.25);
    expect(byFeature.ret_1).toBeCloseTo(
      psi(model.artifact.reference.ret_1 as never, [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]),
      12,
    );
  });

  it("forgets rows that slid out of the window", () => {
    const window = new DriftWindow(model, 10);
    for (let i = 0; i < 10; i++) window.add(rowWithRet1(inBin(0)), 0, 0);
    for (let i = 0; i < 10; i++) window.add(rowWithRet1(inBin(i)), 0, 0);
    expect(window.rows).toBe(10);
    expect(window.psiByFeature()[0]?.psi).toBeCloseTo(0, 12);
  });

  it("reads rows at an offset in a flat buffer", () => {
    const window = new DriftWindow(model, 10);
    window.add([9, 9, 9, ...rowWithRet1(inBin(3))], 3, 0);
    const counts = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    expect(window.psiByFeature()[0]?.psi).toBeCloseTo(
      psi(model.artifact.reference.ret_1 as never, counts),
      12,
    );
  });

  it("reads KS as the largest gap between the cumulative shares at the training deciles", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) window.add(rowWithRet1(inBin(i % 10)), 0, 0);
    expect(window.ksByFeature()[0]?.ks).toBeCloseTo(0, 12);
    // Half the rows in the lowest decile, half in the highest: below edge 1 the window holds 0.5
    // of its rows against the reference's 0.1, a gap that stays 0.4 up to edge 5.
    const split = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) split.add(rowWithRet1(inBin(i % 2 === 0 ? 0 : 9)), 0, 0);
    expect(split.ksByFeature()[0]?.ks).toBeCloseTo(0.4, 12);
  });

  it("compares predictions with the holdout's predictions when the artifact has them", () => {
    expect(new DriftWindow(model, 10).predictionDrift()).toBeUndefined();
    const predictionReference = { edges: [-3, -2, -1, 0, 1, 2, 3, 4, 5], proportions: Array(10).fill(0.1) };
    const withReference = servedModel(testArtifactFile({ predictionReference }));
    const window = new DriftWindow(withReference, 100);
    for (let i = 0; i < 100; i++) window.add(rowWithRet1(inBin(i % 10)), 0, -3.5 + (i % 10));
    expect(window.predictionDrift()).toEqual({ psi: expect.closeTo(0, 12), ks: expect.closeTo(0, 12) });
    for (let i = 0; i < 100; i++) window.add(rowWithRet1(inBin(i % 10)), 0, 10);
    const drifted = window.predictionDrift();
    expect(drifted?.psi).toBeGreaterThan(0.25);
    expect(drifted?.ks).toBeCloseTo(0.9, 12);
    // The features stay where they were.
    expect(window.psiByFeature()[0]?.psi).toBeCloseTo(0, 12);
  });
});
