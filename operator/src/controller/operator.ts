import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { pino } from "pino";
import { PrometheusProvider, unconfiguredMetrics } from "../analysis/prometheus.ts";
import { Controller } from "./controller.ts";
import { EventRecorder } from "./events.ts";
import { Informers } from "./informers.ts";
import { describeError, KubeClient, loadKubeConfig } from "./kube-client.ts";
import { DEFAULT_TIMING, LeaderElector } from "./leader-election.ts";
import { modelSnapshot, OperatorMetrics } from "./metrics.ts";
import { MonitoringApiDiscovery } from "./monitoring-apis.ts";
import { type OperatorOptions, OptionsError } from "./options.ts";
import { type CacheReader, Reconciler } from "./reconciler.ts";
import { startProbeServer } from "./server.ts";

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/** Past this, shutdown gives up waiting for in-flight reconciles (the pod's grace period is 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Starts the controller with its informers, leader election and probe server; resolves once it has stopped. */
export async function runOperator(options: OperatorOptions): Promise<number> {
  const identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const log = pino({ level: options.logLevel, base: { component: "tradingmodel-operator", identity } });
  const kc = loadKubeConfig(options.kubeconfig);
  const metrics = new OperatorMetrics();
  const client = new KubeClient(kc, {
    fieldManager: options.fieldManager,
    timeoutMs: options.apiTimeoutMs,
    retry: { attempts: 4, baseMs: 200, maxMs: 5_000 },
    onRetry: (err, attempt, delayMs) => {
      metrics.errors.inc({ source: "apiserver_retry" });
      log.warn(
        { err: describeError(err), attempt, retryInMs: Math.round(delayMs) },
        "apiserver call failed; retrying",
      );
    },
  });
  let controller: Controller | undefined;
  const informers = new Informers(
    kc,
    client,
    options.namespace,
    {
      onKey: (key) => controller?.enqueue(key),
      onError: () => metrics.errors.inc({ source: "watch" }),
    },
    log,
  );
  metrics.observeModels(() =>
    informers.modelKeys().flatMap((key) => {
      const [namespace = "", name = ""] = key.split("/");
      const model = informers.model(namespace, name);
      return model ? [modelSnapshot(model, informers.namespace(namespace).versions)] : [];
    }),
  );
  const recorder = new EventRecorder(client, {
    controller: "trading.mlops.dev/tradingmodel-operator",
    instance: identity,
    aggregationWindowMs: 10 * 60_000,
    maxRemembered: 4096,
  });
  const monitoringApis = new MonitoringApiDiscovery(
    (group, version) => client.servedResources(group, version),
    log,
  );
  const cache: CacheReader = {
    model: (namespace, name) => informers.model(namespace, name),
    find: (kind, namespace, name) => informers.find(kind, namespace, name),
    namespace: (namespace) => ({ ...informers.namespace(namespace), monitoringApis: monitoringApis.current }),
  };
  const reconciler = new Reconciler(
    cache,
    client,
    recorder,
    {
      images: { predictor: options.predictorImage, operator: options.operatorImage },
      trainingJobTtlSeconds: options.trainingJobTtlSeconds,
      fieldManager: options.fieldManager,
    },
    log,
    options.prometheusUrl ? new PrometheusProvider(options.prometheusUrl) : unconfiguredMetrics,
    metrics,
  );
  controller = new Controller(
    {
      workers: options.workers,
      resyncPeriodMs: options.resyncPeriodSeconds * 1000,
      retry: { baseMs: 1_000, maxMs: 300_000 },
    },
    { reconcile: (key) => reconciler.reconcile(key), allKeys: () => informers.modelKeys(), metrics, log },
  );
  const workers = controller;

  const leaseNamespace =
    options.leaderElectionNamespace ?? inClusterNamespace() ?? options.namespace ?? "default";
  const elector = options.leaderElect
    ? new LeaderElector(
        client.leaseStore(leaseNamespace, options.leaderElectionId),
        identity,
        DEFAULT_TIMING,
        {
          onStartedLeading: () => {
            log.info({ lease: `${leaseNamespace}/${options.leaderElectionId}` }, "started leading");
            metrics.leader.set(1);
            workers.start();
          },
          onStoppedLeading: async () => {
            log.warn("stopped leading");
            metrics.leader.set(0);
            await workers.stop();
          },
          onNewLeader: (holder) => log.info({ leader: holder }, "leader observed"),
          onError: (err) => {
            metrics.errors.inc({ source: "leader_election" });
            log.warn({ err: describeError(err) }, "leader election call failed");
          },
        },
      )
    : undefined;

  let shuttingDown = false;
  const probes = await startProbeServer(options.metricsHost, options.metricsPort, metrics.registry, {
    healthy: () => true,
    ready: () => informers.synced && !shuttingDown,
  }).catch((err: Error) => {
    throw new OptionsError(
      `--metrics-port: cannot listen on ${options.metricsHost}:${options.metricsPort}: ${err.message}`,
    );
  });
  log.info(
    {
      namespace: options.namespace ?? "(all)",
      workers: options.workers,
      metricsPort: probes.port,
      leaderElection: elector ? `${leaseNamespace}/${options.leaderElectionId}` : "off",
    },
    "operator starting",
  );

  const stopped = new Promise<number>((resolve) => {
    const shutdown = async (signal: string) => {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info({ signal }, "shutting down: no new work, finishing reconciles in flight");
      const deadline = setTimeout(() => {
        log.error("shutdown deadline passed; exiting with reconciles still in flight");
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      if (elector) await elector.stop();
      else await workers.stop();
      await informers.stop();
      monitoringApis.stop();
      probes.server.close();
      clearTimeout(deadline);
      log.info("stopped");
      resolve(0);
    };
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
    process.once("SIGINT", () => void shutdown("SIGINT"));
  });

  await Promise.all([informers.start(), monitoringApis.start()]);
  while (!informers.synced && !shuttingDown) await new Promise((r) => setTimeout(r, 100));
  if (!shuttingDown) {
    log.info("caches synced");
    if (elector) elector.start();
    else {
      metrics.leader.set(1);
      workers.start();
    }
  }
  return stopped;
}
