import { describe, expect, it } from "vitest";
import { parseTrainSpec, SpecError } from "./spec.ts";

const valid = {
  features: ["ret_1", "vol_20"],
  target: { horizon: 5 },
  algorithm: { type: "ridge", alpha: 2 },
  training: { data: { synthetic: { seed: 1, bars: 1000 } } },
};

function problems(value: unknown): string[] {
  try {
    parseTrainSpec(value);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).problems;
  }
  throw new Error("expected a SpecError");
}

describe("parseTrainSpec", () => {
  it("fills defaults", () => {
    expect(parseTrainSpec(valid)).toEqual({
      ...valid,
      training: {
        data: valid.training.data,
        holdoutFraction: 0.2,
        nonFinite: "reject",
        minRows: 100,
        intervalLevel: 0.9,
        strategy: { band: 0, positionLimit: 1, costBps: 2 },
      },
    });
    const strategy = { band: 0.0005, costBps: 0 };
    expect(parseTrainSpec({ ...valid, training: { ...valid.training, strategy } }).training.strategy).toEqual(
      {
        band: 0.0005,
        positionLimit: 1,
        costBps: 0,
      },
    );
    expect(parseTrainSpec({ ...valid, algorithm: { type: "ridge" } }).algorithm).toEqual({
      type: "ridge",
      alpha: 1,
    });
  });

  it("names every bad field", () => {
    expect(
      problems({
        features: ["ret_1", "ret_1", "foo", 3],
        target: { horizon: 0 },
        algorithm: { type: "ridge", alpha: -1 },
        training: {
          data: { url: "file:///etc/passwd" },
          holdoutFraction: 1,
          walkForward: { folds: 1 },
          nonFinite: "ignore",
          minRows: 0,
          intervalLevel: 1,
          holdoutFration: 0.3,
          strategy: { band: -0.1, positionLimit: 0, costBps: "2", stopLoss: 1 },
        },
        rollout: {},
      }),
    ).toEqual([
      "spec.rollout: unknown field (known: features, target, algorithm, training)",
      'spec.features[1]: duplicate feature "ret_1"',
      expect.stringMatching(/^spec.features\[2\]: unknown feature "foo"; valid forms: ret_\{k\}/),
      "spec.features[3]: must be a string",
      "spec.target.horizon: must be an integer from 1 to 1000",
      "spec.algorithm.alpha: must be a number in (0, 1000000]",
      "spec.training.holdoutFration: unknown field (known: data, holdoutFraction, walkForward, nonFinite, minRows, intervalLevel, strategy)",
      "spec.training.data.url: must be an http:// or https:// URL",
      "spec.training.holdoutFraction: must be a number in [0.05, 0.5]",
      "spec.training.walkForward.folds: must be an integer from 2 to 20",
      "spec.training.nonFinite: must be one of reject, drop",
      "spec.training.minRows: must be an integer from 1 to 100000000",
      "spec.training.intervalLevel: must be a number in [0.5, 1)",
      "spec.training.strategy.stopLoss: unknown field (known: band, positionLimit, costBps)",
      "spec.training.strategy.band: must be a number in [0, 1]",
      "spec.training.strategy.positionLimit: must be a number in (0, 10]",
      "spec.training.strategy.costBps: must be a number in [0, 1000]",
    ]);
  });

  it("rejects a missing or misshapen spec", () => {
    expect(problems([])).toEqual(["spec: must be a JSON object"]);
    expect(problems({})).toEqual([
      "spec.features: must be a non-empty array of feature names",
      "spec.target: must be an object like {horizon: 1}",
      "spec.target.horizon: must be an integer from 1 to 1000",
      "spec.algorithm: must be an object like {type: 'linear'} or {type: 'ridge', alpha: 1}",
      "spec.training: must be an object with at least 'data'",
      "spec.training.data: must be an object with one of synthetic, url, path",
    ]);
    expect(problems({ ...valid, algorithm: { type: "linear", alpha: 1 } })).toEqual([
      "spec.algorithm.alpha: only applies to type 'ridge'",
    ]);
    expect(problems({ ...valid, algorithm: { type: "lasso" } })).toEqual([
      "spec.algorithm.type: must be 'linear' or 'ridge'",
    ]);
  });
});
