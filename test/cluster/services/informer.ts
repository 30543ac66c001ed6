// Keeps a client-node informer running: it stops for good on any error but 410, so it is started
// again after an exponential back-off with jitter (reset once it has connected again).
import type { Informer, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { backoffDelay } from "../../../predictor/src/backoff.ts";
import { WATCH_RESTART } from "../agent/retry.ts";

export async function keepRunning<T extends KubernetesObject>(
  informer: Informer<T>,
  what: string,
  log: Logger,
): Promise<void> {
  let failures = 0;
  informer.on("connect", () => {
    failures = 0;
  });
  informer.on("error", (err) => {
    const delayMs = backoffDelay(WATCH_RESTART, failures++);
    log.warn({ what, err: String(err), delayMs }, "watch stopped; restarting");
    setTimeout(() => {
      informer.start().catch((e: unknown) => log.error({ what, err: String(e) }, "watch restart failed"));
    }, delayMs);
  });
  await informer.start();
}
