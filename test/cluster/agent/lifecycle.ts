// Container restart decisions and how an exit is reported, following the kubelet.
import { constants } from "node:os";

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === "Always") return true;
  if (policy === "OnFailure") return exitCode !== 0;
  return false;
}

export type Backoff = { initialMs: number; maxMs: number };

/** The kubelet's default crash-loop back-off: 10 s doubling to 5 min. */
export const KUBELET_BACKOFF: Backoff = { initialMs: 10_000, maxMs: 300_000 };

/**
 * Delay before restart number `restartCount + 1`. The first restart is immediate; later ones back
 * off exponentially. A container that ran for longer than twice the cap starts over.
 */
export function restartDelayMs(restartCount: number, ranForMs: number, backoff: Backoff): number {
  if (restartCount === 0 || ranForMs > 2 * backoff.maxMs) return 0;
  return Math.min(backoff.initialMs * 2 ** (restartCount - 1), backoff.maxMs);
}

/** Exit code and reason as a container runtime reports them: a signal is 128 + its number. */
export function exitOutcome(
  code: number | null,
  signal: NodeJS.Signals | null,
): { exitCode: number; signal?: number; reason: "Completed" | "Error" } {
  if (signal) {
    const number = constants.signals[signal];
    return { exitCode: 128 + number, signal: number, reason: "Error" };
  }
  const exitCode = code ?? 0;
  return { exitCode, reason: exitCode === 0 ? "Completed" : "Error" };
}

const MAX_MESSAGE_BYTES = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/**
 * The terminated state's message: the file the container wrote at terminationMessagePath, or with
 * FallbackToLogsOnError and an empty file after a failure, the tail of its log.
 */
export function terminationMessage(
  fileContent: string,
  logTail: string,
  policy: string | undefined,
  exitCode: number,
): string | undefined {
  const fromFile = fileContent.slice(0, MAX_MESSAGE_BYTES).trim();
  if (fromFile) return fromFile;
  if (policy === "FallbackToLogsOnError" && exitCode !== 0) {
    const lines = logTail
      .split("\n")
      .slice(-FALLBACK_LOG_LINES - 1)
      .join("\n");
    return lines.slice(-FALLBACK_LOG_BYTES).trim() || undefined;
  }
  return undefined;
}
