import { describe, expect, it } from "vitest";
import type { Condition } from "./api/types.ts";
import { type ConditionUpdate, Reason, setCondition, worstProblem } from "./conditions.ts";
import { phaseOf } from "./phase.ts";

const t0 = new Date("2026-11-24T10:00:00Z");
const t1 = new Date("2026-11-24T10:01:00Z");
const ready = (status: ConditionUpdate["status"], reason: Reason = Reason.Serving): ConditionUpdate => ({
  type: "Ready",
  status,
  reason,
  message: `${reason} message`,
});

describe("setCondition", () => {
  it("adds a missing condition with the generation and the time", () => {
    expect(setCondition([], ready("True"), 3, t0)).toEqual([
      {
        type: "Ready",
        status: "True",
        reason: "Serving",
        message: "Serving message",
        observedGeneration: 3,
        lastTransitionTime: t0.toISOString(),
      },
    ]);
  });

  it("keeps lastTransitionTime when only reason, message or generation change", () => {
    const first = setCondition([], ready("True"), 3, t0);
    const second = setCondition(first, ready("True", Reason.RolloutComplete), 4, t1);
    expect(second[0]).toMatchObject({
      reason: Reason.RolloutComplete,
      observedGeneration: 4,
      lastTransitionTime: t0.toISOString(),
    });
  });

  it("moves lastTransitionTime when the status flips", () => {
    const first = setCondition([], ready("True"), 3, t0);
    expect(
      setCondition(first, ready("False", Reason.PredictorUnavailable), 3, t1)[0]?.lastTransitionTime,
    ).toBe(t1.toISOString());
  });

  it("replaces in place and leaves other types alone", () => {
    let list = setCondition([], ready("True"), 1, t0);
    list = setCondition(
      list,
      { type: "Training", status: "True", reason: "TrainingRunning", message: "v2" },
      1,
      t0,
    );
    list = setCondition(list, ready("False", Reason.PredictorUnavailable), 1, t1);
    expect(list.map((c) => `${c.type}=${c.status}`)).toEqual(["Ready=False", "Training=True"]);
  });
});

describe("phaseOf", () => {
  const conditions = (states: Partial<Record<ConditionUpdate["type"], "True" | "False">>): Condition[] =>
    Object.entries(states).reduce<Condition[]>(
      (list, [type, status]) =>
        setCondition(
          list,
          { type: type as ConditionUpdate["type"], status, reason: Reason.AsExpected, message: "" },
          1,
          t0,
        ),
      [],
    );

  it.each([
    [{}, "Pending"],
    [{ Ready: "True" }, "Ready"],
    [{ Ready: "True", Training: "True" }, "Training"],
    [{ Ready: "True", Progressing: "True" }, "Progressing"],
    [{ Ready: "True", Degraded: "True" }, "Degraded"],
    [{ Ready: "False", Degraded: "True" }, "Failed"],
    [{ Ready: "True", Degraded: "True", Training: "True" }, "Training"],
  ] as const)("%o -> %s", (states, phase) => {
    expect(phaseOf(conditions(states))).toBe(phase);
  });
});

describe("worstProblem", () => {
  it("names the most urgent problem whatever order the steps reported them in, and the others by reason", () => {
    const invalid = {
      reason: Reason.InvalidSpec,
      message: "spec cannot be trained: training.gate.minR2 is 2",
    };
    const rejected = { reason: Reason.CandidateRejected, message: "v2 rejected: accuracy 0.48 < 0.52" };
    for (const problems of [
      [invalid, rejected],
      [rejected, invalid],
    ]) {
      expect(worstProblem(problems)).toEqual({
        reason: Reason.InvalidSpec,
        message: "spec cannot be trained: training.gate.minR2 is 2 (also: CandidateRejected)",
      });
    }
  });

  it("is nothing when nothing is wrong", () => {
    expect(worstProblem([])).toBeUndefined();
  });
});
