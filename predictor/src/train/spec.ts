import type { Algorithm, StrategySettings } from "../artifact.ts";
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

/** Upper bounds of the strategy settings; the CRD's bounds are these. */
export const STRATEGY_LIMITS = { band: 1, positionLimit: 10, costBps: 1000 };

export class SpecError extends InputProblems {
  override name = "SpecError";
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
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
    if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha < 0) {
      errors.push("spec.algorithm.alpha: must be >= 0");
      return { type: "ridge", alpha: SPEC_DEFAULTS.ridgeAlpha };
    }
    return { type: "ridge", alpha };
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
  const setting = (name: keyof StrategySettings, min: number, minIncluded: boolean): number => {
    const v = value[name] ?? SPEC_DEFAULTS.strategy[name];
    const max = STRATEGY_LIMITS[name];
    if (typeof v !== "number" || !(minIncluded ? v >= min : v > min) || !(v <= max)) {
      errors.push(
        `spec.training.strategy.${name}: must be a number in ${minIncluded ? "[" : "("}${min}, ${max}]`,
      );
      return SPEC_DEFAULTS.strategy[name];
    }
    return v;
  };
  return {
    band: setting("band", 0, true),
    positionLimit: setting("positionLimit", 0, false),
    costBps: setting("costBps", 0, true),
  };
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
  if (typeof holdoutFraction !== "number" || !(holdoutFraction > 0 && holdoutFraction <= 0.9)) {
    errors.push("spec.training.holdoutFraction: must be a number in (0, 0.9]");
  }
  let walkForward: { folds: number } | undefined;
  if (t.walkForward !== undefined) {
    const wf: Obj = isObject(t.walkForward) ? t.walkForward : {};
    errors.push(...unknownFields(wf, ["folds"], "spec.training.walkForward"));
    if (!isInt(wf.folds, 2, 20))
      errors.push("spec.training.walkForward.folds: must be an integer from 2 to 20");
    walkForward = { folds: wf.folds as number };
  }
  const nonFinite = t.nonFinite ?? SPEC_DEFAULTS.nonFinite;
  if (!NON_FINITE_POLICIES.includes(nonFinite as NonFinitePolicy)) {
    errors.push(`spec.training.nonFinite: must be one of ${NON_FINITE_POLICIES.join(", ")}`);
  }
  const minRows = t.minRows ?? SPEC_DEFAULTS.minRows;
  if (!isInt(minRows, 1)) errors.push("spec.training.minRows: must be an integer >= 1");
  const intervalLevel = t.intervalLevel ?? SPEC_DEFAULTS.intervalLevel;
  if (typeof intervalLevel !== "number" || !(intervalLevel >= 0.5 && intervalLevel < 1)) {
    errors.push("spec.training.intervalLevel: must be a number in [0.5, 1)");
  }
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
  if (!isInt(target.horizon, 1, 100_000)) errors.push("spec.target.horizon: must be an integer >= 1");
  const algorithm = checkAlgorithm(value.algorithm, errors);
  const training = checkTraining(value.training, errors);
  if (errors.length > 0) throw new SpecError(errors);
  return { features, target: { horizon: target.horizon as number }, algorithm, training };
}
