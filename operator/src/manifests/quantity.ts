/* Kubernetes resource quantities, shared by the operator (CPU limits in alert rules) and the local
 * cluster's node agent (the Downward API). */

const SUFFIXES: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("250m", "1.5Gi", "2e3") as a number of base units. */
export function parseQuantity(quantity: string, field: string): number {
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$/.exec(quantity.trim());
  const scale = m ? SUFFIXES[m[3] ?? ""] : undefined;
  if (!m || scale === undefined || Number.isNaN(Number(m[1]))) {
    throw new Error(`${field}: "${quantity}" is not a resource quantity`);
  }
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * scale;
}
