import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createMetrics } from "../../../predictor/src/serve/metrics.ts";
import { OperatorMetrics } from "../controller/metrics.ts";
import { ANNOTATION_QUERIES, dashboardJson, ROWS, tradingModelDashboard } from "./dashboard.ts";

const CHECKED_IN = join(
  import.meta.dirname,
  "../../../helm/tradingmodel-operator/dashboards/tradingmodel.json",
);

/** Every PromQL expression of the dashboard: panel targets and rollout annotations, as built. */
function expressions(): string[] {
  const dashboard = tradingModelDashboard() as unknown as {
    panels: { targets?: { expr: string }[] }[];
    annotations: { list: { expr: string }[] };
  };
  return [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.annotations.list.map((a) => a.expr),
  ];
}

/** The variables substituted as Grafana would: a namespace and model chosen, all versions. */
const substitute = (expr: string) =>
  expr
    .replaceAll("$namespace", "trading")
    .replaceAll("$model", "spy-momentum")
    .replaceAll("$version", ".*")
    .replaceAll("$__rate_interval", "1m");

describe("the TradingModel dashboard", () => {
  it("is checked in as generated: run make dashboard after changing operator/src/dashboard", () => {
    expect(readFileSync(CHECKED_IN, "utf8")).toBe(dashboardJson());
  });

  it("has at least 12 panels in four rows, one per layer, with namespace, model and version variables", () => {
    const dashboard = tradingModelDashboard() as unknown as {
      panels: { type: string; title: string }[];
      templating: { list: { name: string }[] };
    };
    const rows = dashboard.panels.filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(["Data", "Model", "System", "Business and rollouts"]);
    expect(dashboard.panels.filter((p) => p.type !== "row").length).toBeGreaterThanOrEqual(12);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual([
      "datasource",
      "namespace",
      "model",
      "version",
    ]);
    for (const row of ROWS) expect(row.panels.length, row.title).toBeGreaterThan(0);
  });

  it("queries only metrics the predictor and the operator export", async () => {
    const exported = new Set(
      [
        ...createMetrics({ model: "m", version: "v", track: "t" }).registry.getMetricsAsArray(),
        ...new OperatorMetrics().registry.getMetricsAsArray(),
      ].map((m) => m.name),
    );
    const named = new Set(
      expressions().flatMap((e) => [...e.matchAll(/([a-zA-Z_:][\w:]*)\{/g)].map((m) => m[1] as string)),
    );
    expect(named.size).toBeGreaterThan(15);
    for (const name of named) {
      expect(exported, name).toContain(name.replace(/_(bucket|sum|count)$/, ""));
    }
    expect(ANNOTATION_QUERIES.map((a) => exported.has(a.metric))).toEqual([true, true]);
  });

  it("has PromQL that Prometheus parses, with its variables substituted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dashboard-promql-"));
    try {
      const rules = expressions().map((expr, i) => ({
        record: `dashboard:query_${i}`,
        expr: substitute(expr),
      }));
      await writeFile(join(dir, "queries.yaml"), stringify({ groups: [{ name: "dashboard", rules }] }));
      const { stdout } = await promisify(execFile)("promtool", ["check", "rules", "queries.yaml"], {
        cwd: dir,
        timeout: 60_000,
      });
      expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
