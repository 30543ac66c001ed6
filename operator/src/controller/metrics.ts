import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The operator's own metrics, on a registry of its own. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: "tradingmodel_operator_reconcile_total",
    help: "Reconciles by result: success, requeue (success with a requeue-after), error",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "tradingmodel_operator_reconcile_duration_seconds",
    help: "Time of one reconcile, apiserver writes included",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "tradingmodel_operator_errors_total",
    help: "Errors by where they happened: reconcile, watch (an informer stopped), apiserver_retry (a call retried), leader_election",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  /** Read at scrape time, so delayed keys that came due count without anyone touching the gauge. */
  private queue: () => { depth: number; inFlight: number } = () => ({ depth: 0, inFlight: 0 });
  readonly queueDepth: Gauge = new Gauge({
    name: "tradingmodel_operator_workqueue_depth",
    help: "Keys waiting for a worker",
    registers: [this.registry],
    collect: (): void => this.queueDepth.set(this.queue().depth),
  });
  readonly inFlight: Gauge = new Gauge({
    name: "tradingmodel_operator_reconciles_in_flight",
    help: "Reconciles running now",
    registers: [this.registry],
    collect: (): void => this.inFlight.set(this.queue().inFlight),
  });
  readonly leader = new Gauge({
    name: "tradingmodel_operator_leader",
    help: "1 while this replica holds the leader Lease",
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: "tradingmodel_operator_status_writes_total",
    help: "TradingModel status patches (written only when the status changed)",
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: "tradingmodel_operator_events_total",
    help: "Events emitted (a repeat counted on an earlier Event's series included)",
    registers: [this.registry],
  });

  observeQueue(read: () => { depth: number; inFlight: number }): void {
    this.queue = read;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "tradingmodel_operator_" });
  }
}
