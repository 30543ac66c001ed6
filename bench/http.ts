/**
 * HTTP serving: the predictor under wrk against the Flask + gunicorn + scikit-learn stack it
 * replaces and against bare node:http, then its latency at half its peak rate.
 *
 * Fairness: every server runs pinned to core 0 and every load generator to core 1 (see
 * processes.ts); every stack gets the same wrk settings and the same request body; each is warmed
 * up before it is measured. The predictor runs as in its pod: one process, default log level.
 * The three stacks run side by side (idle when not measured) and are measured in interleaved
 * rounds, each round in a rotated order, and each figure is the median over the rounds: on a
 * shared machine, load that comes and goes then hits every stack alike instead of one of them.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { median, relativeDifference } from "./coefficients.ts";
import { runClient, type Service } from "./processes.ts";
import { namedRow, postJson, ROOT, rowOfPass, type StackName, startStack } from "./stacks.ts";
import type { Figure } from "./summary.ts";
import { assertCleanRun, parseWrkOutput, type WrkReport, wrkArgs } from "./wrk.ts";

export const HTTP_SETTINGS = {
  wrkThreads: 1,
  wrkConnections: 32,
  warmupS: 3,
  rounds: 3,
  roundS: 5,
  // Enough that a request never waits in the client for a free connection (16 measured 28 ms p99
  // against bare node:http at 18,000/s, 64 measured 5 ms).
  fixedRateConnections: 64,
  fixedRateRounds: 3,
  fixedRateS: 5,
  distinctBodies: 8192,
};

export interface HttpInputs {
  artifactPath: string;
  features: readonly string[];
  /** Rows of feature values, in artifact order, to check both stacks predict the same numbers. */
  rows: number[][];
  resultsDir: string;
}

async function wrk(url: string, bodies: string, durationS: number, what: string): Promise<WrkReport> {
  const args = wrkArgs({
    url,
    threads: HTTP_SETTINGS.wrkThreads,
    connections: HTTP_SETTINGS.wrkConnections,
    durationS,
  });
  const report = parseWrkOutput(
    await runClient("wrk", args, { BENCH_BODIES: bodies }, (durationS + 30) * 1000),
  );
  assertCleanRun(report, what);
  return report;
}

/** Round r measures every stack once, starting with stack r (mod the count). */
export function roundOrder<T>(stacks: readonly T[], rounds: number): T[][] {
  return Array.from({ length: rounds }, (_, r) => stacks.map((_, i) => stacks[(r + i) % stacks.length] as T));
}

export interface FixedRateReport {
  targetRate: number;
  achievedRate: number;
  sent: number;
  completed: number;
  failed: number;
  firstError: string;
  overloaded: boolean;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number } | null;
  scheduleLagMs: { p50: number; p99: number; max: number } | null;
}

async function measureAtRate(service: Service, bodies: string, rate: number): Promise<FixedRateReport> {
  const args = [
    join(ROOT, "bench", "fixed-rate.ts"),
    `${service.url}/v1/predict`,
    String(rate),
    String(HTTP_SETTINGS.fixedRateS),
    String(HTTP_SETTINGS.fixedRateConnections),
  ];
  const stdout = await runClient(
    process.execPath,
    args,
    { BENCH_BODIES: bodies },
    (HTTP_SETTINGS.fixedRateS + 30) * 1000,
  );
  const report = JSON.parse(stdout) as FixedRateReport;
  // Falling behind the schedule (`overloaded`) is a result, shown by the achieved rate; errors are not.
  if (report.failed > 0 || !report.latencyMs) {
    throw new Error(
      `predictor at ${rate} req/s: ${report.failed} of ${report.sent} failed (${report.firstError})`,
    );
  }
  return report;
}

function predictionOf(answer: unknown, url: string): number {
  const p = (answer as { prediction?: unknown } | null)?.prediction;
  if (typeof p !== "number")
    throw new Error(`POST ${url}: answer has no numeric 'prediction': ${JSON.stringify(answer)}`);
  return p;
}

/** Largest relative difference between the two stacks' predictions over `rows`. */
async function predictionDisagreement(a: Service, b: Service, features: readonly string[], rows: number[][]) {
  let worst = 0;
  for (const row of rows) {
    const body = namedRow(features, row);
    const pa = predictionOf((await postJson(`${a.url}/v1/predict`, body)).json, a.url);
    const pb = predictionOf((await postJson(`${b.url}/v1/predict`, body)).json, b.url);
    worst = Math.max(worst, relativeDifference(pa, pb));
  }
  return worst;
}

const STACKS: readonly StackName[] = ["predictor", "flask", "nodeHttp"];

async function startAll(artifactPath: string, logDir: string): Promise<Record<StackName, Service>> {
  const started: Service[] = [];
  try {
    for (const name of STACKS) started.push(await startStack(name, artifactPath, logDir));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return Object.fromEntries(STACKS.map((name, i) => [name, started[i]])) as Record<StackName, Service>;
}

/** Peak wrk runs of every stack in interleaved rounds, after one warm-up run each. */
async function measurePeaks(
  services: Record<StackName, Service>,
  bodies: string,
): Promise<Record<StackName, WrkReport[]>> {
  const url = (name: StackName) => `${services[name].url}/v1/predict`;
  for (const name of STACKS) await wrk(url(name), bodies, HTTP_SETTINGS.warmupS, `${name} warm-up`);
  const runs: Record<StackName, WrkReport[]> = { predictor: [], flask: [], nodeHttp: [] };
  for (const round of roundOrder(STACKS, HTTP_SETTINGS.rounds)) {
    for (const name of round) runs[name].push(await wrk(url(name), bodies, HTTP_SETTINGS.roundS, name));
  }
  return runs;
}

/** The request bodies the load generators send in turn, one JSON a line: the rows by name, pass after pass (rowOfPass). */
export function requestBodies(features: readonly string[], rows: readonly number[][], count: number): string {
  return Array.from({ length: count }, (_, i) => {
    const row = rowOfPass(rows[i % rows.length] as number[], Math.floor(i / rows.length));
    return JSON.stringify(namedRow(features, row));
  }).join("\n");
}

export async function benchHttp(inputs: HttpInputs): Promise<Figure[]> {
  const { artifactPath, resultsDir, features } = inputs;
  if (inputs.rows.length === 0) throw new Error("benchHttp: no rows to send");
  const bodies = join(resultsDir, "request-bodies.ndjson");
  await writeFile(bodies, requestBodies(features, inputs.rows, HTTP_SETTINGS.distinctBodies));
  const loadBefore = loadavg();

  const services = await startAll(artifactPath, resultsDir);
  let runs: Record<StackName, WrkReport[]>;
  const atHalf: FixedRateReport[] = [];
  const bareAtHalf: FixedRateReport[] = [];
  let agreement: number;
  try {
    runs = await measurePeaks(services, bodies);
    const halfRate = Math.round(median(runs.predictor.map((r) => r.requestsPerSecond)) / 2);
    // Rounds alternate the two servers, as the peak runs do; the same rate against bare node:http
    // tells the machine's own tail latency from the predictor's.
    for (let round = 0; round < HTTP_SETTINGS.fixedRateRounds; round++) {
      atHalf.push(await measureAtRate(services.predictor, bodies, halfRate));
      bareAtHalf.push(await measureAtRate(services.nodeHttp, bodies, halfRate));
    }
    agreement = await predictionDisagreement(services.predictor, services.flask, features, inputs.rows);
  } finally {
    await Promise.all(STACKS.map((name) => services[name].stop()));
  }
  const rps = (name: StackName) => median(runs[name].map((r) => r.requestsPerSecond));
  const p99 = (name: StackName) => median(runs[name].map((r) => r.latencyMs.p99));

  await writeFile(
    join(resultsDir, "http.json"),
    `${JSON.stringify(
      {
        settings: HTTP_SETTINGS,
        pinning: { serverCpu: 0, clientCpu: 1 },
        loadAverage: { before: loadBefore, after: loadavg() },
        bodies: { file: bodies, count: HTTP_SETTINGS.distinctBodies },
        peakRuns: runs,
        predictorAtHalfPeak: atHalf,
        nodeHttpAtTheSameRate: bareAtHalf,
        agreement: { rows: inputs.rows.length, maxRelativeDifference: agreement },
      },
      null,
      2,
    )}\n`,
  );

  const p99AtHalf = (reports: FixedRateReport[]) =>
    median(reports.map((r) => (r.latencyMs as NonNullable<FixedRateReport["latencyMs"]>).p99));
  const flask = "flask+gunicorn(2 sync)+sklearn";
  return [
    {
      name: "predict req/s vs Flask+sklearn",
      value: rps("predictor"),
      unit: "req/s",
      better: "higher",
      baseline: { name: flask, value: rps("flask") },
      goal: { ratioAtLeast: 12 },
    },
    {
      name: "predict req/s vs bare node:http",
      value: rps("predictor"),
      unit: "req/s",
      better: "higher",
      baseline: { name: "bare node:http constant", value: rps("nodeHttp") },
      goal: { ratioAtLeast: 0.8 },
    },
    {
      name: "predict p99 at peak",
      value: p99("predictor"),
      unit: "ms",
      better: "lower",
      baseline: { name: flask, value: p99("flask") },
    },
    {
      name: "predict rate achieved at half peak",
      value: median(atHalf.map((r) => r.achievedRate)),
      unit: "req/s",
      better: "higher",
      baseline: { name: "target: half of peak", value: (atHalf[0] as FixedRateReport).targetRate },
    },
    {
      name: "predict p99 at half peak",
      value: p99AtHalf(atHalf),
      unit: "ms",
      better: "lower",
      baseline: { name: "bare node:http, same rate", value: p99AtHalf(bareAtHalf) },
      goal: { atMost: 2 },
    },
    {
      name: "predictions vs Flask+sklearn, max rel diff",
      value: agreement,
      unit: "",
      better: "lower",
      goal: { atMost: 1e-9 },
      correctness: true,
    },
  ];
}
