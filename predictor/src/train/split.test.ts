import { describe, expect, it } from "vitest";
import { holdoutSplit, usableRows, walkForwardSplits } from "./split.ts";

describe("holdoutSplit", () => {
  it("leaves the target horizon between the last training target and the holdout", () => {
    for (const horizon of [1, 5, 30]) {
      const usable = usableRows(10_000, 20, horizon);
      expect(usable).toEqual({ start: 20, end: 10_000 - horizon });
      const split = holdoutSplit(usable, horizon, 0.25, 6);
      const lastTrainTargetBar = split.train.end - 1 + horizon;
      expect(split.holdout.start).toBe(lastTrainTargetBar + 1);
      expect(split.gapRows).toBe(horizon);
      expect(split.holdout.end).toBe(usable.end);
      expect(split.holdout.end - split.holdout.start).toBe(
        Math.floor((usable.end - usable.start - horizon) * 0.25),
      );
    }
  });

  it("says how many rows it needs", () => {
    expect(() => holdoutSplit(usableRows(60, 20, 5), 5, 0.2, 3)).toThrow(
      "too few rows for a holdout split: 35 usable rows (after the features' lookback of 20 rows and the 5-bar target horizon); need 30 training and 20 holdout rows plus 5 gap rows",
    );
  });
});

describe("walkForwardSplits", () => {
  it("expands the training window and keeps the gap before every test block", () => {
    const usable = usableRows(5_000, 10, 3);
    const folds = walkForwardSplits(usable, 3, 4, 5);
    expect(folds).toHaveLength(4);
    folds.forEach((fold, i) => {
      expect(fold.train.start).toBe(10);
      expect(fold.holdout.start).toBe(fold.train.end + 3);
      if (i > 0) expect(fold.train.end).toBeGreaterThan(folds[i - 1]?.train.end as number);
      if (i > 0) expect(fold.holdout.start).toBeGreaterThanOrEqual(folds[i - 1]?.holdout.end as number);
    });
    expect(folds[3]?.holdout.end).toBe(usable.end);
    expect(() => walkForwardSplits(usableRows(200, 10, 3), 3, 10, 5)).toThrow(
      /too few rows for 10 walk-forward folds/,
    );
  });
});
