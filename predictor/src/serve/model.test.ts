import { describe, expect, it } from "vitest";
import { ArtifactError } from "../artifact.ts";
import { servedModel } from "./model.ts";
import { testArtifact, testArtifactFile } from "./test-support.ts";

describe("servedModel", () => {
  it("derives the bars a window needs from the feature names", () => {
    expect(servedModel(testArtifactFile()).window.lookback).toBe(6);
  });

  const base = testArtifact();
  it.each([
    ["no features", { features: [] }, /features must be a non-empty array/],
    ["a duplicate feature", { features: ["ret_1", "ret_1", "hl_range"] }, /features\[1\] must be a unique/],
    [
      "a feature serving cannot compute",
      { features: ["ret_1", "ret_5", "magic"] },
      /unknown feature "magic"/,
    ],
    [
      "weights of the wrong length",
      { coefficients: { intercept: 0, weights: [1, 2] } },
      /coefficients.weights must be an array of 3/,
    ],
    ["a zero scale", { scaler: { mean: [0, 0, 0], std: [1, 0, 1] } }, /scaler.std\[1\] must be > 0/],
    [
      "a non-finite interval",
      { interval: { level: 0.9, lower: Number.NaN, upper: 1 } },
      /interval.lower must be a finite number/,
    ],
    [
      "a feature without a reference",
      { reference: { ret_1: base.reference.ret_1 } as never },
      /reference.ret_5 must have edges/,
    ],
    [
      "edges out of order",
      { reference: { ...base.reference, hl_range: { edges: [2, 1], proportions: [0.3, 0.3, 0.4] } } },
      /reference.hl_range.edges must be ascending/,
    ],
  ])("refuses an artifact with %s, naming the field", (_name, overrides, message) => {
    expect(() => servedModel(testArtifactFile(overrides as never))).toThrow(ArtifactError);
    expect(() => servedModel(testArtifactFile(overrides as never))).toThrow(message);
  });
});
