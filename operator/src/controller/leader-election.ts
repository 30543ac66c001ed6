import { canonicalJson } from "../../../predictor/src/artifact.ts";

/** The fields of a coordination.k8s.io/v1 Lease's spec that leader election uses. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface ObservedLease {
  spec: LeaseRecord;
  resourceVersion: string;
}

/** Thrown by `LeaseStore.update` when the resourceVersion precondition failed (HTTP 409). */
export class LeaseConflictError extends Error {
  override name = "LeaseConflictError";
}

/** The Lease object, read and written with resourceVersion preconditions. */
export interface LeaseStore {
  get(): Promise<ObservedLease | undefined>;
  /** Fails (409) when the Lease appeared meanwhile. */
  create(spec: LeaseRecord): Promise<ObservedLease>;
  /** Fails with LeaseConflictError when the Lease changed since `resourceVersion`. */
  update(spec: LeaseRecord, resourceVersion: string): Promise<ObservedLease>;
}

export interface ElectionTiming {
  /** How long a lease holds without renewal before others may take it. */
  leaseDurationMs: number;
  /** How long a leader keeps trying to renew before it gives up leading. */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews. */
  retryPeriodMs: number;
}

/** controller-runtime's defaults. */
export const DEFAULT_TIMING: ElectionTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** A Lease's MicroTime: RFC 3339 with exactly six fractional digits, as the apiserver parses it. */
export const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export type LeaseStep =
  | { kind: "create"; spec: LeaseRecord }
  | { kind: "update"; spec: LeaseRecord; resourceVersion: string }
  | { kind: "held"; holder: string };

/**
 * What a candidate does with the Lease it just read. Expiry is judged by the local clock from when
 * this candidate first saw the current record (as client-go does), never by the holder's
 * timestamps, so clock skew between replicas cannot make two of them lead.
 */
export function nextLeaseStep(
  lease: ObservedLease | undefined,
  identity: string,
  now: Date,
  observedSinceMs: number,
  leaseDurationMs: number,
): LeaseStep {
  const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
  const stamp = microTime(now);
  if (!lease) {
    return {
      kind: "create",
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: 0,
      },
    };
  }
  const holder = lease.spec.holderIdentity ?? "";
  const heldFor = (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
  if (holder === identity) {
    return {
      kind: "update",
      spec: { ...lease.spec, leaseDurationSeconds, renewTime: stamp },
      resourceVersion: lease.resourceVersion,
    };
  }
  if (holder !== "" && now.getTime() < observedSinceMs + heldFor) return { kind: "held", holder };
  return {
    kind: "update",
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (holder === "" ? 0 : 1),
    },
    resourceVersion: lease.resourceVersion,
  };
}

/** The record a leader writes when it steps down, so the next candidate need not wait for expiry. */
export function releasedRecord(lease: LeaseRecord, now: Date): LeaseRecord {
  return { ...lease, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(now) };
}

export interface ElectorCallbacks {
  onStartedLeading: () => void;
  /** Leading ended: the renew deadline passed, or the elector was stopped. Awaited before the Lease is released. */
  onStoppedLeading: () => void | Promise<void>;
  onNewLeader?: (holder: string) => void;
  onError?: (err: unknown) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/**
 * Leader election on a Lease: candidates try every retry period (with jitter); the leader renews
 * every retry period and gives up leading when it could not renew for the renew deadline, which is
 * shorter than the lease duration, so it stops before anyone else may start. On stop, a leader
 * releases the Lease.
 */
export class LeaderElector {
  private readonly store: LeaseStore;
  private readonly identity: string;
  private readonly timing: ElectionTiming;
  private readonly callbacks: ElectorCallbacks;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private observed?: { record: string; sinceMs: number; lease: ObservedLease };
  private leading = false;
  private lastHolder = "";
  private loop?: Promise<void>;

  constructor(
    store: LeaseStore,
    identity: string,
    timing: ElectionTiming,
    callbacks: ElectorCallbacks,
    random: () => number = Math.random,
  ) {
    this.store = store;
    this.identity = identity;
    this.timing = timing;
    this.callbacks = callbacks;
    this.random = random;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader stops leading and releases the Lease. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.callbacks.onStoppedLeading();
    }
    // Also when an attempt in flight at stop acquired the Lease: nobody should wait out its expiry.
    const lease = this.observed?.lease;
    if (lease?.spec.holderIdentity !== this.identity) return;
    try {
      await this.store.update(releasedRecord(lease.spec, new Date()), lease.resourceVersion);
    } catch (err) {
      this.callbacks.onError?.(err);
    }
  }

  /** One attempt to acquire or renew; true when this candidate holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const lease = await this.store.get();
    const record = lease ? canonicalJson(lease.spec) : "";
    if (!lease || this.observed?.record !== record) {
      this.observed = lease ? { record, sinceMs: now.getTime(), lease } : undefined;
    }
    const holder = lease?.spec.holderIdentity ?? "";
    if (holder !== "" && holder !== this.lastHolder) {
      this.lastHolder = holder;
      this.callbacks.onNewLeader?.(holder);
    }
    const step = nextLeaseStep(
      lease,
      this.identity,
      now,
      this.observed?.sinceMs ?? now.getTime(),
      this.timing.leaseDurationMs,
    );
    if (step.kind === "held") return false;
    const written =
      step.kind === "create"
        ? await this.store.create(step.spec)
        : await this.store.update(step.spec, step.resourceVersion);
    this.observed = { record: canonicalJson(written.spec), sinceMs: now.getTime(), lease: written };
    if (this.lastHolder !== this.identity) {
      this.lastHolder = this.identity;
      this.callbacks.onNewLeader?.(this.identity);
    }
    return true;
  }

  private async attempt(): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew();
    } catch (err) {
      if (!(err instanceof LeaseConflictError)) this.callbacks.onError?.(err);
      return false;
    }
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      if (!(await this.attempt())) {
        await sleep(this.timing.retryPeriodMs * (1 + 0.2 * this.random()), signal);
        continue;
      }
      if (signal.aborted) break;
      this.leading = true;
      this.callbacks.onStartedLeading();
      let renewedAt = Date.now();
      while (!signal.aborted) {
        await sleep(this.timing.retryPeriodMs, signal);
        if (signal.aborted) return;
        if (await this.attempt()) renewedAt = Date.now();
        else if (Date.now() - renewedAt >= this.timing.renewDeadlineMs) break;
      }
      if (signal.aborted) return;
      this.leading = false;
      await this.callbacks.onStoppedLeading();
    }
  }
}
