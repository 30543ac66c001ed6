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

export async function benchBatch(inputs: BatchInputs): Promise<Figure[]> {
  const { rows: size, warmup, measured } = BATCH_SETTINGS;
  if (inputs.rows.length < size) throw new Error(`benchBatch: need ${size} rows, got ${inputs.rows.length}`);
  const body = { rows: inputs.rows.slice(0, size).map((row) => namedRow(inputs.features, row)) };
  const loadBefore = loadavg();
  const { server, roundTrip } = await withStack(
    "predictor",
    inputs.artifactPath,
    inputs.resultsDir,
    async (p) => {
      const url = `${p.url}/v1/predict/batch`;
      const serverMs = new Float64Array(measured);
      const roundTripMs = new Float64Array(measured);
      for (let i = 0; i < warmup + measured; i++) {
        const start = performance.now();
        const { json, headers } = await postJson(url, body);
        const elapsed = performance.now() - start;
        const results = (json as { results?: unknown[] }).results;
        if (results?.length !== size)
          throw new Error(`${url}: expected ${size} results, got ${results?.length}`);
        if (i < warmup) continue;
        serverMs[i - warmup] = serverTimingMs(headers.get("server-timing"), "app");
        roundTripMs[i - warmup] = elapsed;
      }
      return { server: summarizeLatencies(serverMs), roundTrip: summarizeLatencies(roundTripMs) };
    },
  );
  await writeFile(
    join(inputs.resultsDir, "batch.json"),
    `${JSON.stringify(
      {
        settings: BATCH_SETTINGS,
        method: "server-timing header app;dur, sequential requests, predictor pinned to core 0",
        loadAverage: { before: loadBefore, after: loadavg() },
        bodyBytes: JSON.stringify(body).length,
        serverMs: server,
        roundTripMs: roundTrip,
      },
      null,
      2,
    )}\n`,
  );
  return [
    {
      name: "batch 1000 rows, server time, mean",
      value: server.mean,
      unit: "ms",
      better: "lower",
      goal: { atMost: 1 },
    },
    { name: "batch 1000 rows, server time, p50", value: server.p50, unit: "ms", better: "lower" },
  ];
}
