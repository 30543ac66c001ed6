import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS, REQUEST_DURATION, REQUESTS } from "./metrics.ts";
import { ResponseStats } from "./response-stats.ts";

const routes = ["/v1/predict", "/v1/predict/batch", "/metrics"];
const statuses = [200, 400, 413, 503];

/** The exposition's lines, with labels sorted and lines sorted: neither order means anything to Prometheus. */
function normalized(text: string): string[] {
  const lines = text.split("\n").map((line) => {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) return line;
    const labels = (m[2] as string).match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    return `${m[1]}{${labels.sort().join(",")}} ${m[3]}`;
  });
  return lines.sort();
}

/** prom-client's own Histogram and Counter, fed the same responses, are what Prometheus must see. */
async function promClientText(responses: [number, number, number][]): Promise<string[]> {
  const registry = new Registry();
  registry.setDefaultLabels({ model: "m", version: "v1", track: "stable" });
  const labelNames = ["route", "status"] as const;
  const histogram = new Histogram({
    ...REQUEST_DURATION,
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const counter = new Counter({ ...REQUESTS, labelNames, registers: [registry] });
  for (const [r, s, seconds] of responses) {
    const labels = { route: routes[r] as string, status: String(statuses[s]) };
    histogram.observe(labels, seconds);
    counter.inc(labels);
  }
  return normalized(await registry.metrics());
}

async function statsText(responses: [number, number, number][]): Promise<string[]> {
  const registry = new Registry();
  registry.setDefaultLabels({ model: "m", version: "v1", track: "stable" });
  const stats = new ResponseStats(LATENCY_BUCKETS);
  stats.register(registry, REQUEST_DURATION, REQUESTS);
  for (const [r, s, seconds] of responses) stats.record(routes[r] as string, statuses[s] as number, seconds);
  return normalized(await registry.metrics());
}

describe("ResponseStats", () => {
  it("exposes exactly what prom-client's Histogram and Counter would, for any responses", async () => {
    const response = fc.tuple(
      fc.nat(routes.length - 1),
      fc.nat(statuses.length - 1),
      // Bucket bounds themselves included: a value on a bound counts in that bound's bucket.
      fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(...LATENCY_BUCKETS)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(response, { maxLength: 200 }), async (responses) => {
        expect(await statsText(responses)).toEqual(await promClientText(responses));
      }),
      { numRuns: 100 },
    );
  });

  it("shows nothing before the first response", async () => {
    expect(await statsText([])).toEqual(await promClientText([]));
  });
});
