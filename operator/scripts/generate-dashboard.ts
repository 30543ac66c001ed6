import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { dashboardJson } from "../src/dashboard/dashboard.ts";

/** Writes the chart's Grafana dashboard from the typed builders (make dashboard). */
export const DASHBOARD_PATH = join(
  import.meta.dirname,
  "..",
  "..",
  "helm",
  "tradingmodel-operator",
  "dashboards",
  "tradingmodel.json",
);
await writeFile(DASHBOARD_PATH, dashboardJson());
console.log(`wrote ${DASHBOARD_PATH}`);
