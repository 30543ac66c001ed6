import { describe, expect, it } from "vitest";
import { REPORT_AGAIN_MS, type Reported, refusalEvent, refusalsToReport } from "./report.ts";
import type { RuleError } from "./sync.ts";

const refused = (resourceVersion: string, message = "bad character U+0023 '#'", name = "spy"): RuleError => ({
  rule: { metadata: { namespace: "trading", name, uid: `uid-${name}`, resourceVersion } },
  message,
});
const names = (errors: RuleError[]) =>
  errors.map((e) => `${e.rule.metadata?.name}@${e.rule.metadata?.resourceVersion}`);

describe("refusals to report", () => {
  it("reports a refused rule once per resourceVersion and message, and again before the event TTL", () => {
    const reported: Reported = new Map();
    expect(names(refusalsToReport([refused("5")], reported, 0))).toEqual(["spy@5"]);
    expect(names(refusalsToReport([refused("5")], reported, 1000))).toEqual([]);
    // Changed and still refused: a new report, about the new resourceVersion.
    expect(names(refusalsToReport([refused("6")], reported, 2000))).toEqual(["spy@6"]);
    expect(names(refusalsToReport([refused("6", "another complaint")], reported, 3000))).toEqual(["spy@6"]);
    expect(
      names(refusalsToReport([refused("6", "another complaint")], reported, 3000 + REPORT_AGAIN_MS)),
    ).toEqual(["spy@6"]);
  });

  it("forgets a rule once it is accepted, so a later refusal of the same version is reported", () => {
    const reported: Reported = new Map();
    refusalsToReport([refused("5"), refused("1", "x", "other")], reported, 0);
    expect(names(refusalsToReport([refused("1", "x", "other")], reported, 1))).toEqual([]);
    expect([...reported.keys()]).toEqual(["trading__other.yaml"]);
    expect(names(refusalsToReport([refused("5")], reported, 2))).toEqual(["spy@5"]);
  });

  it("records a Warning Event on the PrometheusRule at the resourceVersion promtool read", () => {
    const at = new Date("2026-12-05T10:00:00Z");
    expect(refusalEvent(refused("5"), at)).toEqual({
      metadata: { generateName: "spy.", namespace: "trading" },
      involvedObject: {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        name: "spy",
        namespace: "trading",
        uid: "uid-spy",
        resourceVersion: "5",
      },
      reason: "InvalidRules",
      message: "not loaded into Prometheus: bad character U+0023 '#'",
      type: "Warning",
      source: { component: "tm-prometheus-rules" },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    });
  });
});
