import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../predictor/src/serve/metrics.ts";
import { OperatorMetrics } from "./controller/metrics.ts";
import { ROWS } from "./dashboard/dashboard.ts";
import { prometheusRule } from "./manifests/prometheus-rule.ts";
import { storedModel } from "./testing/fixtures.ts";

/** docs/monitoring.md is the contract alert receivers and dashboard readers work from. */
const doc = readFileSync(join(import.meta.dirname, "../../docs/monitoring.md"), "utf8");
const section = (heading: string) => {
  const start = doc.indexOf(`\n${heading}\n`);
  return start < 0 ? "" : doc.slice(start, doc.indexOf("\n## ", start + 1) >>> 0);
};

describe("docs/monitoring.md", () => {
  it("has a table row and a runbook section for every alert the rule holds", () => {
    const alerts = prometheusRule(storedModel()).spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toHaveLength(10);
    for (const alert of alerts) {
      expect(section("## Alerts"), alert).toContain(`| \`${alert}\``);
      expect(section("## Runbooks"), alert).toContain(`\n### ${alert}\n`);
    }
  });

  it("documents every business metric of the operator and the predictor's monitoring metrics", () => {
    const metrics = section("## Metrics");
    const business = new OperatorMetrics().registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => !name.startsWith("tradingmodel_operator_"));
    expect(business.length).toBeGreaterThanOrEqual(8);
    const predictor = createMetrics({ model: "m", version: "v", track: "t" })
      .registry.getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => !/^predictor_(nodejs|process|shadow|chaos|model_info)/.test(name));
    for (const name of [...business, ...predictor]) expect(metrics, name).toContain(`\`${name}\``);
  });

  it("says which panel answers which question", () => {
    const dashboard = section("## Dashboard");
    for (const row of ROWS) {
      for (const panel of row.panels) expect(dashboard, panel.title).toContain(`| ${panel.title} `);
    }
  });
});
