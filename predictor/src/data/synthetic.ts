import { type BarColumns, emptyColumns } from "../bars.ts";
import { type Bounds, boundsError, SPEC_BOUNDS } from "../bounds.ts";
import { unknownFields } from "../problems.ts";

/**
 * Seeded synthetic market: OHLCV bars whose one-bar log returns carry a known, weak predictable
 * component buried in noise, so a linear model on the standard features beats a coin flip by a
 * few points, like a real but modest signal. Same options, same bars, on every machine.
 *
 * Regimes (per bar, log price p, return r = p[t] - p[t-1]):
 * - trending: r = m + noise, where the latent drift m is a slow AR(1) (momentum: past returns
 *   predict future ones);
 * - meanReverting: p = fair value (random walk) + x, where x is a fast AR(1) deviation, so a price
 *   far above its recent mean tends to fall back;
 * - highVolatility: the trending signal, weaker, under GARCH(1,1)-style volatility clustering at
 *   about three times the base volatility;
 * - mixed: blocks of 300-1500 bars of the three regimes above, in seeded order. One linear model
 *   fits the momentum and reversion blocks with a compromise, so its accuracy is lower here: a
 *   realistic case for champion/challenger and drift.
 * The default regime is trending.
 */

export const REGIMES = ["trending", "meanReverting", "highVolatility", "mixed"] as const;
export type Regime = (typeof REGIMES)[number];

/** From bar `fromBar` on, the market changes: noise scales, the signal fades, volume shifts. */
export interface DriftInjection {
  fromBar: number;
  /** Multiplies return noise and bar ranges; default 2.5. */
  volatilityScale?: number;
  /** Multiplies the predictable component; default 0 (the signal disappears). */
  signalScale?: number;
  /** Multiplies volume; default 3. */
  volumeScale?: number;
}

export interface SyntheticOptions {
  /** Any integer; its low 32 bits seed the generator. */
  seed: number;
  bars: number;
  /** Default trending. */
  regime?: Regime;
  /** Timestamp of the first bar, epoch ms; default 2024-01-01T00:00:00Z. */
  startTs?: number;
  /** Bar spacing in ms; default one minute. */
  barMs?: number;
  drift?: DriftInjection;
}

const BASE_SIGMA = 0.002;
const START_PRICE = 100;
const BASE_VOLUME = 1000;
export const DEFAULT_START_TS = Date.UTC(2024, 0, 1);

/** mulberry32: a small, fast 32-bit PRNG; ample for a few million draws of test data. */
function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller, keeping the second value of each pair. */
function normalSource(uniform: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = Number.NaN;
      return v;
    }
    const u = 1 - uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** Seeded standard normal draws: the generator's own source, for tests that build their own markets. */
export const seededNormals = (seed: number): (() => number) => normalSource(mulberry32(seed));

type BaseRegime = Exclude<Regime, "mixed">;
const BASE_REGIMES: readonly BaseRegime[] = ["trending", "meanReverting", "highVolatility"];

/** Per-regime shape. Shares are signal variances relative to the regime's base noise variance. */
const REGIME_PARAMS: Record<
  BaseRegime,
  { momentumShare: number; reversionShare: number; sigmaScale: number; garch: boolean }
> = {
  trending: { momentumShare: 0.12, reversionShare: 0, sigmaScale: 1, garch: false },
  meanReverting: { momentumShare: 0, reversionShare: 8, sigmaScale: 1, garch: false },
  highVolatility: { momentumShare: 0.1, reversionShare: 0, sigmaScale: 3, garch: true },
};
const MOMENTUM_PERSISTENCE = 0.97;
const REVERSION_PERSISTENCE = 0.8;
const GARCH = { alpha: 0.08, beta: 0.9 };

const DRIFT_SCALES = ["volatilityScale", "signalScale", "volumeScale"] as const;

/**
 * Field errors of synthetic market options, against the trainer spec's bounds. The generator itself
 * makes any number of bars from 1 (tests use short markets): `generateBars` passes `minBars` 1.
 */
export function validateSyntheticOptions(
  o: SyntheticOptions,
  field = "synthetic",
  minBars: number = SPEC_BOUNDS["training.data.synthetic.bars"].minimum,
): string[] {
  const errors = unknownFields(
    o as unknown as Record<string, unknown>,
    ["seed", "bars", "regime", "startTs", "barMs", "drift"],
    field,
  );
  const check = (name: string, value: unknown, bounds: Bounds) => {
    const error = boundsError(`${field}.${name}`, value, bounds);
    if (error) errors.push(error);
  };
  check("seed", o.seed, SPEC_BOUNDS["training.data.synthetic.seed"]);
  check("bars", o.bars, { ...SPEC_BOUNDS["training.data.synthetic.bars"], minimum: minBars });
  if (o.regime !== undefined && !REGIMES.includes(o.regime)) {
    errors.push(`${field}.regime: must be one of ${REGIMES.join(", ")}`);
  }
  if (o.startTs !== undefined && !Number.isSafeInteger(o.startTs)) {
    errors.push(`${field}.startTs: must be an integer (epoch ms)`);
  }
  if (o.barMs !== undefined) check("barMs", o.barMs, SPEC_BOUNDS["training.data.synthetic.barMs"]);
  const d = o.drift;
  if (d !== undefined) {
    if (typeof d !== "object" || d === null || Array.isArray(d))
      errors.push(`${field}.drift: must be an object`);
    else {
      errors.push(
        ...unknownFields(
          d as unknown as Record<string, unknown>,
          ["fromBar", ...DRIFT_SCALES],
          `${field}.drift`,
        ),
      );
      check("drift.fromBar", d.fromBar, SPEC_BOUNDS["training.data.synthetic.drift.fromBar"]);
      for (const k of DRIFT_SCALES) {
        if (d[k] !== undefined) check(`drift.${k}`, d[k], SPEC_BOUNDS[`training.data.synthetic.drift.${k}`]);
      }
    }
  }
  return errors;
}

export function generateBars(opts: SyntheticOptions): BarColumns {
  const errors = validateSyntheticOptions(opts, "synthetic", 1);
  if (errors.length > 0) throw new RangeError(errors.join("; "));
  const n = opts.bars;
  const uniform = mulberry32(opts.seed);
  const normal = normalSource(uniform);
  const startTs = opts.startTs ?? DEFAULT_START_TS;
  const barMs = opts.barMs ?? 60_000;
  const drift = opts.drift;
  const cols = emptyColumns(n);

  const requested = opts.regime ?? "trending";
  const mixed = requested === "mixed";
  let regime: BaseRegime = requested === "mixed" ? "trending" : requested;
  let blockLeft = mixed ? 0 : Number.POSITIVE_INFINITY;

  let momentum = 0;
  let deviation = 0;
  let fairValue = Math.log(START_PRICE);
  let variance = 1;
  let prevClose = START_PRICE;
  for (let t = 0; t < n; t++) {
    if (blockLeft <= 0) {
      regime = BASE_REGIMES[Math.floor(uniform() * BASE_REGIMES.length)] as BaseRegime;
      blockLeft = 300 + Math.floor(uniform() * 1200);
    }
    blockLeft--;
    const drifted = drift !== undefined && t >= drift.fromBar;
    const signalScale = drifted ? (drift.signalScale ?? 0) : 1;
    const volScale = drifted ? (drift.volatilityScale ?? 2.5) : 1;
    const volumeScale = drifted ? (drift.volumeScale ?? 3) : 1;
    const p = REGIME_PARAMS[regime];

    const shock = normal();
    if (p.garch)
      variance = 1 - GARCH.alpha - GARCH.beta + GARCH.alpha * shock * shock + GARCH.beta * variance;
    else variance = 1;
    const sigma = BASE_SIGMA * p.sigmaScale * Math.sqrt(variance) * volScale;

    momentum =
      MOMENTUM_PERSISTENCE * momentum +
      BASE_SIGMA * p.sigmaScale * Math.sqrt(p.momentumShare * (1 - MOMENTUM_PERSISTENCE ** 2)) * normal();
    deviation =
      REVERSION_PERSISTENCE * deviation +
      BASE_SIGMA * Math.sqrt(p.reversionShare * (1 - REVERSION_PERSISTENCE ** 2)) * normal();
    // Momentum accumulates into the fair value (it persists in the price); the deviation does not.
    fairValue += sigma * shock + signalScale * momentum;
    const close = Math.exp(fairValue + signalScale * deviation);

    const open = t === 0 ? close : prevClose;
    const wick = sigma * 0.5;
    cols.ts[t] = startTs + t * barMs;
    cols.open[t] = open;
    cols.close[t] = close;
    cols.high[t] = Math.max(open, close) * Math.exp(Math.abs(normal()) * wick);
    cols.low[t] = Math.min(open, close) * Math.exp(-Math.abs(normal()) * wick);
    cols.volume[t] = Math.round(BASE_VOLUME * volumeScale * Math.exp(0.3 * normal() + 0.5 * Math.abs(shock)));
    prevClose = close;
  }
  return cols;
}
