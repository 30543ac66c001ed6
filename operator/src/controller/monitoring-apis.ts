import type { Logger } from "pino";
import { type MonitoringApis, NO_MONITORING_APIS } from "../reconcile/observed.ts";
import { describeError } from "./kube-client.ts";

/** How often the cluster is asked again: prometheus-operator's CRDs may be installed after the operator. */
export const MONITORING_DISCOVERY_INTERVAL_MS = 60_000;

/** The client call discovery makes (KubeClient.servedResources: timeout and retries included). */
export type ServedResources = (group: string, version: string) => Promise<Set<string>>;

/**
 * Which monitoring.coreos.com/v1 kinds the cluster serves, asked at start and then every
 * interval. A failed discovery keeps the last answer (the operator must not delete or stop
 * applying rules because one discovery call failed); until the first answer, none.
 */
export class MonitoringApiDiscovery {
  readonly #served: ServedResources;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #current: MonitoringApis = NO_MONITORING_APIS;
  #timer: NodeJS.Timeout | undefined;

  constructor(served: ServedResources, log: Logger, intervalMs = MONITORING_DISCOVERY_INTERVAL_MS) {
    this.#served = served;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  get current(): MonitoringApis {
    return this.#current;
  }

  /** One discovery; resolves when it answered or failed. */
  async refresh(): Promise<void> {
    try {
      const served = await this.#served("monitoring.coreos.com", "v1");
      const next = { prometheusRules: served.has("prometheusrules"), podMonitors: served.has("podmonitors") };
      if (
        next.prometheusRules !== this.#current.prometheusRules ||
        next.podMonitors !== this.#current.podMonitors
      ) {
        this.#log.info(next, "monitoring APIs discovered");
      }
      this.#current = next;
    } catch (err) {
      this.#log.warn({ err: describeError(err) }, "monitoring API discovery failed; keeping the last answer");
    }
  }

  /** Discovers now, then every interval until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
