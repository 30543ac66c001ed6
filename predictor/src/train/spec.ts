import type { Algorithm, StrategySettings } from "../artifact.ts";
import { boundsError, SPEC_BOUNDS, type SpecBoundsPath } from "../bounds.ts";
import { type DataSourceSpec, validateSourceSpec } from "../data/source.ts";
import { NON_FINITE_POLICIES, type NonFinitePolicy } from "../data/validate.ts";
import { FeatureError, parseFeatureName } from "../features.ts";
import { InputProblems, unknownFields } from "../problems.ts";

/**
 * The training part of a TradingModel spec, as the training Job receives it. Unknown fields are
 * errors rather than ignored, so a typo (`holdoutFration`) cannot silently fall back to a default.
 */
export interface TrainSpec {
  features: string[];
  target: { horizon: number };
  algorithm: Algorithm;
  training: {
    data: DataSourceSpec;
    holdoutFraction: number;
    walkForward?: { folds: number };
    nonFinite: NonFinitePolicy;
    minRows: number;
    intervalLevel: number;
    strategy: StrategySettings;
  };
}

export const SPEC_DEFAULTS = {
  ridgeAlpha: 1,
  holdoutFraction: 0.2,
  nonFinite: "reject" as NonFinitePolicy,
  minRows: 100,
  intervalLevel: 0.9,
  /** Flat only on a prediction of exactly 0, fully invested, 2 bps per unit traded (a liquid market's spread and fees). */
  strategy: { band: 0, positionLimit: 1, costBps: 2 } satisfies StrategySettings,
};

export class SpecError extends InputProblems {
  override name = "SpecError";
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Adds the error of the trainer field at `path` (SPEC_BOUNDS) when `value` is outside its bounds. */
function checkBounds(path: SpecBoundsPath, value: unknown, errors: string[]): void {
  const error = boundsError(`spec.${path}`, value, SPEC_BOUNDS[path]);
  if (error) errors.push(error);
}

function checkFeatures(value: unknown, errors: string[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    errors.push("spec.features: must be a non-empty array of feature names");
    return [];
  }
  value.forEach((name, i) => {
    if (typeof name !== "string") errors.push(`spec.features[${i}]: must be a string`);
    else if (value.indexOf(name) !== i) errors.push(`spec.features[${i}]: duplicate feature "${name}"`);
    else {
      try {
        parseFeatureName(name);
      } catch (err) {
        if (!(err instanceof FeatureError)) throw err;
        errors.push(`spec.features[${i}]: ${err.message}`);
      }
    }
  });
  return value as string[];
}

function checkAlgorithm(value: unknown, errors: string[]): Algorithm {
  if (!isObject(value)) {
    errors.push("spec.algorithm: must be an object like {type: 'linear'} or {type: 'ridge', alpha: 1}");
    return { type: "linear" };
  }
  errors.push(...unknownFields(value, ["type", "alpha"], "spec.algorithm"));
  if (value.type === "linear") {
    if (value.alpha !== undefined) errors.push("spec.algorithm.alpha: only applies to type 'ridge'");
    return { type: "linear" };
  }
  if (value.type === "ridge") {
    const alpha = value.alpha ?? SPEC_DEFAULTS.ridgeAlpha;
    checkBounds("algorithm.alpha", alpha, errors);
    return { type: "ridge", alpha: typeof alpha === "number" ? alpha : SPEC_DEFAULTS.ridgeAlpha };
  }
  errors.push("spec.algorithm.type: must be 'linear' or 'ridge'");
  return { type: "linear" };
}

function checkStrategy(value: unknown, errors: string[]): StrategySettings {
  if (value === undefined) return { ...SPEC_DEFAULTS.strategy };
  if (!isObject(value)) {
    errors.push("spec.training.strategy: must be an object like {band: 0, positionLimit: 1, costBps: 2}");
    return { ...SPEC_DEFAULTS.strategy };
  }
  errors.push(...unknownFields(value, ["band", "positionLimit", "costBps"], "spec.training.strategy"));
  const setting = (name: keyof StrategySettings): number => {
    const v = value[name] ?? SPEC_DEFAULTS.strategy[name];
    checkBounds(`training.strategy.${name}`, v, errors);
    return typeof v === "number" ? v : SPEC_DEFAULTS.strategy[name];
  };
  return { band: setting("band"), positionLimit: setting("positionLimit"), costBps: setting("costBps") };
}

function checkTraining(value: unknown, errors: string[]): TrainSpec["training"] {
  const t: Obj = isObject(value) ? value : {};
  if (!isObject(value)) errors.push("spec.training: must be an object with at least 'data'");
  const known = [
    "data",
    "holdoutFraction",
    "walkForward",
    "nonFinite",
    "minRows",
    "intervalLevel",
    "strategy",
  ];
  errors.push(...unknownFields(t, known, "spec.training"));
  errors.push(...validateSourceSpec(t.data, "spec.training.data"));
  const holdoutFraction = t.holdoutFraction ?? SPEC_DEFAULTS.holdoutFraction;
  checkBounds("training.holdoutFraction", holdoutFraction, errors);
  let walkForward: { folds: number } | undefined;
  if (t.walkForward !== undefined) {
    const wf: Obj = isObject(t.walkForward) ? t.walkForward : {};
    errors.push(...unknownFields(wf, ["folds"], "spec.training.walkForward"));
    checkBounds("training.walkForward.folds", wf.folds, errors);
    walkForward = { folds: wf.folds as number };
  }
  const nonFinite = t.nonFinite ?? SPEC_DEFAULTS.nonFinite;
  if (!NON_FINITE_POLICIES.includes(nonFinite as NonFinitePolicy)) {
    errors.push(`spec.training.nonFinite: must be one of ${NON_FINITE_POLICIES.join(", ")}`);
  }
  const minRows = t.minRows ?? SPEC_DEFAULTS.minRows;
  checkBounds("training.minRows", minRows, errors);
  const intervalLevel = t.intervalLevel ?? SPEC_DEFAULTS.intervalLevel;
  checkBounds("training.intervalLevel", intervalLevel, errors);
  const strategy = checkStrategy(t.strategy, errors);
  return {
    data: t.data as DataSourceSpec,
    holdoutFraction: holdoutFraction as number,
    ...(walkForward ? { walkForward } : {}),
    nonFinite: nonFinite as NonFinitePolicy,
    minRows: minRows as number,
    intervalLevel: intervalLevel as number,
    strategy,
  };
}

/** Checks a parsed spec and fills defaults; throws SpecError listing every bad field. */
export function parseTrainSpec(value: unknown): TrainSpec {
  if (!isObject(value)) throw new SpecError(["spec: must be a JSON object"]);
  const errors: string[] = unknownFields(value, ["features", "target", "algorithm", "training"], "spec");
  const features = checkFeatures(value.features, errors);
  const target: Obj = isObject(value.target) ? value.target : {};
  if (!isObject(value.target)) errors.push("spec.target: must be an object like {horizon: 1}");
  else errors.push(...unknownFields(target, ["horizon"], "spec.target"));
  checkBounds("target.horizon", target.horizon, errors);
  const algorithm = checkAlgorithm(value.algorithm, errors);
  const training = checkTraining(value.training, errors);
  if (errors.length > 0) throw new SpecError(errors);
  return { features, target: { horizon: target.horizon as number }, algorithm, training };
}
