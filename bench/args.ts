/** Command-line arguments of the benchmark's helper processes, with errors naming the argument. */

export function positiveNumberArg(argv: readonly string[], index: number, name: string): number {
  const v = Number(argv[index]);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new Error(`${name}: expected a positive number, got '${argv[index] ?? ""}'`);
  }
  return v;
}

export function positiveIntegerArg(argv: readonly string[], index: number, name: string): number {
  const v = positiveNumberArg(argv, index, name);
  if (!Number.isSafeInteger(v)) throw new Error(`${name}: expected a positive integer, got '${argv[index]}'`);
  return v;
}
