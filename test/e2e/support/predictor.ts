// The predictor as the platform tests deploy it: an artifact trained once per run by the real
// `predictor train`, stored in a ConfigMap, served by a Deployment of `tradingmodel/predictor:dev`
// behind a Service.
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { apply } from "./kubectl.ts";
import { isReady, pods } from "./pods.ts";
import { waitFor } from "./wait.ts";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../../..");

export const PREDICTOR_IMAGE = "tradingmodel/predictor:dev";
export const PREDICTOR_PORT = 8080;
export const FEATURES = ["ret_1", "ret_5", "vol_20"];

/** The trainer's spec: small enough to train in about a second. */
export const TRAIN_SPEC = {
  features: FEATURES,
  target: { horizon: 1 },
  algorithm: { type: "ridge", alpha: 1 },
  training: { data: { synthetic: { seed: 1, bars: 5000 } } },
};

let artifact: Promise<string> | undefined;

/** The artifact JSON, trained on first use. */
export function trainedArtifact(): Promise<string> {
  artifact ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "e2e-artifact-"));
    const out = join(dir, "artifact.json");
    const cli = join(repoRoot, "predictor/src/cli.ts");
    await run(process.execPath, [cli, "train", "--spec", JSON.stringify(TRAIN_SPEC), "--out", out], {
      timeout: 120_000,
      // Not the host's /dev/termination-log: while a cluster runs, that path is the node agent's
      // mount point, and the trainer would write there as it does in a pod.
      env: { ...process.env, TERMINATION_LOG: join(dir, "termination-log") },
    });
    return await readFile(out, "utf8");
  })();
  return artifact;
}

export type PredictorOptions = {
  namespace: string;
  name: string;
  replicas: number;
  /** Extra container env, e.g. SHUTDOWN_DELAY_MS. */
  env?: Record<string, string>;
  terminationGracePeriodSeconds?: number;
};

export function artifactConfigMap(namespace: string, name: string, artifactJson: string): object {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace, name },
    data: { "artifact.json": artifactJson },
  };
}

/** Deployment + Service; pods carry the model's labels and the prometheus.io annotations. */
export function predictorManifests(o: PredictorOptions): object[] {
  const labels = {
    app: o.name,
    "trading.mlops.dev/model": o.name,
    "trading.mlops.dev/version": "v1",
    "trading.mlops.dev/track": "stable",
  };
  const env = {
    MODEL_NAME: o.name,
    MODEL_VERSION: "v1",
    MODEL_TRACK: "stable",
    ARTIFACT_PATH: "/model/artifact.json",
    PORT: String(PREDICTOR_PORT),
    ...o.env,
  };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: o.namespace, name: o.name, labels },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { app: o.name } },
      template: {
        metadata: {
          labels,
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(PREDICTOR_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? 30,
          containers: [
            {
              name: "predictor",
              image: PREDICTOR_IMAGE,
              args: ["serve"],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
              ports: [{ name: "http", containerPort: PREDICTOR_PORT }],
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 1,
                failureThreshold: 1,
              },
              livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
              volumeMounts: [{ name: "model", mountPath: "/model", readOnly: true }],
            },
          ],
          volumes: [{ name: "model", configMap: { name: `${o.name}-artifact` } }],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: o.namespace, name: o.name },
    spec: { selector: { app: o.name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
  return [deployment, service];
}

/** A valid prediction request for the artifact's features. */
export function predictBody(): string {
  return JSON.stringify({ features: Object.fromEntries(FEATURES.map((f, i) => [f, 0.001 * (i + 1)])) });
}

/** Applies the artifact ConfigMap, Deployment and Service, and waits for `replicas` ready pods. */
export async function deployPredictor(o: PredictorOptions): Promise<void> {
  await apply(
    artifactConfigMap(o.namespace, `${o.name}-artifact`, await trainedArtifact()),
    ...predictorManifests(o),
  );
  await waitForReadyPods(o.namespace, `app=${o.name}`, o.replicas);
}

/** Waits until exactly `count` pods of the selector are ready and none other is left. */
export async function waitForReadyPods(
  namespace: string,
  selector: string,
  count: number,
  timeoutMs = 120_000,
) {
  return await waitFor(
    `${count} ready pods of ${selector} in ${namespace}`,
    async () => {
      const all = await pods(namespace, selector);
      const ready = all.filter(isReady);
      return ready.length === count && all.length === count ? ready : undefined;
    },
    { timeoutMs },
  );
}
