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
import { namedRow, postJsonText, rowOfPass, withStack } from "./stacks.ts";
import type { Figure } from "./summary.ts";

/** `bodies` different bodies are sent in turn, the rows of pass 0, 1, ... (rowOfPass). */
export const BATCH_SETTINGS = { rows: 1000, bodies: 8, warmup: 50, measured: 300 };

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

/** The request bodies, as JSON text, of every row form and turn (see BATCH_SETTINGS.bodies). */
function batchBodies(form: RowForm, features: readonly string[], rows: number[][]): string[] {
  return Array.from({ length: BATCH_SETTINGS.bodies }, (_, pass) => {
    const body = rows.map((row) => {
      const values = rowOfPass(row, pass);
      return form === "by name" ? namedRow(features, values) : { features: values };
    });
    return JSON.stringify({ rows: body });
  });
}

interface BatchResult {
  prediction: number;
  interval: { lower: number; upper: number };
}

/** The numbers of an answer's results, as written: prediction, lower, upper per row. */
function answerNumbers(results: readonly BatchResult[]): Float64Array {
  return Float64Array.from(results.flatMap((r) => [r.prediction, r.interval.lower, r.interval.upper]));
}

/**
 * Sequential batches to `url`, the bodies in turn: server time and round trip of each after the
 * warm-up, in ms, and the numbers of each body's answer.
 */
async function timeBatches(url: string, bodies: readonly string[], size: number) {
  const { warmup, measured } = BATCH_SETTINGS;
  const serverMs = new Float64Array(measured);
  const roundTripMs = new Float64Array(measured);
  const numbers: Float64Array[] = [];
  for (let i = 0; i < warmup + measured; i++) {
    const start = performance.now();
    const { json, headers } = await postJsonText(url, bodies[i % bodies.length] as string);
    const elapsed = performance.now() - start;
    const results = (json as { results?: BatchResult[] }).results ?? [];
    if (results.length !== size) throw new Error(`${url}: expected ${size} results, got ${results.length}`);
    numbers[i % bodies.length] = answerNumbers(results);
    if (i < warmup) continue;
    serverMs[i - warmup] = serverTimingMs(headers.get("server-timing"), "app");
    roundTripMs[i - warmup] = elapsed;
  }
  return { serverMs: summarizeLatencies(serverMs), roundTripMs: summarizeLatencies(roundTripMs), numbers };
}

/**
 * The least any JSON batch endpoint in this runtime spends on these requests: each body's bytes to
 * a string and `JSON.parse`, then every number of its answer to text, with the predictor's own
 * work (validation, predictions, ids, drift, the rest of the answer, encoding it) left out. The
 * same bodies in the same turn, warm-up and count as the server's batches; the median pass.
 */
export function jsonFloorMs(bodies: readonly Buffer[], numbers: readonly Float64Array[]): number {
  const { warmup, measured } = BATCH_SETTINGS;
  const passes = new Float64Array(measured);
  let sink = 0;
  for (let i = 0; i < warmup + measured; i++) {
    const body = bodies[i % bodies.length] as Buffer;
    const start = performance.now();
    sink += (JSON.parse(body.toString()) as { rows: unknown[] }).rows.length;
    let text = "";
    for (const x of numbers[i % numbers.length] as Float64Array) text += `${x},`;
    sink += text.length;
    if (i >= warmup) passes[i - warmup] = performance.now() - start;
  }
  if (sink === 0) throw new Error("jsonFloorMs: nothing parsed or formatted");
  return summarizeLatencies(passes).p50;
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
      const bodies = batchBodies(form, inputs.features, rows);
      const { numbers, ...times } = await timeBatches(`${p.url}/v1/predict/batch`, bodies, size);
      const floor = jsonFloorMs(
        bodies.map((b) => Buffer.from(b)),
        numbers,
      );
      out.push({ form, bodyBytes: Buffer.byteLength(bodies[0] as string), ...times, jsonFloorMs: floor });
    }
    return out;
  });
  await writeFile(
    join(inputs.resultsDir, "batch.json"),
    `${JSON.stringify(
      {
        settings: BATCH_SETTINGS,
        method:
          "server-timing header app;dur, sequential requests, predictor pinned to core 0; jsonFloorMs: JSON.parse of the body and formatting the answer's numbers in the bench process, median",
        loadAverage: { before: loadBefore, after: loadavg() },
        forms: measured,
      },
      null,
      2,
    )}\n`,
  );
  return measured.flatMap(({ form, serverMs, jsonFloorMs }): Figure[] => [
    {
      name: `batch 1000 rows ${form}, server time p50`,
      value: serverMs.p50,
      unit: "ms",
      better: "lower",
      baseline: { name: "JSON.parse + number formatting alone", value: jsonFloorMs },
      goal: { atMost: 1 },
    },
    { name: `batch 1000 rows ${form}, server time mean`, value: serverMs.mean, unit: "ms", better: "lower" },
  ]);
}
