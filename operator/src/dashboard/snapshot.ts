import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { retrying } from "../../../predictor/src/backoff.ts";
import { type PanelSpec, ROWS } from "./dashboard.ts";

/**
 * The dashboard without Grafana: every panel's queries run against a real Prometheus over a time
 * range, with the variables substituted as Grafana would, drawn by Vega-Lite into one SVG.
 */

export interface SnapshotOptions {
  prometheusUrl: string;
  namespace: string;
  model: string;
  /** A version regex, as the dashboard's "All" sends it. */
  version?: string;
  /** The range shown, ending now. */
  rangeSeconds?: number;
  now?: Date;
}

export interface PanelData {
  title: string;
  unit: string;
  points: { series: string; time: number; value: number }[];
  /** Each query's legend and how many points it returned: a panel with data can hide an empty query. */
  queries: { legend: string; points: number }[];
}

/** Points across the range: Grafana's default resolution for a panel is about this many. */
const POINTS = 240;
const QUERY_RETRY = { attempts: 3, baseMs: 200, maxMs: 2_000, timeoutMs: 10_000 };

class PrometheusError extends Error {
  override name = "PrometheusError";
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

/** The dashboard's variables as Grafana substitutes them; $__rate_interval is four steps, at least 1m. */
export function substitute(expr: string, o: SnapshotOptions, stepSeconds: number): string {
  const rateInterval = `${Math.max(60, 4 * stepSeconds)}s`;
  return expr
    .replaceAll("$namespace", o.namespace)
    .replaceAll("$model", o.model)
    .replaceAll("$version", o.version ?? ".*")
    .replaceAll("$__rate_interval", rateInterval);
}

/** A legend format ("{{track}} {{version}}") filled from a series' labels. */
const legendOf = (format: string, labels: Record<string, string>) =>
  format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? "");

/** A GET of Prometheus's HTTP API: its data, retried on 429, 5xx and network errors. */
async function prometheusGet<T>(
  url: string,
  path: string,
  params: URLSearchParams,
  what: string,
): Promise<T> {
  return await retrying(
    async (signal) => {
      const res = await fetch(`${url}${path}?${params}`, signal ? { signal } : {});
      const body = (await res.json().catch(() => ({}))) as { status?: string; error?: string; data?: T };
      if (res.ok && body.status === "success" && body.data !== undefined) return body.data;
      throw new PrometheusError(
        `Prometheus refused ${what}: HTTP ${res.status} ${body.error ?? ""}`.trim(),
        res.status === 429 || res.status >= 500,
      );
    },
    { policy: QUERY_RETRY, retryable: (err) => !(err instanceof PrometheusError) || err.retryable },
  );
}

async function queryRange(
  url: string,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const params = new URLSearchParams({
    query: expr,
    start: String(start),
    end: String(end),
    step: String(step),
  });
  const data = await prometheusGet<{
    result: { metric: Record<string, string>; values: [number, string][] }[];
  }>(url, "/api/v1/query_range", params, expr);
  return data.result;
}

/**
 * The values Grafana offers for a `label_values(selector, label)` variable over the range, asked
 * as Grafana asks Prometheus (the label values API matching the selector, earlier variables
 * substituted).
 */
export async function variableValues(o: SnapshotOptions, query: string): Promise<string[]> {
  const parsed = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
  if (!parsed) throw new Error(`not a label_values() variable: ${query}`);
  const [, selector = "", label = ""] = parsed;
  const end = Math.floor((o.now ?? new Date()).getTime() / 1000);
  const params = new URLSearchParams({
    "match[]": substitute(selector, o, 60),
    start: String(end - (o.rangeSeconds ?? 3600)),
    end: String(end),
  });
  return await prometheusGet<string[]>(o.prometheusUrl, `/api/v1/label/${label}/values`, params, query);
}

async function panelData(spec: PanelSpec, o: SnapshotOptions, start: number, end: number, step: number) {
  const points: PanelData["points"] = [];
  const queries: PanelData["queries"] = [];
  for (const q of spec.queries) {
    const before = points.length;
    const result = await queryRange(o.prometheusUrl, substitute(q.expr, o, step), start, end, step);
    for (const series of result) {
      const name = legendOf(q.legend, series.metric) || q.legend;
      for (const [time, value] of series.values) {
        const v = Number(value);
        if (Number.isFinite(v)) points.push({ series: name, time: time * 1000, value: v });
      }
    }
    queries.push({ legend: q.legend, points: points.length - before });
  }
  return { title: spec.title, unit: spec.unit, points, queries };
}

/** Every panel's data over the range, in dashboard order. */
export async function snapshotData(o: SnapshotOptions): Promise<PanelData[]> {
  const end = Math.floor((o.now ?? new Date()).getTime() / 1000);
  const range = o.rangeSeconds ?? 3600;
  const step = Math.max(1, Math.round(range / POINTS));
  const panels: PanelData[] = [];
  for (const row of ROWS) {
    for (const spec of row.panels) panels.push(await panelData(spec, o, end - range, end, step));
  }
  return panels;
}

function chart(panel: PanelData) {
  const title = `${panel.title} (${panel.unit})`;
  if (panel.points.length === 0) {
    return {
      title,
      width: 300,
      height: 140,
      data: { values: [{ text: "no data" }] },
      mark: { type: "text", fontSize: 14, color: "gray" },
      encoding: { text: { field: "text" } },
    };
  }
  return {
    title,
    width: 300,
    height: 140,
    data: { values: panel.points },
    mark: { type: "line", interpolate: "linear" },
    encoding: {
      x: { field: "time", type: "temporal", title: null },
      y: { field: "value", type: "quantitative", title: null },
      color: { field: "series", type: "nominal", legend: { orient: "bottom", title: null, columns: 2 } },
    },
  };
}

/** The panels as one SVG: three charts a row, in dashboard order. */
export async function renderSnapshot(panels: PanelData[], heading: string): Promise<string> {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: heading,
    columns: 3,
    concat: panels.map(chart),
    config: { font: "sans-serif" },
  } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return await view.toSVG();
}

/** Queries the real Prometheus and renders the model's dashboard into an SVG. */
export async function snapshot(o: SnapshotOptions): Promise<{ svg: string; panels: PanelData[] }> {
  const panels = await snapshotData(o);
  const heading = `TradingModel ${o.namespace}/${o.model} (version ${o.version ?? "all"}), last ${Math.round((o.rangeSeconds ?? 3600) / 60)} min`;
  return { svg: await renderSnapshot(panels, heading), panels };
}
