import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROWS, VARIABLES } from "./dashboard.ts";
import { snapshot, substitute, variableValues } from "./snapshot.ts";

/** A loopback Prometheus: throughput has a series, every other query none; answers 503 once when `failNext`. */
let server: Server;
let url = "";
const queries: string[] = [];
const variableRequests: string[] = [];
let failNext = true;
beforeAll(async () => {
  server = createServer((req, res) => {
    const params = new URL(req.url ?? "", "http://x").searchParams;
    if (failNext) {
      failNext = false;
      res.writeHead(503).end("overloaded");
      return;
    }
    if (req.url?.startsWith("/api/v1/label/model/values")) {
      variableRequests.push(params.getAll("match[]").join());
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ status: "success", data: ["spy", "qqq"] }));
      return;
    }
    const query = params.get("query") ?? "";
    queries.push(query);
    const start = Number(params.get("start"));
    const result = query.startsWith("sum by (track) (rate(predictor_http_requests_total")
      ? [
          {
            metric: { track: "stable" },
            values: Array.from({ length: 10 }, (_, i) => [start + i * 15, String(20 + i)]),
          },
        ]
      : [];
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ status: "success", data: { resultType: "matrix", result } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("dashboard snapshot", () => {
  it("substitutes the variables as Grafana does, $__rate_interval as four steps of at least 1m", () => {
    const o = { prometheusUrl: "", namespace: "trading", model: "spy" };
    expect(
      substitute('x{namespace="$namespace",model="$model",version=~"$version"}[$__rate_interval]', o, 15),
    ).toBe('x{namespace="trading",model="spy",version=~".*"}[60s]');
    expect(substitute("[$__rate_interval]", o, 30)).toBe("[120s]");
  });

  it("asks Prometheus for a variable's values as Grafana does, earlier variables substituted", async () => {
    const model = VARIABLES.find((v) => v.name === "model")?.query ?? "";
    const o = { prometheusUrl: url, namespace: "trading", model: "" };
    expect(await variableValues(o, model)).toEqual(["spy", "qqq"]);
    expect(variableRequests).toEqual(['predictor_ready{namespace="trading"}']);
    await expect(variableValues(o, "query_result(up)")).rejects.toThrow(/not a label_values/);
  });

  it("runs every panel's queries against Prometheus and draws them, saying which panels have no data", async () => {
    failNext = true;
    const { svg, panels } = await snapshot({
      prometheusUrl: url,
      namespace: "trading",
      model: "spy",
      rangeSeconds: 3600,
      now: new Date("2026-12-02T12:00:00Z"),
    });
    const panelCount = ROWS.flatMap((r) => r.panels).length;
    expect(panels).toHaveLength(panelCount);
    expect(queries).toHaveLength(ROWS.flatMap((r) => r.panels.flatMap((p) => p.queries)).length);
    for (const q of queries) {
      expect(q).not.toContain("$");
      if (q.includes("namespace=")) expect(q).toContain('namespace="trading",model="spy"');
    }
    const throughput = panels.find((p) => p.title === "Throughput");
    expect(throughput?.points).toHaveLength(10);
    expect(throughput?.queries).toEqual([{ legend: "{{track}}", points: 10 }]);
    expect(panels.find((p) => p.title === "Rollouts")?.queries.map((q) => q.points)).toEqual([0, 0, 0]);
    expect(throughput?.points[0]).toMatchObject({
      series: "stable",
      time: (Date.parse("2026-12-02T11:00:00Z") / 1000) * 1000,
      value: 20,
    });
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain("Throughput (reqps)");
    expect(svg).toContain("TradingModel trading/spy");
    expect(svg).toContain("no data");
    expect(panels.filter((p) => p.points.length === 0)).toHaveLength(panelCount - 1);
  });
});
