/**
 * Every numeric bound of the trainer's spec, in one place: the trainer checks a `--spec` against
 * these, and the TradingModel CRD's schema states the same ones (operator/src/api/training.ts), so
 * the apiserver admits exactly the numbers the trainer takes. Keys are the fields' paths in the
 * trainer's spec; `api: false` marks the few the TradingModel does not expose.
 */

export interface Bounds {
  integer: boolean;
  minimum: number;
  /** The minimum itself is not allowed. */
  exclusiveMinimum?: true;
  /** Omitted: no upper bound (the largest safe integer for integers). */
  maximum?: number;
  exclusiveMaximum?: true;
  /** False for a trainer field the TradingModel does not expose. */
  api?: false;
}

/** The most bars a synthetic market has: ~1 GB of columns and features. */
const MAX_SYNTHETIC_BARS = 5_000_000;
/** The largest factor a synthetic market's drift scales anything by. */
const MAX_DRIFT_SCALE = 100;

export const SPEC_BOUNDS = {
  "target.horizon": { integer: true, minimum: 1, maximum: 1000 },
  // Ridge with alpha 0 is OLS: ask for type linear instead.
  "algorithm.alpha": { integer: false, minimum: 0, exclusiveMinimum: true, maximum: 1e6 },
  // At least 5% keeps a holdout worth judging; at most half keeps a training set worth fitting.
  "training.holdoutFraction": { integer: false, minimum: 0.05, maximum: 0.5 },
  "training.walkForward.folds": { integer: true, minimum: 2, maximum: 20 },
  "training.minRows": { integer: true, minimum: 1, maximum: 100_000_000 },
  "training.intervalLevel": { integer: false, minimum: 0.5, maximum: 1, exclusiveMaximum: true },
  "training.strategy.band": { integer: false, minimum: 0, maximum: 1 },
  "training.strategy.positionLimit": { integer: false, minimum: 0, exclusiveMinimum: true, maximum: 10 },
  "training.strategy.costBps": { integer: false, minimum: 0, maximum: 1000 },
  // The generator's state is 32 bits.
  "training.data.synthetic.seed": { integer: true, minimum: 0, maximum: 4_294_967_295 },
  // Fewer than 500 bars leave too few rows for the features' windows and a holdout.
  "training.data.synthetic.bars": { integer: true, minimum: 500, maximum: MAX_SYNTHETIC_BARS },
  "training.data.synthetic.barMs": { integer: true, minimum: 1, api: false },
  "training.data.synthetic.drift.fromBar": { integer: true, minimum: 0, maximum: MAX_SYNTHETIC_BARS - 1 },
  "training.data.synthetic.drift.volatilityScale": { integer: false, minimum: 0, maximum: MAX_DRIFT_SCALE },
  "training.data.synthetic.drift.signalScale": { integer: false, minimum: 0, maximum: MAX_DRIFT_SCALE },
  "training.data.synthetic.drift.volumeScale": { integer: false, minimum: 0, maximum: MAX_DRIFT_SCALE },
  "training.data.timeoutMs": { integer: true, minimum: 1, api: false },
  "training.data.retries": { integer: true, minimum: 0, api: false },
} as const satisfies Record<string, Bounds>;

export type SpecBoundsPath = keyof typeof SPEC_BOUNDS;

/** Whether `value` is a number (an integer where asked) within `bounds`. */
export function withinBounds(value: unknown, bounds: Bounds): value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (bounds.integer && !Number.isSafeInteger(value)) return false;
  if (bounds.exclusiveMinimum ? value <= bounds.minimum : value < bounds.minimum) return false;
  if (bounds.maximum === undefined) return true;
  return bounds.exclusiveMaximum ? value < bounds.maximum : value <= bounds.maximum;
}

/** What a field must be, for an error message: `an integer from 1 to 1000`, `a number in (0, 1000000]`. */
export function describeBounds(bounds: Bounds): string {
  if (bounds.integer) {
    return bounds.maximum === undefined
      ? `an integer >= ${bounds.minimum}`
      : `an integer from ${bounds.minimum} to ${bounds.maximum}`;
  }
  if (bounds.maximum === undefined)
    return `a number ${bounds.exclusiveMinimum ? ">" : ">="} ${bounds.minimum}`;
  const open = bounds.exclusiveMinimum ? "(" : "[";
  const close = bounds.exclusiveMaximum ? ")" : "]";
  return `a number in ${open}${bounds.minimum}, ${bounds.maximum}${close}`;
}

/** The error of `field` (`spec.training.minRows`) for a value outside `bounds`; undefined when within. */
export function boundsError(field: string, value: unknown, bounds: Bounds): string | undefined {
  return withinBounds(value, bounds) ? undefined : `${field}: must be ${describeBounds(bounds)}`;
}

/**
 * The same bounds as a structural schema states them: `minimum`, `maximum` and their exclusive
 * flags, for spreading into a schema literal beside its `type`.
 */
export function schemaBounds<const B extends Bounds>(bounds: B) {
  return {
    minimum: bounds.minimum,
    ...(bounds.exclusiveMinimum ? { exclusiveMinimum: true as const } : {}),
    ...(bounds.maximum === undefined ? {} : { maximum: bounds.maximum }),
    ...(bounds.exclusiveMaximum ? { exclusiveMaximum: true as const } : {}),
  };
}
