import { readFileSync, writeFileSync } from "node:fs";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { type ConfigMapStore, PublishError, parsePublishArgs, publishArtifact } from "../publish/publish.ts";
import { describeError, KubeClient, loadKubeConfig } from "./kube-client.ts";

const NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The pod's namespace: POD_NAMESPACE, the mounted token's, else the kubeconfig context's. */
function namespaceOf(kc: KubeConfig, env: NodeJS.ProcessEnv): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(NAMESPACE_FILE, "utf8").trim();
  } catch {
    return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  }
}

/** The two calls the trainer's Role grants, with timeouts and retries; apiserver failures exit 1. */
function configMapStore(client: KubeClient, namespace: string): ConfigMapStore {
  const wrap = async <T>(what: string, call: () => Promise<T>) => {
    try {
      return await call();
    } catch (err) {
      throw new PublishError(1, `${what} ConfigMap in ${namespace} failed: ${describeError(err)}`);
    }
  };
  return {
    create: (configMap) =>
      wrap("creating the", () => client.create(configMap as V1ConfigMap & { kind: string })),
    get: (name) =>
      wrap(`reading the`, () =>
        client.read<V1ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", name, namespace }),
      ),
  };
}

/**
 * `publish-artifact`, as the training Job's second container runs it: the core in
 * `publish/publish.ts` with the in-cluster client. Prints one summary line; on failure the
 * message also goes to the termination log, which the operator shows in the model's condition.
 */
export async function publishArtifactCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const args = parsePublishArgs(argv);
    let text: string;
    try {
      text = readFileSync(args.file, "utf8");
    } catch (err) {
      throw new PublishError(2, `--file ${args.file}: ${(err as Error).message}`);
    }
    const kc = loadKubeConfig(env.KUBECONFIG || undefined, env);
    const namespace = namespaceOf(kc, env);
    const client = new KubeClient(kc, {
      fieldManager: "tradingmodel-artifact-publisher",
      timeoutMs: 10_000,
      retry: { attempts: 5, baseMs: 500, maxMs: 10_000 },
    });
    process.stdout.write(
      `${await publishArtifact(args, text, namespace, configMapStore(client, namespace))}\n`,
    );
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
