import { parseArgs } from "node:util";
import { FIELD_MANAGER } from "../manifests/names.ts";

export interface OperatorOptions {
  /** Watch one namespace; all namespaces when undefined. */
  namespace?: string;
  workers: number;
  predictorImage: string;
  operatorImage: string;
  fieldManager: string;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  identity?: string;
  trainingJobTtlSeconds: number;
  resyncPeriodSeconds: number;
  apiTimeoutMs: number;
  prometheusUrl?: string;
  kubeconfig?: string;
  logLevel: string;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

interface OptionSpec {
  env: string;
  kind: "string" | "integer" | "boolean";
  default?: string;
  help: string;
  min?: number;
  max?: number;
}

/** Every flag, the environment variable it falls back to, and its default. A flag wins over its variable. */
export const OPTIONS = {
  namespace: {
    env: "WATCH_NAMESPACE",
    kind: "string",
    help: "watch only this namespace (default: all namespaces)",
  },
  workers: { env: "WORKERS", kind: "integer", default: "2", min: 1, max: 64, help: "concurrent reconciles" },
  "predictor-image": {
    env: "PREDICTOR_IMAGE",
    kind: "string",
    default: "tradingmodel/predictor:0.1.0",
    help: "image of training Jobs and predictor pods",
  },
  "operator-image": {
    env: "OPERATOR_IMAGE",
    kind: "string",
    default: "tradingmodel/operator:0.1.0",
    help: "image of the artifact publisher in training Jobs (this operator's own image)",
  },
  "field-manager": {
    env: "FIELD_MANAGER",
    kind: "string",
    default: FIELD_MANAGER,
    help: "server-side apply field manager",
  },
  "metrics-host": {
    env: "METRICS_HOST",
    kind: "string",
    default: "0.0.0.0",
    help: "address of /metrics, /healthz, /readyz",
  },
  "metrics-port": {
    env: "METRICS_PORT",
    kind: "integer",
    default: "8081",
    min: 0,
    max: 65535,
    help: "their port",
  },
  "leader-elect": {
    env: "LEADER_ELECT",
    kind: "boolean",
    default: "true",
    help: "elect a leader through a Lease",
  },
  "leader-election-namespace": {
    env: "POD_NAMESPACE",
    kind: "string",
    help: "namespace of the Lease (default: the pod's namespace, else the watched one, else default)",
  },
  "leader-election-id": {
    env: "LEADER_ELECTION_ID",
    kind: "string",
    default: "tradingmodel-operator",
    help: "name of the Lease",
  },
  identity: {
    env: "POD_NAME",
    kind: "string",
    help: "this replica's identity in the Lease (default: hostname and a random suffix)",
  },
  "training-job-ttl-seconds": {
    env: "TRAINING_JOB_TTL_SECONDS",
    kind: "integer",
    default: "3600",
    min: 0,
    max: 2_592_000,
    help: "how long finished training Jobs stay",
  },
  "resync-period-seconds": {
    env: "RESYNC_PERIOD_SECONDS",
    kind: "integer",
    default: "300",
    min: 10,
    max: 86_400,
    help: "reconcile every model at least this often",
  },
  "api-timeout-ms": {
    env: "API_TIMEOUT_MS",
    kind: "integer",
    default: "10000",
    min: 100,
    max: 120_000,
    help: "timeout of one apiserver request",
  },
  "prometheus-url": {
    env: "PROMETHEUS_URL",
    kind: "string",
    help: "Prometheus the rollout analysis queries, e.g. http://prometheus.monitoring:9090 (without it, every measurement is 'no data')",
  },
  kubeconfig: {
    env: "KUBECONFIG",
    kind: "string",
    help: "kubeconfig file (default: in-cluster config, else ~/.kube/config)",
  },
  "log-level": { env: "LOG_LEVEL", kind: "string", default: "info", help: "pino level" },
} as const satisfies Record<string, OptionSpec>;

type Name = keyof typeof OPTIONS;

function value(name: Name, spec: OptionSpec, raw: string): string | number | boolean {
  if (spec.kind === "string") {
    if (raw === "") throw new OptionsError(`--${name} (${spec.env}) must not be empty`);
    return raw;
  }
  if (spec.kind === "boolean") {
    if (raw === "true" || raw === "false") return raw === "true";
    throw new OptionsError(`--${name} (${spec.env})="${raw}" is invalid: want true or false`);
  }
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < (spec.min ?? 0) || n > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
    throw new OptionsError(
      `--${name} (${spec.env})="${raw}" is invalid: want an integer from ${spec.min ?? 0} to ${spec.max}`,
    );
  }
  return n;
}

export const usage = () =>
  [
    "usage: operator [flags]           run the controller",
    "       operator publish-artifact  (run by training Jobs)",
    "",
    ...Object.entries(OPTIONS).map(
      ([name, spec]: [string, OptionSpec]) =>
        `  --${name.padEnd(26)} ${spec.env.padEnd(24)} ${spec.help}${spec.default === undefined ? "" : ` (default ${spec.default})`}`,
    ),
  ].join("\n");

/** Flags, then environment variables, then defaults; every bad value names its flag and variable. */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): OperatorOptions {
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const out: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [Name, OptionSpec][]) {
    // An empty variable counts as unset (a chart renders WATCH_NAMESPACE="" for all namespaces).
    const fromEnv = env[spec.env] === "" ? undefined : env[spec.env];
    const raw = (parsed[name] as string | undefined) ?? fromEnv ?? spec.default;
    if (raw !== undefined) out[name] = value(name, spec, raw);
  }
  const opt = <T>(name: Name) => out[name] as T;
  return {
    ...(out.namespace === undefined ? {} : { namespace: opt<string>("namespace") }),
    workers: opt("workers"),
    predictorImage: opt("predictor-image"),
    operatorImage: opt("operator-image"),
    fieldManager: opt("field-manager"),
    metricsHost: opt("metrics-host"),
    metricsPort: opt("metrics-port"),
    leaderElect: opt("leader-elect"),
    ...(out["leader-election-namespace"] === undefined
      ? {}
      : { leaderElectionNamespace: opt<string>("leader-election-namespace") }),
    leaderElectionId: opt("leader-election-id"),
    ...(out.identity === undefined ? {} : { identity: opt<string>("identity") }),
    trainingJobTtlSeconds: opt("training-job-ttl-seconds"),
    resyncPeriodSeconds: opt("resync-period-seconds"),
    apiTimeoutMs: opt("api-timeout-ms"),
    ...(out["prometheus-url"] === undefined ? {} : { prometheusUrl: opt<string>("prometheus-url") }),
    ...(out.kubeconfig === undefined ? {} : { kubeconfig: opt<string>("kubeconfig") }),
    logLevel: opt("log-level"),
  };
}
