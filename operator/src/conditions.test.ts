import { describe, expect, it } from "vitest";
import type { Condition } from "./api/types.ts";
import { type ConditionUpdate, setCondition } from "./conditions.ts";
import { phaseOf } from "./phase.ts";

const t0 = new Date("2026-11-24T10:00:00Z");
const t1 = new Date("2026-11-24T10:01:00Z");
const ready = (status: ConditionUpdate["status"], reason = "Serving"): ConditionUpdate => ({
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
    const second = setCondition(first, ready("True", "StillServing"), 4, t1);
    expect(second[0]).toMatchObject({
      reason: "StillServing",
      observedGeneration: 4,
      lastTransitionTime: t0.toISOString(),
    });
  });

  it("moves lastTransitionTime when the status flips", () => {
    const first = setCondition([], ready("True"), 3, t0);
    expect(setCondition(first, ready("False", "Unavailable"), 3, t1)[0]?.lastTransitionTime).toBe(
      t1.toISOString(),
    );
  });

  it("replaces in place and leaves other types alone", () => {
    let list = setCondition([], ready("True"), 1, t0);
    list = setCondition(
      list,
      { type: "Training", status: "True", reason: "TrainingRunning", message: "v2" },
      1,
      t0,
    );
    list = setCondition(list, ready("False", "Unavailable"), 1, t1);
    expect(list.map((c) => `${c.type}=${c.status}`)).toEqual(["Ready=False", "Training=True"]);
  });
});

describe("phaseOf", () => {
  const conditions = (states: Partial<Record<ConditionUpdate["type"], "True" | "False">>): Condition[] =>
    Object.entries(states).reduce<Condition[]>(
      (list, [type, status]) =>
        setCondition(
          list,
          { type: type as ConditionUpdate["type"], status, reason: "R", message: "" },
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
