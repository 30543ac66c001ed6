import { parseArgs } from "node:util";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { ArtifactError } from "../../../predictor/src/artifact.ts";
import { ArtifactTooLargeError, artifactConfigMap } from "../manifests/artifact-configmap.ts";

/**
 * `publish-artifact`: the training Job's second container. It stores the artifact the trainer
 * wrote as the version's immutable ConfigMap. Retried pods make it run more than once for one
 * version, so storing the same artifact again succeeds and only a different one is an error.
 */

export const PUBLISH_USAGE =
  "usage: publish-artifact --file <artifact.json> --configmap <name> --model <name> --model-uid <uid> --version <n>";

/** Exit codes, as `predictor train` uses them: 2 bad input, 1 anything else. */
export class PublishError extends Error {
  override name = "PublishError";
  readonly exitCode: 1 | 2;
  constructor(exitCode: 1 | 2, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface PublishArgs {
  file: string;
  configMap: string;
  model: string;
  modelUid: string;
  version: number;
}

export function parsePublishArgs(argv: string[]): PublishArgs {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: "string" },
        configmap: { type: "string" },
        model: { type: "string" },
        "model-uid": { type: "string" },
        version: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new PublishError(2, `${(err as Error).message}\n${PUBLISH_USAGE}`);
  }
  const missing = ["file", "configmap", "model", "model-uid", "version"].filter((k) => !values[k]);
  if (missing.length > 0) {
    throw new PublishError(2, `missing ${missing.map((k) => `--${k}`).join(", ")}\n${PUBLISH_USAGE}`);
  }
  const version = Number(values.version);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new PublishError(2, `--version ${values.version}: must be an integer >= 1`);
  }
  return {
    file: values.file as string,
    configMap: values.configmap as string,
    model: values.model as string,
    modelUid: values["model-uid"] as string,
    version,
  };
}

/** The two calls publishing needs, exactly what the trainer's Role grants. */
export interface ConfigMapStore {
  /** Resolves "exists" on 409 AlreadyExists. */
  create(configMap: V1ConfigMap): Promise<"created" | "exists">;
  get(name: string): Promise<V1ConfigMap | undefined>;
}

const SHA_ANNOTATION = "trading.mlops.dev/artifact-sha256";

/** Stores the artifact; returns the one-line JSON summary the container prints. */
export async function publishArtifact(
  args: PublishArgs,
  artifactText: string,
  namespace: string,
  store: ConfigMapStore,
): Promise<string> {
  let configMap: V1ConfigMap;
  try {
    configMap = artifactConfigMap({
      model: { name: args.model, namespace, uid: args.modelUid },
      version: args.version,
      artifactText,
    });
  } catch (err) {
    if (err instanceof ArtifactTooLargeError || err instanceof ArtifactError)
      throw new PublishError(2, err.message);
    throw err;
  }
  const name = configMap.metadata?.name ?? "";
  if (name !== args.configMap) {
    throw new PublishError(
      2,
      `--configmap ${args.configMap} is not v${args.version}'s artifact name ${name}`,
    );
  }
  const sha256 = configMap.metadata?.annotations?.[SHA_ANNOTATION];
  const outcome = await store.create(configMap);
  if (outcome === "exists") {
    const existing = await store.get(name);
    const stored = existing?.metadata?.annotations?.[SHA_ANNOTATION];
    if (stored !== sha256) {
      throw new PublishError(
        1,
        `ConfigMap ${name} already holds artifact ${stored ?? "(unknown)"}, not ${sha256}`,
      );
    }
  }
  return JSON.stringify({
    status: "ok",
    configMap: name,
    sha256,
    stored: outcome === "created" ? "created" : "unchanged",
  });
}
