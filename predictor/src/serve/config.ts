import { parseArgs } from "node:util";

/** Everything `predictor serve` is told from outside. The operator sets the environment; flags win. */
export interface ServeConfig {
  modelName: string;
  modelVersion: string;
  modelTrack: string;
  artifactPath: string;
  /** The sha256 the operator registered for this version; the artifact must hash to it. */
  artifactSha256: string | undefined;
  port: number;
  host: string;
  batchLimit: number;
  bodyLimitBytes: number;
  feedbackCacheSize: number;
  feedbackTtlMs: number;
  psiWindow: number;
  shadowUrl: string | undefined;
  shadowQueue: number;
  shadowQueueBytes: number;
  shadowConcurrency: number;
  shadowTimeoutMs: number;
  shadowRetries: number;
  shutdownDelayMs: number;
  shutdownDeadlineMs: number;
  chaosLatencyMs: number;
  chaosErrorFraction: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Parse<T> = (raw: string, variable: string) => T;

/** A default value, or whether the setting may be left out (only settings typed `| undefined`). */
type Fallback<T> = { value: T } | "required" | "optional";

interface Setting<K extends keyof ServeConfig> {
  key: K;
  env: string;
  parse: Parse<ServeConfig[K]>;
  fallback: Fallback<ServeConfig[K]>;
  help: string;
}

function fail(variable: string, raw: string, want: string): never {
  throw new ConfigError(`${variable}=${JSON.stringify(raw)} is invalid: want ${want}`);
}

function integer(min: number, max: number): Parse<number> {
  return (raw, variable) => {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      fail(variable, raw, `an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function fraction(raw: string, variable: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) fail(variable, raw, "a number from 0 to 1");
  return n;
}

function matching(pattern: RegExp, want: string): Parse<string> {
  return (raw, variable) => (pattern.test(raw) ? raw : fail(variable, raw, want));
}

/** Name, version and track become Prometheus label values and Kubernetes label values. */
const labelValue = matching(
  /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  "a Kubernetes label value (1-63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)",
);
const dnsLabel = matching(
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  "a DNS label such as stable, canary or shadow",
);
const nonEmpty = matching(/\S/, "a non-empty value");
const sha256 = matching(/^[0-9a-f]{64}$/, "64 lowercase hex digits");
const logLevel = matching(
  /^(fatal|error|warn|info|debug|trace|silent)$/,
  "fatal|error|warn|info|debug|trace|silent",
);

function httpUrl(raw: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(variable, raw, "an absolute http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail(variable, raw, "an absolute http:// or https:// URL");
  }
  // The config is logged at start: a URL with credentials is refused without echoing it.
  if (url.username || url.password) throw new ConfigError(`${variable} must not carry credentials`);
  if (url.search || url.hash)
    fail(variable, raw, "a base URL without query or fragment (paths are appended)");
  return raw.replace(/\/+$/, "");
}

const MiB = 1024 * 1024;

/** The table behind the config, the README section and `predictor serve --help`. */
export const SETTINGS: readonly Setting<keyof ServeConfig>[] = [
  setting("modelName", "MODEL_NAME", labelValue, "required", "model name, a label on every metric"),
  setting("modelVersion", "MODEL_VERSION", labelValue, "required", "model version, a label on every metric"),
  setting(
    "modelTrack",
    "MODEL_TRACK",
    dnsLabel,
    "stable",
    "stable, canary, shadow, ...: a label on every metric",
  ),
  setting(
    "artifactPath",
    "ARTIFACT_PATH",
    nonEmpty,
    "required",
    "path of the artifact `predictor train` wrote",
  ),
  setting("artifactSha256", "ARTIFACT_SHA256", sha256, "optional", "expected artifact sha256"),
  setting("port", "PORT", integer(0, 65535), 8080, "listen port (0 picks a free one)"),
  setting("host", "HOST", nonEmpty, "0.0.0.0", "listen address"),
  setting("batchLimit", "BATCH_LIMIT", integer(1, 100_000), 1000, "most rows in one batch request"),
  setting("bodyLimitBytes", "BODY_LIMIT_BYTES", integer(1024, 256 * MiB), 4 * MiB, "largest request body"),
  setting("feedbackCacheSize", "FEEDBACK_CACHE_SIZE", integer(1, 10_000_000), 100_000, "predictions kept"),
  setting(
    "feedbackTtlMs",
    "FEEDBACK_TTL_MS",
    integer(1, 30 * 86_400_000),
    3_600_000,
    "how long they are kept",
  ),
  setting("psiWindow", "PSI_WINDOW", integer(10, 1_000_000), 1000, "recent rows PSI is computed over"),
  setting("shadowUrl", "SHADOW_URL", httpUrl, "optional", "base URL of the shadow predictor"),
  setting("shadowQueue", "SHADOW_QUEUE", integer(1, 1_000_000), 1000, "mirror requests waiting at most"),
  setting(
    "shadowQueueBytes",
    "SHADOW_QUEUE_BYTES",
    integer(1024, 4096 * MiB),
    32 * MiB,
    "their bodies' bytes at most",
  ),
  setting(
    "shadowConcurrency",
    "SHADOW_CONCURRENCY",
    integer(1, 1000),
    8,
    "mirror requests in flight at most",
  ),
  setting("shadowTimeoutMs", "SHADOW_TIMEOUT_MS", integer(1, 60_000), 1000, "timeout of one mirror call"),
  setting("shadowRetries", "SHADOW_RETRIES", integer(0, 5), 1, "retries of a failed mirror call"),
  setting("shutdownDelayMs", "SHUTDOWN_DELAY_MS", integer(0, 600_000), 0, "serve on after turning unready"),
  setting("shutdownDeadlineMs", "SHUTDOWN_DEADLINE_MS", integer(0, 600_000), 20_000, "drain deadline"),
  setting("chaosLatencyMs", "CHAOS_LATENCY_MS", integer(0, 600_000), 0, "chaos: latency added to /v1 calls"),
  setting("chaosErrorFraction", "CHAOS_ERROR_FRACTION", fraction, 0, "chaos: share of /v1 calls failing 503"),
  setting("logLevel", "LOG_LEVEL", logLevel, "info", "pino log level"),
];

function setting<K extends keyof ServeConfig>(
  key: K,
  env: string,
  parse: Parse<ServeConfig[K]>,
  fallback: Fallback<ServeConfig[K]> | ServeConfig[K],
  help: string,
): Setting<keyof ServeConfig> {
  const normalized = fallback === "required" || fallback === "optional" ? fallback : { value: fallback };
  return { key, env, parse, fallback: normalized, help } as unknown as Setting<keyof ServeConfig>;
}

/** `ARTIFACT_PATH` is also `--artifact-path`. */
export function flagName(env: string): string {
  return env.toLowerCase().replaceAll("_", "-");
}

/**
 * Reads the config from the environment and command-line flags (flags override). Throws
 * ConfigError naming the variable or flag at fault.
 */
export function parseServeConfig(
  env: Record<string, string | undefined>,
  argv: readonly string[],
): ServeConfig {
  const options: Record<string, { type: "string" }> = {};
  for (const s of SETTINGS) options[flagName(s.env)] = { type: "string" };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const config: Partial<Record<keyof ServeConfig, unknown>> = {};
  for (const s of SETTINGS) {
    const flag = flags[flagName(s.env)];
    const [raw, source] = typeof flag === "string" ? [flag, `--${flagName(s.env)}`] : [env[s.env], s.env];
    if (raw !== undefined && raw !== "") config[s.key] = s.parse(raw, source);
    else if (typeof s.fallback === "object") config[s.key] = s.fallback.value;
    else if (s.fallback === "required") {
      throw new ConfigError(`${s.env} is required (or --${flagName(s.env)}): ${s.help}`);
    }
  }
  return config as ServeConfig;
}
