/** Bad input found all at once: every problem is kept, so the user fixes them in one round. */
export class InputProblems extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("; "));
    this.problems = problems;
  }
}

/** An error for each field of `value` not in `known`: a typo must not fall back to a default. */
export function unknownFields(
  value: Record<string, unknown>,
  known: readonly string[],
  field: string,
): string[] {
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => `${field}.${k}: unknown field (known: ${known.join(", ")})`);
}
