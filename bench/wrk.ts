import { fileURLToPath } from "node:url";

/** The figures of one wrk run, from the JSON line bench/wrk/post.lua prints when the run is over. */
export interface WrkReport {
  requests: number;
  durationS: number;
  requestsPerSecond: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyMs: {
    mean: number;
    stdev: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    p999: number;
  };
}

export interface WrkRun {
  url: string;
  threads: number;
  connections: number;
  durationS: number;
}

export const WRK_SCRIPT = fileURLToPath(new URL("./wrk/post.lua", import.meta.url));
const MARKER = "BENCH_WRK_JSON ";

/** wrk's arguments; `--latency` is not needed: the script reports the percentiles itself. */
export function wrkArgs(run: WrkRun): string[] {
  return [
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    "--timeout",
    "5s",
    "-s",
    WRK_SCRIPT,
    run.url,
  ];
}

function numberAt(obj: Record<string, unknown>, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`wrk report: field '${where}${key}' is missing or not a number`);
  }
  return v;
}

function objectAt(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (!v || typeof v !== "object") throw new Error(`wrk report: field '${key}' is missing`);
  return v as Record<string, unknown>;
}

/** Parses wrk's stdout; throws when the script's report line is missing or malformed. */
export function parseWrkOutput(stdout: string): WrkReport {
  const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
  if (!line) throw new Error(`wrk report: no '${MARKER.trim()}' line in wrk's output:\n${stdout}`);
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(MARKER.length));
  } catch (err) {
    throw new Error(`wrk report: the report line is not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== "object") throw new Error("wrk report: the report line is not an object");
  const r = raw as Record<string, unknown>;
  const e = objectAt(r, "errors");
  const l = objectAt(r, "latencyUs");
  const requests = numberAt(r, "requests", "");
  const durationS = numberAt(r, "durationUs", "") / 1e6;
  if (durationS <= 0) throw new Error("wrk report: field 'durationUs' must be positive");
  const ms = (key: string) => numberAt(l, key, "latencyUs.") / 1000;
  const count = (key: string) => numberAt(e, key, "errors.");
  return {
    requests,
    durationS,
    requestsPerSecond: requests / durationS,
    errors: {
      connect: count("connect"),
      read: count("read"),
      write: count("write"),
      status: count("status"),
      timeout: count("timeout"),
    },
    latencyMs: {
      mean: ms("mean"),
      stdev: ms("stdev"),
      max: ms("max"),
      p50: ms("p50"),
      p90: ms("p90"),
      p99: ms("p99"),
      p999: ms("p999"),
    },
  };
}

/** A run with errors measured the error path, not the server under test: refuse it. */
export function assertCleanRun(report: WrkReport, what: string): void {
  const problems = Object.entries(report.errors)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind === "status" ? "non-2xx/3xx responses" : `${kind} errors`}`);
  if (report.requests === 0) problems.unshift("no request completed");
  if (problems.length > 0) throw new Error(`${what}: wrk run is not clean: ${problems.join(", ")}`);
}
