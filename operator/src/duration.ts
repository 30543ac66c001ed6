/** Go duration syntax (the CRD's DURATION_PATTERN: 1h30m, 2.5s, 500ms) in seconds. */
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`"${text}" is not a duration such as 30s, 2m or 1h30m`);
  }
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * (UNIT_SECONDS[unit ?? "s"] ?? 1), 0);
}
