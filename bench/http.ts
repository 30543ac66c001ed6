/**
 * HTTP serving: the predictor under wrk against the Flask + gunicorn + scikit-learn stack it
 * replaces and against bare node:http, then its latency at half its peak rate.
 *
 * Fairness: every server runs pinned to core 0 and every load generator to core 1 (see
 * processes.ts); every stack gets the same wrk settings and the same request body; each is warmed
 * up before it is measured. The predictor runs as in its pod: one process, default log level.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { relativeDifference } from "./coefficients.ts";
import { runClient, type Service } from "./processes.ts";
import { namedRow, postJson, ROOT, withStack } from "./stacks.ts";
import type { Figure } from "./summary.ts";
import { assertCleanRun, parseWrkOutput, type WrkReport, wrkArgs } from "./wrk.ts";

export const HTTP_SETTINGS = {
  wrkThreads: 1,
  wrkConnections: 32,
  warmupS: 3,
  measureS: 10,
  fixedRateConnections: 16,
  fixedRateS: 10,
};

export interface HttpInputs {
  artifactPath: string;
  features: readonly string[];
  /** Rows of feature values, in artifact order, to check both stacks predict the same numbers. */
  rows: number[][];
  resultsDir: string;
}

async function wrk(url: string, body: string, durationS: number, what: string): Promise<WrkReport> {
  const args = wrkArgs({
    url,
    threads: HTTP_SETTINGS.wrkThreads,
    connections: HTTP_SETTINGS.wrkConnections,
    durationS,
  });
  const report = parseWrkOutput(await runClient("wrk", args, { BENCH_BODY: body }, (durationS + 30) * 1000));
  assertCleanRun(report, what);
  return report;
}

async function measurePeak(service: Service, body: string): Promise<WrkReport> {
  const url = `${service.url}/v1/predict`;
  await wrk(url, body, HTTP_SETTINGS.warmupS, `${service.name} warm-up`);
  return wrk(url, body, HTTP_SETTINGS.measureS, service.name);
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

async function measureAtRate(service: Service, body: string, rate: number): Promise<FixedRateReport> {
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
    { BENCH_BODY: body },
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

export async function benchHttp(inputs: HttpInputs): Promise<Figure[]> {
  const { artifactPath, resultsDir } = inputs;
  const { features } = inputs;
  const first = inputs.rows[0];
  if (!first) throw new Error("benchHttp: no rows to send");
  const body = JSON.stringify(namedRow(features, first));
  const loadBefore = loadavg();

  const flaskPeak = await withStack("flask", artifactPath, resultsDir, (flask) => measurePeak(flask, body));
  const nodePeak = await withStack("nodeHttp", artifactPath, resultsDir, (bare) => measurePeak(bare, body));
  const { peak, atHalf, agreement } = await withStack(
    "predictor",
    artifactPath,
    resultsDir,
    async (predictor) => {
      const peakReport = await measurePeak(predictor, body);
      const halfRate = Math.round(peakReport.requestsPerSecond / 2);
      const atHalfReport = await measureAtRate(predictor, body, halfRate);
      const maxRel = await withStack("flask", artifactPath, resultsDir, (flask) =>
        predictionDisagreement(predictor, flask, features, inputs.rows),
      );
      return { peak: peakReport, atHalf: atHalfReport, agreement: maxRel };
    },
  );

  await writeFile(
    join(resultsDir, "http.json"),
    `${JSON.stringify(
      {
        settings: HTTP_SETTINGS,
        pinning: { serverCpu: 0, clientCpu: 1 },
        loadAverage: { before: loadBefore, after: loadavg() },
        body,
        predictor: { peak, atHalfPeak: atHalf },
        flask: { peak: flaskPeak },
        nodeHttp: { peak: nodePeak },
        agreement: { rows: inputs.rows.length, maxRelativeDifference: agreement },
      },
      null,
      2,
    )}\n`,
  );

  const rps = peak.requestsPerSecond;
  const latency = atHalf.latencyMs as NonNullable<FixedRateReport["latencyMs"]>;
  return [
    {
      name: "predict req/s vs Flask+sklearn",
      value: rps,
      unit: "req/s",
      better: "higher",
      baseline: { name: "flask+gunicorn(2 sync)+sklearn", value: flaskPeak.requestsPerSecond },
      goal: { ratioAtLeast: 12 },
    },
    {
      name: "predict req/s vs bare node:http",
      value: rps,
      unit: "req/s",
      better: "higher",
      baseline: { name: "bare node:http constant", value: nodePeak.requestsPerSecond },
      goal: { ratioAtLeast: 0.8 },
    },
    {
      name: "predict p99 at peak",
      value: peak.latencyMs.p99,
      unit: "ms",
      better: "lower",
      baseline: { name: "flask+gunicorn(2 sync)+sklearn", value: flaskPeak.latencyMs.p99 },
    },
    {
      name: "predict rate achieved at half peak",
      value: atHalf.achievedRate,
      unit: "req/s",
      better: "higher",
      baseline: { name: "target: half of peak", value: atHalf.targetRate },
    },
    {
      name: "predict p99 at half peak",
      value: latency.p99,
      unit: "ms",
      better: "lower",
      goal: { atMost: 2 },
    },
    {
      name: "predictions vs Flask+sklearn, max rel diff",
      value: agreement,
      unit: "",
      better: "lower",
      goal: { atMost: 1e-9 },
    },
  ];
}
