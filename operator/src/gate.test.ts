import { describe, expect, it } from "vitest";
import { evaluateGate, type GateSpec } from "./gate.ts";
import { metrics } from "./testing/fixtures.ts";

const gate: GateSpec = {
  minR2: 0,
  minDirectionalAccuracy: 0.52,
  compareWithChampion: true,
  championTolerance: 0,
};

describe("offline gate", () => {
  it("passes a candidate above every threshold and lists each check with its numbers", () => {
    const verdict = evaluateGate(gate, metrics({ r2: 0.0123, directionalAccuracy: 0.534 }));
    expect(verdict.passed).toBe(true);
    expect(verdict.message).toBe(
      "passed: R² 0.0123 >= 0.0000 (minR2); directional accuracy 0.5340 >= 0.5200 (minDirectionalAccuracy); no champion to compare with",
    );
  });

  it("rejects a candidate below a threshold, naming the failing check first", () => {
    const verdict = evaluateGate(gate, metrics({ r2: 0.004, directionalAccuracy: 0.51 }));
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toMatch(
      /^failed: directional accuracy 0\.5100 < 0\.5200 \(minDirectionalAccuracy\); R² 0\.0040 >= 0\.0000/,
    );
  });

  it("treats a value exactly at the threshold as passing", () => {
    expect(evaluateGate(gate, metrics({ directionalAccuracy: 0.52 })).passed).toBe(true);
  });

  it("rejects a candidate worse than the champion on the same holdout, with both numbers", () => {
    const champion = {
      version: 3,
      metrics: metrics({ r2: 0.02, directionalAccuracy: 0.55 }),
      sameHoldout: true,
    };
    const verdict = evaluateGate(gate, metrics({ r2: 0.015, directionalAccuracy: 0.54 }), champion);
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toContain("R² 0.0150 < 0.0200 (champion v3 on same holdout)");
    expect(verdict.message).toContain("directional accuracy 0.5400 < 0.5500 (champion v3 on same holdout)");
  });

  it("lets the tolerance absorb a small shortfall against the champion", () => {
    const champion = {
      version: 3,
      metrics: metrics({ r2: 0.012, directionalAccuracy: 0.536 }),
      sameHoldout: false,
    };
    const verdict = evaluateGate(
      { ...gate, championTolerance: 0.005 },
      metrics({ r2: 0.01, directionalAccuracy: 0.534 }),
      champion,
    );
    expect(verdict.passed).toBe(true);
    expect(verdict.message).toContain(
      "directional accuracy 0.5340 >= 0.5310 (champion v3 on its own holdout - tolerance 0.005)",
    );
  });

  it("skips the champion when the spec says so, and checks the information coefficient when asked", () => {
    const champion = { version: 3, metrics: metrics({ directionalAccuracy: 0.9 }), sameHoldout: true };
    const verdict = evaluateGate(
      { ...gate, compareWithChampion: false, minInformationCoefficient: 0.1 },
      metrics({ informationCoefficient: 0.05 }),
      champion,
    );
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toMatch(/^failed: information coefficient 0\.0500 < 0\.1000/);
    expect(verdict.message).not.toContain("champion");
  });
});
