import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type RetryPolicy, retrying } from "../backoff.ts";
import { boundsError, SPEC_BOUNDS } from "../bounds.ts";
import { unknownFields } from "../problems.ts";
import { CsvBarParser, type RawBars } from "./csv.ts";
import { generateBars, type SyntheticOptions, validateSyntheticOptions } from "./synthetic.ts";
import { rawFromColumns } from "./validate.ts";

/**
 * Where training bars come from: the seeded generator, a CSV over HTTP(S), or a CSV file (a
 * mounted ConfigMap is a file). The data's sha256 is of the bytes read for CSV sources (what
 * `sha256sum` prints for the file), and of the generated columns (ts, open, high, low, close, volume,
 * each as little-endian float64) for synthetic data.
 */

export interface UrlSource {
  url: string;
  /** Per-attempt timeout covering connect, headers and body; default 30 s. */
  timeoutMs?: number;
  /** Attempts after the first; default 3. */
  retries?: number;
}
export type DataSourceSpec = { synthetic: SyntheticOptions } | UrlSource | { path: string };

/** The source could not be read (after retries where they apply); it may come back. */
export class DataSourceError extends Error {
  override name = "DataSourceError";
}

/**
 * The data source names nothing the trainer may read: a path that is no readable file (a wrong
 * path, or a ConfigMap key that is not there), or a URL its server refuses for good (4xx but 408
 * and 429: not found, forbidden, ...). A mistake in the spec, not an outage: it fails the same way
 * on every retry, so it exits as bad input rather than as an unavailable source.
 */
export class WrongDataSourceError extends Error {
  override name = "WrongDataSourceError";
}

/** Errors that say the path is wrong rather than that reading it failed for now. */
const WRONG_PATH: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory, not a file",
  EACCES: "permission denied",
};

export interface LoadedData {
  raw: RawBars;
  sha256: string;
  /** Human-readable name of the source for messages, e.g. `url http://host/bars.csv`. */
  source: string;
}

/** A URL source's retry policy; the spec's `timeoutMs` and `retries` override it. */
export type DataRetryPolicy = RetryPolicy & { timeoutMs: number };

export const DEFAULT_RETRY: DataRetryPolicy = {
  timeoutMs: 30_000,
  attempts: 4,
  baseMs: 500,
  maxMs: 10_000,
};

export function describeSource(spec: DataSourceSpec): string {
  if ("synthetic" in spec) return `synthetic seed ${spec.synthetic.seed}`;
  if ("url" in spec) return `url ${spec.url}`;
  return `path ${spec.path}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Field errors for a data source spec; empty when valid. */
export function validateSourceSpec(value: unknown, field: string): string[] {
  if (!isObject(value)) return [`${field}: must be an object with one of synthetic, url, path`];
  const kinds = ["synthetic", "url", "path"].filter((k) => k in value);
  if (kinds.length !== 1) return [`${field}: must have exactly one of synthetic, url, path`];
  if ("synthetic" in value) {
    const unknown = unknownFields(value, ["synthetic"], field);
    if (!isObject(value.synthetic)) return [...unknown, `${field}.synthetic: must be an object`];
    return [
      ...unknown,
      ...validateSyntheticOptions(value.synthetic as unknown as SyntheticOptions, `${field}.synthetic`),
    ];
  }
  if ("path" in value) {
    const unknown = unknownFields(value, ["path"], field);
    return typeof value.path === "string" && value.path !== ""
      ? unknown
      : [...unknown, `${field}.path: must be a non-empty string`];
  }
  const errors = unknownFields(value, ["url", "timeoutMs", "retries"], field);
  if (typeof value.url !== "string" || !/^https?:\/\/./i.test(value.url) || !URL.canParse(value.url)) {
    errors.push(`${field}.url: must be an http:// or https:// URL`);
  }
  for (const name of ["timeoutMs", "retries"] as const) {
    const error =
      value[name] === undefined
        ? undefined
        : boundsError(`${field}.${name}`, value[name], SPEC_BOUNDS[`training.data.${name}`]);
    if (error) errors.push(error);
  }
  return errors;
}

async function fetchCsvOnce(url: string, signal: AbortSignal | undefined): Promise<LoadedData> {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    const message = `HTTP ${response.status} ${response.statusText}`.trim();
    await response.body?.cancel();
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    if (!transient) {
      throw new WrongDataSourceError(
        `data source url ${url} answered ${message}: check the URL and its access`,
      );
    }
    throw new Error(message);
  }
  const parser = new CsvBarParser();
  const hash = createHash("sha256");
  if (response.body) {
    for await (const chunk of response.body) {
      parser.push(chunk);
      hash.update(chunk);
    }
  }
  return { raw: parser.finish(), sha256: hash.digest("hex"), source: `url ${url}` };
}

function errorText(err: unknown): string {
  const e = err as Error & { cause?: Error };
  if (e.name === "TimeoutError") return "timed out";
  return e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
}

async function fetchCsv(
  spec: UrlSource,
  policy: DataRetryPolicy,
  onRetry: (attempt: number, delayMs: number, error: string) => void,
): Promise<LoadedData> {
  const errors: string[] = [];
  try {
    return await retrying(
      (signal) =>
        fetchCsvOnce(spec.url, signal).catch((err: unknown) => {
          errors.push(errorText(err));
          throw err;
        }),
      {
        policy: {
          ...policy,
          attempts: spec.retries === undefined ? policy.attempts : spec.retries + 1,
          timeoutMs: spec.timeoutMs ?? policy.timeoutMs,
        },
        retryable: (err) => !(err instanceof WrongDataSourceError),
        onRetry: (_err, attempt, delayMs) => onRetry(attempt, delayMs, errors.at(-1) ?? ""),
      },
    );
  } catch (err) {
    if (err instanceof WrongDataSourceError) throw err;
    const tries = `${errors.length} attempt${errors.length === 1 ? "" : "s"}`;
    throw new DataSourceError(
      `data source url ${spec.url} unavailable after ${tries}: ${errors.join("; ")}`,
      {
        cause: err,
      },
    );
  }
}

async function readCsvFile(path: string): Promise<LoadedData> {
  const parser = new CsvBarParser();
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      parser.push(chunk as Buffer);
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === undefined) throw err;
    const wrong = WRONG_PATH[e.code];
    if (wrong) {
      throw new WrongDataSourceError(
        `data source path ${path}: ${wrong} (for a configMapRef source, the path ends in the ConfigMap key)`,
      );
    }
    throw new DataSourceError(`data source path ${path} unreadable: ${e.message}`);
  }
  return { raw: parser.finish(), sha256: hash.digest("hex"), source: `path ${path}` };
}

function syntheticData(opts: SyntheticOptions): LoadedData {
  const columns = generateBars(opts);
  const hash = createHash("sha256");
  for (const a of [columns.ts, columns.open, columns.high, columns.low, columns.close, columns.volume]) {
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return { raw: rawFromColumns(columns), sha256: hash.digest("hex"), source: `synthetic seed ${opts.seed}` };
}

/**
 * Reads the source into raw (not yet validated) bars. Throws WrongDataSourceError when the path names
 * no readable file or the URL's server refuses it, DataSourceError when the source is unavailable.
 */
export async function loadRawBars(
  spec: DataSourceSpec,
  policy: DataRetryPolicy = DEFAULT_RETRY,
  onRetry: (attempt: number, delayMs: number, error: string) => void = () => {},
): Promise<LoadedData> {
  if ("synthetic" in spec) return syntheticData(spec.synthetic);
  if ("url" in spec) return fetchCsv(spec, policy, onRetry);
  return readCsvFile(spec.path);
}
