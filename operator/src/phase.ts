import type { Condition, Phase } from "./api/types.ts";
import { isTrue } from "./conditions.ts";

/**
 * The one-word summary `kubectl get tm` shows, from the conditions: work in progress first
 * (Training, then Progressing), then trouble (Degraded while something still serves, Failed when
 * nothing does), then Ready; Pending before anything happened.
 */
export function phaseOf(conditions: readonly Condition[]): Phase {
  if (isTrue(conditions, "Training")) return "Training";
  if (isTrue(conditions, "Progressing")) return "Progressing";
  if (isTrue(conditions, "Degraded")) return isTrue(conditions, "Ready") ? "Degraded" : "Failed";
  if (isTrue(conditions, "Ready")) return "Ready";
  return "Pending";
}
