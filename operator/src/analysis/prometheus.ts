import { analysisQueries, type SeriesSelector } from "../../../predictor/src/serve/analysis-queries.ts";
import { readingsFor } from "./checks.ts";
import type { Measurement, MeasurementRequest, Reading, ReadingName, TrackReadings } from "./measurement.ts";

/** Where a rollout's measurements come from: one implementation per metrics backend. */
export interface MetricsProvider {
  measure(request: MeasurementRequest, now: Date): Promise<Measurement>;
}

export interface PrometheusOptions {
  /** Per query attempt. */
  timeoutMs: number;
  /** Further attempts after a failed one, with exponential backoff and jitter. */
  retries: number;
  backoffMs: number;
}

export const DEFAULT_PROMETHEUS_OPTIONS: PrometheusOptions = { timeoutMs: 2_000, retries: 2, backoffMs: 200 };

class QueryError extends Error {}

/** The one sample of an instant vector, absent when the vector is empty or the value is NaN. */
export function parseInstantVector(body: unknown): Reading {
  const b = body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (b?.status !== "success" || b.data?.resultType !== "vector" || !Array.isArray(b.data.result)) {
    throw new QueryError(`unexpected answer: ${JSON.stringify(body).slice(0, 200)}`);
  }
  const [first] = b.data.result as { value?: unknown }[];
  if (!first) return { absent: true };
  const pair = first.value;
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== "string") {
    throw new QueryError(`unexpected sample: ${JSON.stringify(first).slice(0, 200)}`);
  }
  const value = Number(pair[1]);
  if (Number.isNaN(value)) return { absent: true };
  if (!Number.isFinite(value)) throw new QueryError(`sample is ${pair[1]}`);
  return { value };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Queries Prometheus' HTTP API; a failure becomes a reading's error, never an exception. */
export class PrometheusProvider implements MetricsProvider {
  private readonly url: string;
  private readonly options: PrometheusOptions;

  constructor(url: string, options: PrometheusOptions = DEFAULT_PROMETHEUS_OPTIONS) {
    this.url = url.replace(/\/+$/, "");
    this.options = options;
  }

  private async queryOnce(promql: string, time: Date): Promise<Reading> {
    const params = new URLSearchParams({ query: promql, time: (time.getTime() / 1000).toFixed(3) });
    const res = await fetch(`${this.url}/api/v1/query?${params}`, {
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new QueryError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new QueryError(`not JSON: ${text.slice(0, 100)}`);
    }
    return parseInstantVector(body);
  }

  async query(promql: string, time: Date): Promise<Reading> {
    let last = "";
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) {
        const base = this.options.backoffMs * 2 ** (attempt - 1);
        await sleep(base / 2 + Math.random() * base);
      }
      try {
        return await this.queryOnce(promql, time);
      } catch (err) {
        const e = err as Error;
        last = e.name === "TimeoutError" ? `timed out after ${this.options.timeoutMs} ms` : e.message;
        // A 4xx (bad query) will not get better by asking again.
        if (/^HTTP 4\d\d/.test(last)) break;
      }
    }
    return { error: `prometheus ${this.url}: ${last}` };
  }

  measure(request: MeasurementRequest, now: Date): Promise<Measurement> {
    return takeMeasurement(request, now, (series, name) =>
      this.query(analysisQueries[name](series, request.window), now),
    );
  }
}

/**
 * The readings the request's checks judge from (`readingsFor`), each read once per track with
 * `read`: a model judged on its error rate alone costs two queries a measurement, not twelve.
 */
async function takeMeasurement(
  request: MeasurementRequest,
  now: Date,
  read: (series: SeriesSelector, name: ReadingName) => Promise<Reading>,
): Promise<Measurement> {
  const needed = readingsFor(request.checks);
  const track = async (series: SeriesSelector, names: ReadingName[]): Promise<Partial<TrackReadings>> =>
    Object.fromEntries(await Promise.all(names.map(async (name) => [name, await read(series, name)])));
  const [candidate, stable] = await Promise.all([
    track(request.candidate, needed.candidate),
    request.stable ? track(request.stable, needed.stable) : undefined,
  ]);
  return {
    version: request.version,
    measuredAt: now.toISOString(),
    window: request.window,
    candidate,
    ...(stable ? { stable } : {}),
  };
}

/** Without a Prometheus to ask, every reading says so: rollouts with checks wait, then roll back. */
export const unconfiguredMetrics: MetricsProvider = {
  measure: (request, now) =>
    takeMeasurement(request, now, async () => ({
      error: "no Prometheus configured (operator flag --prometheus-url)",
    })),
};
