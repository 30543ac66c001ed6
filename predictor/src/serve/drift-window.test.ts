import { describe, expect, it } from "vitest";
import type { ReferenceDistribution } from "../artifact.ts";
import { binIndex, ksAtEdges, psi } from "../drift.ts";
import { DriftWindow } from "./drift-window.ts";
import { servedModel } from "./model.ts";
import { testArtifactFile } from "./test-support.ts";

const model = servedModel(testArtifactFile());
// Reference deciles of ret_1 are -0.012, -0.009, ..., 0.012: bin b holds [edge b-1, edge b).
const inBin = (bin: number) => -0.0135 + 0.003 * bin;

function rowWithRet1(value: number): number[] {
  return [value, 0, 0.02];
}

/** Adds one row of features and its prediction, as a batch of one. */
function add(window: DriftWindow, row: number[], prediction: number): void {
  window.addRows(row, [prediction], 1);
}

/** Every statistic the window exports, to compare two windows. */
function statistics(window: DriftWindow) {
  return {
    rows: window.rows,
    features: window.featureDrift(),
    prediction: window.predictionDrift(),
  };
}

describe("DriftWindow", () => {
  it("reads no drift from rows spread like the training data", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) add(window, rowWithRet1(inBin(i % 10)), 0);
    const ret1 = window.featureDrift().find((p) => p.feature === "ret_1");
    expect(ret1?.psi).toBeCloseTo(0, 12);
  });

  it("reads strong drift when every row lands in one decile", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) add(window, rowWithRet1(inBin(9)), 0);
    const byFeature = Object.fromEntries(window.featureDrift().map((p) => [p.feature, p.psi]));
    expect(byFeature.ret_1).toBeGreaterThan(0.25);
    expect(byFeature.ret_1).toBeCloseTo(
      psi(model.artifact.reference.ret_1 as never, [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]),
      12,
    );
  });

  it("forgets rows that slid out of the window", () => {
    const window = new DriftWindow(model, 10);
    for (let i = 0; i < 10; i++) add(window, rowWithRet1(inBin(0)), 0);
    for (let i = 0; i < 10; i++) add(window, rowWithRet1(inBin(i)), 0);
    expect(window.rows).toBe(10);
    expect(window.featureDrift()[0]?.psi).toBeCloseTo(0, 12);
  });

  it("reads a batch's rows from one flat buffer, row after row", () => {
    const window = new DriftWindow(model, 10);
    window.addRows([...rowWithRet1(inBin(3)), ...rowWithRet1(inBin(5))], [0, 0], 2);
    const counts = [0, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    expect(window.rows).toBe(2);
    expect(window.featureDrift()[0]?.psi).toBeCloseTo(
      psi(model.artifact.reference.ret_1 as never, counts),
      12,
    );
  });

  it("holds after batches of any size what adding their rows one at a time holds", () => {
    const predictionReference = { edges: [-3, -2, -1, 0, 1, 2, 3, 4, 5], proportions: Array(10).fill(0.1) };
    const withReference = servedModel(testArtifactFile({ predictionReference }));
    // Batch sizes below, at and above the window's 7 rows, from an empty, a partly filled and a full window.
    for (const sizes of [[3, 2, 9], [7, 7], [1, 15, 2, 6], [20], [5, 1, 1, 7, 3]]) {
      const batched = new DriftWindow(withReference, 7);
      const single = new DriftWindow(withReference, 7);
      let n = 0;
      for (const size of sizes) {
        const rows = Array.from({ length: size }, (_, i) => rowWithRet1(inBin((n + i * 3) % 10)));
        const predictions = rows.map((_, i) => -3.5 + ((n + i * 7) % 10));
        batched.addRows(rows.flat(), predictions, size);
        rows.forEach((row, i) => {
          add(single, row, predictions[i] as number);
        });
        n += size;
        expect(statistics(batched)).toEqual(statistics(single));
      }
    }
  });

  it("reads the last rows of a long stream of batches, read now and then, as counted from those rows alone", () => {
    const { artifact } = testArtifactFile();
    const window = new DriftWindow(model, 1000);
    const added: number[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    // 30,000 rows in batches of 1 to 2,500, past the rows the window holds aside (8,192) many times.
    while (added.length < 30_000) {
      const count = 1 + Math.floor(random() * (random() < 0.2 ? 2500 : 50));
      const ret1 = Array.from({ length: count }, () => (random() - 0.5) * 0.04);
      window.addRows(
        ret1.flatMap(rowWithRet1),
        ret1.map(() => 0),
        count,
      );
      added.push(...ret1);
      if (random() < 0.05 || added.length >= 30_000) {
        const reference = artifact.reference.ret_1 as ReferenceDistribution;
        const counts = Array(10).fill(0);
        for (const v of added.slice(-1000)) counts[binIndex(reference.edges, v)]++;
        expect(window.rows).toBe(Math.min(1000, added.length));
        expect(window.featureDrift()[0]).toEqual({
          feature: "ret_1",
          psi: psi(reference, counts),
          ks: ksAtEdges(reference, counts),
        });
      }
    }
  });

  it("bins a value as binIndex does, ties at an edge included, for any number of edges", () => {
    for (const edgeCount of [0, 1, 2, 7, 9, 15, 16, 31]) {
      // Ascending, with repeats (a discrete feature's deciles), and values on, between and beyond them.
      const edges = Array.from({ length: edgeCount }, (_, i) => Math.floor(i / 2) - 3);
      const ret1 = { edges, proportions: Array(edgeCount + 1).fill(1 / (edgeCount + 1)) };
      const { reference } = testArtifactFile().artifact;
      const window = new DriftWindow(
        servedModel(testArtifactFile({ reference: { ...reference, ret_1: ret1 } })),
        100,
      );
      const values = Array.from({ length: 40 }, (_, i) => i / 4 - 6);
      window.addRows(
        values.flatMap(rowWithRet1),
        values.map(() => 0),
        values.length,
      );
      const counts = Array(edgeCount + 1).fill(0);
      for (const v of values) counts[binIndex(edges, v)]++;
      expect(window.featureDrift()[0]?.ks).toBe(ksAtEdges(ret1, counts));
      expect(window.featureDrift()[0]?.psi).toBe(psi(ret1, counts));
    }
  });

  it("reads KS as the largest gap between the cumulative shares at the training deciles", () => {
    const window = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) add(window, rowWithRet1(inBin(i % 10)), 0);
    expect(window.featureDrift()[0]?.ks).toBeCloseTo(0, 12);
    // Half the rows in the lowest decile, half in the highest: below edge 1 the window holds 0.5
    // of its rows against the reference's 0.1, a gap that stays 0.4 up to edge 5.
    const split = new DriftWindow(model, 100);
    for (let i = 0; i < 100; i++) add(split, rowWithRet1(inBin(i % 2 === 0 ? 0 : 9)), 0);
    expect(split.featureDrift()[0]?.ks).toBeCloseTo(0.4, 12);
  });

  it("compares predictions with the holdout's predictions when the artifact has them", () => {
    expect(new DriftWindow(model, 10).predictionDrift()).toBeUndefined();
    const predictionReference = { edges: [-3, -2, -1, 0, 1, 2, 3, 4, 5], proportions: Array(10).fill(0.1) };
    const withReference = servedModel(testArtifactFile({ predictionReference }));
    const window = new DriftWindow(withReference, 100);
    for (let i = 0; i < 100; i++) add(window, rowWithRet1(inBin(i % 10)), -3.5 + (i % 10));
    expect(window.predictionDrift()).toEqual({ psi: expect.closeTo(0, 12), ks: expect.closeTo(0, 12) });
    for (let i = 0; i < 100; i++) add(window, rowWithRet1(inBin(i % 10)), 10);
    const drifted = window.predictionDrift();
    expect(drifted?.psi).toBeGreaterThan(0.25);
    expect(drifted?.ks).toBeCloseTo(0.9, 12);
    // The features stay where they were.
    expect(window.featureDrift()[0]?.psi).toBeCloseTo(0, 12);
  });
});
