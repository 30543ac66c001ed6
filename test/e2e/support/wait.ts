// Polling with a deadline: every wait in the suite has one, and its error says what was awaited
// and what was last seen.
import { setTimeout as sleep } from "node:timers/promises";

export type WaitOptions = { timeoutMs?: number; intervalMs?: number };

/**
 * Calls `probe` until it returns something other than undefined/false, and returns that. A probe
 * that throws counts as "not yet"; its last error goes into the timeout's message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 250 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "nothing yet";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `probe returned ${String(value)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${last}`);
    await sleep(intervalMs);
  }
}
