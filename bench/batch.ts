/**
 * Server time of a 1,000-row batch. The predictor reports its own time per request in a
 * `server-timing: app;dur=<ms>` header (from fastify's request start to the serialized reply:
 * body parse, validation, predictions, serialization); the socket and the client are left out.
 * Requests go one at a time to a predictor pinned like the HTTP benchmark's, after a warm-up.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { summarizeLatencies } from "./latency.ts";
import { namedRow, postJson, withStack } from "./stacks.ts";
import type { Figure } from "./summary.ts";

export const BATCH_SETTINGS = { rows: 1000, warmup: 50, measured: 300 };

/** The duration in ms of `metric` in a Server-Timing header, e.g. `app;dur=0.412, db;dur=3`. */
export function serverTimingMs(header: string | null, metric: string): number {
  for (const entry of (header ?? "").split(",")) {
    const [name, ...params] = entry.split(";").map((p) => p.trim());
    if (name !== metric) continue;
    const dur = params.find((p) => p.startsWith("dur="));
    const ms = Number(dur?.slice(4));
    if (dur && Number.isFinite(ms) && ms >= 0) return ms;
    throw new Error(`server-timing: metric '${metric}' has no valid dur in '${header}'`);
  }
  throw new Error(`server-timing: no metric '${metric}' in '${header ?? ""}'`);
}

export interface BatchInputs {
  artifactPath: string;
  features: readonly string[];
  rows: number[][];
  resultsDir: string;
}

type RowForm = "by name" | "in order";

function batchBody(form: RowForm, features: readonly string[], rows: number[][]): unknown {
  return { rows: rows.map((row) => (form === "by name" ? namedRow(features, row) : { features: row })) };
}

/** Sequential batches to `url`: server time and round trip of each after the warm-up, in ms. */
async function timeBatches(url: string, body: unknown, size: number) {
  const { warmup, measured } = BATCH_SETTINGS;
  const serverMs = new Float64Array(measured);
  const roundTripMs = new Float64Array(measured);
  for (let i = 0; i < warmup + measured; i++) {
    const start = performance.now();
    const { json, headers } = await postJson(url, body);
    const elapsed = performance.now() - start;
    const results = (json as { results?: unknown[] }).results;
    if (results?.length !== size) throw new Error(`${url}: expected ${size} results, got ${results?.length}`);
    if (i < warmup) continue;
    serverMs[i - warmup] = serverTimingMs(headers.get("server-timing"), "app");
    roundTripMs[i - warmup] = elapsed;
  }
  return { serverMs: summarizeLatencies(serverMs), roundTripMs: summarizeLatencies(roundTripMs) };
}

/**
 * Both row forms a client may send: features by name (what a single prediction usually carries)
 * and in artifact order (the compact form a batch client would choose). The goal is checked on
 * the median, the mean is reported beside it: on a shared machine the mean mostly measures
 * preemption of the server process.
 */
export async function benchBatch(inputs: BatchInputs): Promise<Figure[]> {
  const size = BATCH_SETTINGS.rows;
  if (inputs.rows.length < size) throw new Error(`benchBatch: need ${size} rows, got ${inputs.rows.length}`);
  const rows = inputs.rows.slice(0, size);
  const loadBefore = loadavg();
  const forms: RowForm[] = ["by name", "in order"];
  const measured = await withStack("predictor", inputs.artifactPath, inputs.resultsDir, async (p) => {
    const out = [];
    for (const form of forms) {
      const body = batchBody(form, inputs.features, rows);
      out.push({
        form,
        bodyBytes: JSON.stringify(body).length,
        ...(await timeBatches(`${p.url}/v1/predict/batch`, body, size)),
      });
    }
    return out;
  });
  await writeFile(
    join(inputs.resultsDir, "batch.json"),
    `${JSON.stringify(
      {
        settings: BATCH_SETTINGS,
        method: "server-timing header app;dur, sequential requests, predictor pinned to core 0",
        loadAverage: { before: loadBefore, after: loadavg() },
        forms: measured,
      },
      null,
      2,
    )}\n`,
  );
  return measured.flatMap(({ form, serverMs }): Figure[] => [
    {
      name: `batch 1000 rows ${form}, server time p50`,
      value: serverMs.p50,
      unit: "ms",
      better: "lower",
      goal: { atMost: 1 },
    },
    { name: `batch 1000 rows ${form}, server time mean`, value: serverMs.mean, unit: "ms", better: "lower" },
  ]);
}
