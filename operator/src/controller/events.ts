import { randomBytes } from "node:crypto";
import type { EventsV1Event } from "@kubernetes/client-node";
import { type ClusterWriter, statusCode } from "./kube-client.ts";
import { microTime } from "./leader-election.ts";

export interface EventInput {
  namespace: string;
  regarding: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string };
  type: "Normal" | "Warning";
  reason: string;
  note: string;
  /** What the operator did or decided, e.g. Train, Register, Rollout. */
  action: string;
}

export interface RecorderSettings {
  /** reportingController: who reports, the same in every replica. */
  controller: string;
  /** reportingInstance: which replica, e.g. the pod name. */
  instance: string;
  /** A repeat of the same event within this window counts on the first instead of creating another. */
  aggregationWindowMs: number;
  /** Remembered events at most, the oldest forgotten first. */
  maxRemembered: number;
}

/** events.k8s.io/v1 limits the note to 1 kB. */
const MAX_NOTE_BYTES = 1024;

export function truncateNote(note: string): string {
  if (Buffer.byteLength(note, "utf8") <= MAX_NOTE_BYTES) return note;
  let cut = note.slice(0, MAX_NOTE_BYTES - 3);
  while (Buffer.byteLength(cut, "utf8") > MAX_NOTE_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** The event to create for a first occurrence. */
export function newEvent(
  input: EventInput,
  settings: RecorderSettings,
  now: Date,
  suffix: string,
): EventsV1Event {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: `${input.regarding.name}.${suffix}`, namespace: input.namespace },
    eventTime: microTime(now) as unknown as Date,
    reportingController: settings.controller,
    reportingInstance: settings.instance.slice(0, 128),
    action: input.action,
    reason: input.reason,
    note: truncateNote(input.note),
    type: input.type,
    regarding: input.regarding,
  };
}

const keyOf = (e: EventInput) =>
  JSON.stringify([e.namespace, e.regarding.kind, e.regarding.name, e.type, e.reason, e.note]);

/**
 * Emits Events, aggregating repeats: the same event about the same object within the window
 * updates the first one's series (count, last time) instead of piling up copies, as
 * client-go's recorder does for events.k8s.io/v1.
 */
export class EventRecorder {
  private readonly writer: ClusterWriter;
  private readonly settings: RecorderSettings;
  private readonly now: () => Date;
  private readonly seen = new Map<string, { name: string; firstMs: number; count: number }>();

  constructor(writer: ClusterWriter, settings: RecorderSettings, now: () => Date = () => new Date()) {
    this.writer = writer;
    this.settings = settings;
    this.now = now;
  }

  /** Returns whether a new Event was created (false: a repeat was counted on an earlier one). */
  async record(input: EventInput): Promise<boolean> {
    const now = this.now();
    const key = keyOf(input);
    const previous = this.seen.get(key);
    if (previous && now.getTime() - previous.firstMs < this.settings.aggregationWindowMs) {
      try {
        const count = previous.count + 1;
        await this.writer.patchEventSeries(input.namespace, previous.name, {
          count,
          lastObservedTime: microTime(now),
        });
        previous.count = count;
        return false;
      } catch (err) {
        // Expired and deleted by the apiserver's event TTL: start a new one.
        if (statusCode(err) !== 404) throw err;
      }
    }
    const event = newEvent(input, this.settings, now, randomBytes(8).toString("hex"));
    await this.writer.createEvent(event);
    this.seen.delete(key);
    this.seen.set(key, { name: event.metadata?.name ?? "", firstMs: now.getTime(), count: 1 });
    while (this.seen.size > this.settings.maxRemembered) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
    return true;
  }
}
