/**
 * Names and labels of everything the operator creates for a TradingModel. Names are predictable
 * (derived from the model and version only), so a reconcile working from a stale cache finds the
 * object it already created instead of creating a second one.
 */

export const LABEL_MODEL = "trading.mlops.dev/model";
export const LABEL_VERSION = "trading.mlops.dev/version";
export const LABEL_TRACK = "trading.mlops.dev/track";
export const LABEL_COMPONENT = "trading.mlops.dev/component";
/**
 * On predictor pods: `live` for the tracks behind the model's Service (stable, canary), so a
 * shadow track runs the same pods without receiving client traffic.
 */
export const LABEL_TRAFFIC = "trading.mlops.dev/traffic";
export const ANNOTATION_TRAINING_HASH = "trading.mlops.dev/training-hash";
export const ANNOTATION_CHAMPION_VERSION = "trading.mlops.dev/champion-version";
export const ANNOTATION_GENERATION = "trading.mlops.dev/generation";
export const ANNOTATION_RETRAIN_REQUEST = "trading.mlops.dev/retrain-request";

export const FIELD_MANAGER = "tradingmodel-operator";

/**
 * Tracks a predictor Deployment serves: stable, a canary (live traffic by replica share), a
 * blue-green candidate behind its preview Service, and a shadow that gets a mirror of stable's requests.
 */
export const TRACKS = ["stable", "canary", "preview", "shadow"] as const;
export type Track = (typeof TRACKS)[number];

export type Component = "trainer" | "artifact" | "predictor" | "monitoring";

export const versionLabel = (version: number) => `v${version}`;

export const trainingJobName = (model: string, version: number) => `${model}-train-v${version}`;
export const artifactConfigMapName = (model: string, version: number) => `${model}-artifact-v${version}`;
export const modelVersionName = (model: string, version: number) => `${model}-v${version}`;
export const trainerServiceAccountName = (model: string) => `${model}-trainer`;
export const predictorDeploymentName = (model: string, track: Track) =>
  track === "stable" ? `${model}-predictor` : `${model}-predictor-${track}`;
export const predictorServiceName = (model: string) => model;
/** A blue-green candidate's own Service, for clients that try it before the switch. */
export const predictorPreviewServiceName = (model: string) => `${model}-preview`;
/** The Service stable's pods mirror to: a shadow's pods, or none (then mirroring rests). */
export const predictorShadowServiceName = (model: string) => `${model}-shadow`;

export const ARTIFACT_KEY = "artifact.json";

export function labels(
  model: string,
  component: Component,
  extra: { version?: number; track?: Track } = {},
): Record<string, string> {
  return {
    "app.kubernetes.io/name": "tradingmodel",
    "app.kubernetes.io/instance": model,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": FIELD_MANAGER,
    [LABEL_MODEL]: model,
    [LABEL_COMPONENT]: component,
    ...(extra.version === undefined ? {} : { [LABEL_VERSION]: versionLabel(extra.version) }),
    ...(extra.track === undefined ? {} : { [LABEL_TRACK]: extra.track }),
  };
}

/** The version number in a `v<N>` label or a `<model>-…-v<N>` name; undefined when there is none. */
export function versionFromName(name: string | undefined): number | undefined {
  const m = name === undefined ? null : /-?v([1-9][0-9]*)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
