/**
 * Server time of a 1,000-row batch. The predictor reports its own time per request in a
 * `server-timing: app;dur=<ms>` header (from the request's arrival to the answer serialized and
 * its length taken: body read and parse, validation, predictions, records, serialization); the
 * socket and the client are left out.
 * Requests go one at a time to a predictor pinned like the HTTP benchmark's, after a warm-up.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { answerNumbers, type JsonFloor, startJsonFloor } from "./json-floor.ts";
import { summarizeLatencies } from "./latency.ts";
import { namedRow, OIP_INFER_PATH, oipRequest, postJsonText, rowOfPass, withStack } from "./stacks.ts";
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

/** /v1/predict/batch with rows by name or in order, or an Open Inference Protocol [N, F] tensor. */
type RowForm = "by name" | "in order" | "OIP tensor";

/** The request bodies, as JSON text, of every row form and turn (see BATCH_SETTINGS.bodies). */
function batchBodies(form: RowForm, features: readonly string[], rows: number[][]): string[] {
  return Array.from({ length: BATCH_SETTINGS.bodies }, (_, pass) => {
    const values = rows.map((row) => rowOfPass(row, pass));
    if (form === "OIP tensor") return JSON.stringify(oipRequest(values));
    const body = values.map((row) => (form === "by name" ? namedRow(features, row) : { features: row }));
    return JSON.stringify({ rows: body });
  });
}

/**
 * Sequential batches to `url`, the bodies in turn, each followed on the predictor's core
 * (json-floor.ts), so that all see the core as it was then, by a pass of JSON.parse and
 * JSON.stringify over the same body and its answer's numbers, and by the same body sent to the
 * JSON floor's endpoint, which writes those numbers: after the warm-up, each one's server time,
 * round trip, floor and pass, in ms.
 */
async function timeBatches(url: string, bodies: readonly string[], size: number, floor: JsonFloor) {
  const { warmup, measured } = BATCH_SETTINGS;
  const serverMs = new Float64Array(measured);
  const roundTripMs = new Float64Array(measured);
  const passMs = new Float64Array(measured);
  const floorMs = new Float64Array(measured);
  for (let i = 0; i < warmup + measured; i++) {
    const body = bodies[i % bodies.length] as string;
    const start = performance.now();
    const { json, headers } = await postJsonText(url, body);
    const elapsed = performance.now() - start;
    const floorPassMs = await floor.passMs(i % bodies.length, answerNumbers(json, size, url));
    const endpoint = await postJsonText(floor.url, body);
    if (i < warmup) continue;
    floorMs[i - warmup] = serverTimingMs(endpoint.headers.get("server-timing"), "app");
    serverMs[i - warmup] = serverTimingMs(headers.get("server-timing"), "app");
    roundTripMs[i - warmup] = elapsed;
    passMs[i - warmup] = floorPassMs;
  }
  return {
    serverMs: summarizeLatencies(serverMs),
    roundTripMs: summarizeLatencies(roundTripMs),
    jsonFloorMs: summarizeLatencies(floorMs),
    jsonPassMs: summarizeLatencies(passMs),
  };
}

/**
 * The row forms a client may send: features by name (what a single prediction usually carries),
 * in artifact order (the compact form a batch client would choose), and one Open Inference
 * Protocol tensor [1000, F] (what an OIP client sends). The goal, at most 1.25 times the JSON
 * floor (a node:http endpoint doing nothing but read, parse and write the numbers, timed from the
 * same arrival to the same end), is checked on the median, the mean is reported beside it: on a
 * shared machine the mean mostly measures preemption of the server process. The ratio to the
 * in-process pass (parse and write alone, no body to read) is reported beside it.
 */
export async function benchBatch(inputs: BatchInputs): Promise<Figure[]> {
  const size = BATCH_SETTINGS.rows;
  if (inputs.rows.length < size) throw new Error(`benchBatch: need ${size} rows, got ${inputs.rows.length}`);
  const rows = inputs.rows.slice(0, size);
  const loadBefore = loadavg();
  const forms: RowForm[] = ["by name", "in order", "OIP tensor"];
  const measured = await withStack("predictor", inputs.artifactPath, inputs.resultsDir, async (p) => {
    const out = [];
    for (const form of forms) {
      const bodies = batchBodies(form, inputs.features, rows);
      const path = form === "OIP tensor" ? OIP_INFER_PATH : "/v1/predict/batch";
      const floor = await startJsonFloor(bodies);
      try {
        const times = await timeBatches(`${p.url}${path}`, bodies, size, floor);
        out.push({ form, bodyBytes: Buffer.byteLength(bodies[0] as string), ...times });
      } finally {
        await floor.stop();
      }
    }
    return out;
  });
  await writeFile(
    join(inputs.resultsDir, "batch.json"),
    `${JSON.stringify(
      {
        settings: BATCH_SETTINGS,
        method:
          "server-timing header app;dur, sequential requests, predictor pinned to core 0; after each request, in a process of its own pinned to core 0: jsonPassMs, JSON.parse of its body and JSON.stringify of its answer's numbers, in process; jsonFloorMs, the same body posted to a bare node:http endpoint that reads it, parses it and writes those numbers, its server-timing app;dur",
        loadAverage: { before: loadBefore, after: loadavg() },
        forms: measured,
      },
      null,
      2,
    )}\n`,
  );
  return measured.flatMap(({ form, serverMs, jsonFloorMs, jsonPassMs }): Figure[] => [
    {
      name: `batch 1000 rows ${form}, server time p50`,
      value: serverMs.p50,
      unit: "ms",
      better: "lower",
      baseline: {
        name: "JSON floor: node:http reading the body, JSON.parse, JSON.stringify of the numbers",
        value: jsonFloorMs.p50,
      },
      goal: { atMostTimesBaseline: 1.25 },
    },
    {
      name: `batch 1000 rows ${form}, server time p50 vs the JSON pass alone`,
      value: serverMs.p50,
      unit: "ms",
      better: "lower",
      baseline: { name: "JSON.parse + JSON.stringify of the numbers, in process", value: jsonPassMs.p50 },
    },
    { name: `batch 1000 rows ${form}, server time mean`, value: serverMs.mean, unit: "ms", better: "lower" },
  ]);
}
