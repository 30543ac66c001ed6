import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { artifactConfigMap } from "../manifests/artifact-configmap.ts";
import { ARTIFACT_KEY } from "../manifests/names.ts";
import { describeError, KubeClient } from "./kube-client.ts";

const NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** A failure with the exit code the Job's pod reports: 2 bad input, 1 the apiserver failed us. */
class PublishError extends Error {
  override name = "PublishError";
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

function namespaceOf(kc: KubeConfig, env: NodeJS.ProcessEnv): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(NAMESPACE_FILE, "utf8").trim();
  } catch {
    const context = kc.getContextObject(kc.getCurrentContext());
    return context?.namespace ?? "default";
  }
}

async function publish(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        file: { type: "string" },
        configmap: { type: "string" },
        model: { type: "string" },
        "model-uid": { type: "string" },
        version: { type: "string" },
      },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new PublishError((err as Error).message, 2);
  }
  for (const name of ["file", "configmap", "model", "model-uid", "version"]) {
    if (!values[name]) throw new PublishError(`--${name} is required`, 2);
  }
  const version = Number(values.version);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new PublishError(`--version="${values.version}" is invalid: want an integer >= 1`, 2);
  }
  let text: string;
  try {
    text = readFileSync(values.file ?? "", "utf8");
  } catch (err) {
    throw new PublishError(`cannot read --file ${values.file}: ${(err as Error).message}`, 2);
  }
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const namespace = namespaceOf(kc, env);
  let configMap: V1ConfigMap;
  try {
    configMap = artifactConfigMap({
      model: { name: values.model ?? "", namespace, uid: values["model-uid"] ?? "" },
      version,
      artifactText: text,
    });
  } catch (err) {
    throw new PublishError((err as Error).message, 2);
  }
  if (configMap.metadata?.name !== values.configmap) {
    throw new PublishError(
      `--configmap ${values.configmap} does not match the artifact's ConfigMap name ${configMap.metadata?.name}`,
      2,
    );
  }
  const client = new KubeClient(kc, {
    fieldManager: "tradingmodel-artifact-publisher",
    timeoutMs: 10_000,
    retry: { attempts: 5, baseMs: 500, maxMs: 10_000 },
  });
  const ref = { apiVersion: "v1", kind: "ConfigMap", name: values.configmap ?? "", namespace };
  try {
    if ((await client.create(configMap as never)) === "exists") {
      // An earlier attempt of this Job may have stored it before failing: the same bytes are success.
      const stored = await client.read<V1ConfigMap>(ref);
      if (stored?.data?.[ARTIFACT_KEY] !== text) {
        throw new PublishError(`ConfigMap ${namespace}/${ref.name} already exists with another artifact`, 1);
      }
    }
  } catch (err) {
    if (err instanceof PublishError) throw err;
    throw new PublishError(`storing ConfigMap ${namespace}/${ref.name} failed: ${describeError(err)}`, 1);
  }
  return JSON.stringify({
    status: "ok",
    configMap: `${namespace}/${ref.name}`,
    sha256: configMap.metadata?.annotations?.["trading.mlops.dev/artifact-sha256"],
    bytes: Buffer.byteLength(text, "utf8"),
  });
}

/**
 * `publish-artifact`: the training Job's second container stores the artifact the trainer wrote
 * as the version's immutable ConfigMap. Prints one summary line; on failure the message also goes
 * to the termination log, which the operator shows in the model's condition.
 */
export async function publishArtifactCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    process.stdout.write(`${await publish(argv, env)}\n`);
    return 0;
  } catch (err) {
    const code = err instanceof PublishError ? err.exitCode : 1;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`publish-artifact: ${message}\n`);
    try {
      writeFileSync(env.TERMINATION_LOG ?? "/dev/termination-log", message);
    } catch {
      // No termination log outside a pod: stderr carries the message.
    }
    return code;
  }
}
