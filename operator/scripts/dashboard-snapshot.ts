import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { snapshot } from "../src/dashboard/snapshot.ts";

/**
 * make dashboard-snapshot MODEL=… [NAMESPACE=…] [VERSION=regex] [RANGE_MINUTES=60] [OUT=file.svg]
 * [PROMETHEUS_URL=…]: the dashboard's panels from a real Prometheus, drawn into one SVG.
 */
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    namespace: { type: "string", default: "default" },
    version: { type: "string", default: ".*" },
    "range-minutes": { type: "string", default: "60" },
    prometheus: { type: "string", default: "http://127.0.0.1:9090" },
    out: { type: "string" },
  },
});
const model = values.model;
const minutes = Number(values["range-minutes"]);
if (!model) {
  console.error("dashboard-snapshot: MODEL is required (the TradingModel's name)");
  process.exit(2);
}
if (!(minutes > 0)) {
  console.error(
    `dashboard-snapshot: RANGE_MINUTES must be a positive number, got ${values["range-minutes"]}`,
  );
  process.exit(2);
}
const out = values.out || `dashboard-${values.namespace}-${model}.svg`;
try {
  const { svg, panels } = await snapshot({
    prometheusUrl: values.prometheus,
    namespace: values.namespace,
    model,
    version: values.version,
    rangeSeconds: minutes * 60,
  });
  await writeFile(out, svg);
  const empty = panels.filter((p) => p.points.length === 0).map((p) => p.title);
  console.log(`wrote ${out}: ${panels.length - empty.length} of ${panels.length} panels with data`);
  if (empty.length > 0) console.log(`no data: ${empty.join(", ")}`);
  const partial = panels.flatMap((p) =>
    p.points.length === 0
      ? []
      : p.queries.filter((q) => q.points === 0).map((q) => `${p.title} (${q.legend})`),
  );
  if (partial.length > 0) console.log(`queries without data in panels with data: ${partial.join(", ")}`);
} catch (err) {
  console.error(`dashboard-snapshot: ${(err as Error).message}`);
  process.exit(1);
}
