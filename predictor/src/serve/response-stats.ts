import type { Metric, Registry } from "prom-client";

interface Series<L extends Record<string, string> = Record<string, string>> {
  labels: L;
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * The latency histogram and request counter of answered requests, by route and status code.
 *
 * Every request records into them, so they are kept in plain arrays per series, found by route
 * then status: prom-client's own Histogram and Counter hash a label object on every call, which
 * measured as a sixth of a prediction request's whole cost. The registry reads them at scrape
 * time through `get()`, the interface its own metrics implement, and prints them the same way
 * (the test compares the text with prom-client's Histogram and Counter fed the same requests).
 */
export class ResponseStats {
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Map<number, Series<{ route: string; status: string }>>>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  record(route: string, status: number, seconds: number): void {
    let byStatus = this.#series.get(route);
    if (!byStatus) {
      byStatus = new Map();
      this.#series.set(route, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = {
        labels: { route, status: String(status) },
        buckets: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    observe(series, this.#bounds, seconds);
  }

  #all(): Series[] {
    return [...this.#series.values()].flatMap((byStatus) => [...byStatus.values()]);
  }

  /** Registers `<name>` (histogram of seconds) and `<countName>` (counter) on `registry`. */
  register(
    registry: Registry,
    histogram: { name: string; help: string },
    counter: { name: string; help: string },
  ): void {
    const histogramSamples = (): Sample[] =>
      this.#all().flatMap((s) => histogramSamplesOf(s, this.#bounds, histogram.name));
    const counterSamples = (): Sample[] => this.#all().map((s) => ({ labels: s.labels, value: s.count }));
    registry.registerMetric(metricOf(histogram, "histogram", histogramSamples));
    registry.registerMetric(metricOf(counter, "counter", counterSamples));
  }
}

function observe(series: Series, bounds: readonly number[], value: number): void {
  let b = 0;
  while (b < bounds.length && value > (bounds[b] as number)) b++;
  series.buckets[b] = (series.buckets[b] as number) + 1;
  series.sum += value;
  series.count++;
}

function histogramSamplesOf(s: Series, bounds: readonly number[], name: string): Sample[] {
  let cumulative = 0;
  const buckets = bounds.map((le, i) => {
    cumulative += s.buckets[i] as number;
    return { labels: { le, ...s.labels }, value: cumulative, metricName: `${name}_bucket` };
  });
  return [
    ...buckets,
    { labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${name}_bucket` },
    { labels: s.labels, value: s.sum, metricName: `${name}_sum` },
    { labels: s.labels, value: s.count, metricName: `${name}_count` },
  ];
}

/**
 * A histogram without labels of its own, recorded into a plain array for the same reason as
 * ResponseStats: it takes an observation per predicted row.
 */
export class PlainHistogram {
  readonly #bounds: readonly number[];
  readonly #series: Series = { labels: {}, buckets: new Float64Array(0), sum: 0, count: 0 };

  constructor(registry: Registry, meta: { name: string; help: string }, bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#series.buckets = new Float64Array(bounds.length + 1);
    registry.registerMetric(
      metricOf(meta, "histogram", () => histogramSamplesOf(this.#series, this.#bounds, meta.name)),
    );
  }

  observe(value: number): void {
    observe(this.#series, this.#bounds, value);
  }
}

/**
 * A gauge read at scrape time that has no sample while `read` gives undefined: prom-client's
 * unlabelled Gauge always shows a value, and 0 would read as a real one.
 */
export function registerOptionalGauge(
  registry: Registry,
  meta: { name: string; help: string },
  read: () => number | undefined,
): void {
  registry.registerMetric(
    metricOf(meta, "gauge", () => {
      const value = read();
      return value === undefined ? [] : [{ labels: {}, value }];
    }),
  );
}

/**
 * A metric the registry reads like its own: a name, help, type and samples. prom-client's types
 * describe only its classes, hence the cast; at run time the registry calls `get()` and reads
 * these fields.
 */
function metricOf(
  meta: { name: string; help: string },
  type: "histogram" | "counter" | "gauge",
  samples: () => Sample[],
) {
  const metric = {
    ...meta,
    type,
    aggregator: "sum",
    get: async () => ({ ...meta, type, aggregator: "sum", values: samples() }),
  };
  return metric as unknown as Metric;
}
