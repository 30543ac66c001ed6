import { Cron } from "croner";

export class ScheduleError extends Error {
  override name = "ScheduleError";
}

/**
 * The first scheduled time strictly after `after`, in the schedule's time zone (UTC when none).
 * Pure: nothing is scheduled, the operator requeues itself for that time.
 */
export function nextScheduledTime(schedule: string, timeZone: string | undefined, after: Date): Date {
  let next: Date | null;
  try {
    next = new Cron(schedule, { timezone: timeZone ?? "UTC" }).nextRun(after);
  } catch (err) {
    const field = /timezone/i.test((err as Error).message)
      ? "spec.training.timeZone"
      : "spec.training.schedule";
    throw new ScheduleError(`${field}: ${(err as Error).message}`);
  }
  if (!next)
    throw new ScheduleError(`spec.training.schedule: "${schedule}" never fires after ${after.toISOString()}`);
  return next;
}
