import { FEATURE_FAMILIES } from "../../../predictor/src/features.ts";

/**
 * The feature-name grammar the apiserver enforces, built from the runtime's own family patterns so
 * that the two cannot disagree. Window parameters are narrowed to 1..9999 without leading zeros: the
 * runtime's patterns accept any digits, and an unbounded integer would overflow CEL's int in rules
 * that read it. Per-family minimums (vol_{n} needs n >= 2, sma_ratio_{a}_{b} needs a < b) are
 * checked by the runtime's parser, which the operator runs before it creates a training Job.
 */
export const FEATURE_NAME_PATTERN = `^(${FEATURE_FAMILIES.map((family) =>
  family.pattern.source.replace(/^\^/, "").replace(/\$$/, "").replaceAll("(\\d+)", "([1-9][0-9]{0,3})"),
).join("|")})$`;

/** The feature forms, e.g. `ret_{k}`, for descriptions and error messages. */
export const FEATURE_FORMS = FEATURE_FAMILIES.map((family) => family.form).join(", ");
