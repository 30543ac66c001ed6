// Prometheus's HTTP API for assertions: instant queries and the active targets.
import { e2eContext } from "./context.ts";

const TIMEOUT_MS = 10_000;

export type Sample = { metric: Record<string, string>; value: [number, string] };
export type Target = {
  labels: Record<string, string>;
  health: "up" | "down" | "unknown";
  lastScrape: string;
  lastError: string;
};

function baseUrl(): string {
  const url = e2eContext().prometheusUrl;
  if (!url) throw new Error("no Prometheus for this cluster: set E2E_PROMETHEUS_URL");
  return url;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${baseUrl()}${path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
  return body.data;
}

export async function query(expr: string): Promise<Sample[]> {
  const data = await api<{ resultType: string; result: Sample[] }>(
    `/api/v1/query?query=${encodeURIComponent(expr)}`,
  );
  return data.result;
}

/** The raw samples of one series over the last `range` (e.g. "5m"), oldest first: [unix seconds, value]. */
export async function rawSamples(selector: string, range: string): Promise<[number, string][]> {
  const data = await api<{ result: { values: [number, string][] }[] }>(
    `/api/v1/query?query=${encodeURIComponent(`${selector}[${range}]`)}`,
  );
  return data.result[0]?.values ?? [];
}

export async function activeTargets(): Promise<Target[]> {
  return (await api<{ activeTargets: Target[] }>("/api/v1/targets?state=active")).activeTargets;
}

export type RuleGroup = {
  name: string;
  file: string;
  rules: { name: string; health: string; lastError?: string }[];
};

export async function ruleGroups(): Promise<RuleGroup[]> {
  return (await api<{ groups: RuleGroup[] }>("/api/v1/rules")).groups;
}
