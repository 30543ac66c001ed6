/**
 * `make bench`: every benchmark in one bounded run, each figure next to a baseline measured in the
 * same run. Writes bench/results/<benchmark>.json (raw) and bench/results/summary.json, prints the
 * summary as a table. Exits 1 when a benchmark could not run or a correctness check failed (the
 * project's numbers differ from scikit-learn's); an unmet speed goal is reported, not fatal.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { benchBatch } from "./batch.ts";
import { benchBars, featureRow, makeDataset } from "./dataset.ts";
import { benchHttp } from "./http.ts";
import { ROOT } from "./stacks.ts";
import { benchStrategy } from "./strategy.ts";
import { type Figure, failedChecks, formatTable, summaryRow } from "./summary.ts";
import { benchFit, benchTrainCommand, TRAINING_SETTINGS } from "./training.ts";

const resultsDir = join(ROOT, "bench", "results");
await mkdir(resultsDir, { recursive: true });
const started = Date.now();
const loadBefore = loadavg();
const log = (message: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);

const bars = benchBars(TRAINING_SETTINGS.rows);
const data = makeDataset(bars);
// Rows for the serving benchmarks, from the holdout end of the data (not the rows trained on).
const rows = Array.from({ length: 1000 }, (_, i) => featureRow(data, data.rows - 1 - i));

const figures: Figure[] = [];
const failures: string[] = [];
async function stage(name: string, run: () => Promise<Figure[]>): Promise<void> {
  log(`${name}...`);
  try {
    figures.push(...(await run()));
  } catch (err) {
    failures.push(`${name}: ${(err as Error).message}`);
    log(`${name} FAILED: ${(err as Error).stack ?? String(err)}`);
  }
}

await stage("strategy backtest and comparison vs numpy", () => benchStrategy(resultsDir));
let served: Awaited<ReturnType<typeof benchTrainCommand>>["artifact"] | undefined;
await stage("fit 1M x 6 vs scikit-learn", () => benchFit(data, resultsDir));
await stage("predictor train on a 1M-row CSV vs pandas + scikit-learn", async () => {
  const result = await benchTrainCommand(bars, resultsDir);
  served = result.artifact;
  return result.figures;
});
const artifact = served;
if (artifact) {
  const inputs = { artifactPath: artifact.path, features: artifact.file.artifact.features, rows, resultsDir };
  await stage("HTTP serving vs Flask + scikit-learn, MLServer (OIP) and bare node:http", () =>
    benchHttp({ ...inputs, rows: rows.slice(0, 200) }),
  );
  await stage("1,000-row batch, server time", () => benchBatch(inputs));
} else {
  failures.push("serving benchmarks: skipped, no artifact was trained");
}

for (const name of failedChecks(figures)) failures.push(`correctness check failed: ${name}`);
const summary = figures.map(summaryRow);
await writeFile(join(resultsDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
const goals = summary.filter((r) => r.met !== null);
process.stdout.write(
  [
    "",
    formatTable(summary),
    "",
    `${goals.filter((r) => r.met).length} of ${goals.length} goals met; ${summary.length} figures in bench/results/summary.json.`,
    `Machine: ${cpus().length} cores; load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`,
    ...failures.map((f) => `FAILED: ${f}`),
    "",
  ].join("\n"),
);
if (failures.length > 0) process.exitCode = 1;
