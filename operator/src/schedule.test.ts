import { describe, expect, it } from "vitest";
import { nextScheduledTime, ScheduleError } from "./schedule.ts";

describe("nextScheduledTime", () => {
  it("reads the schedule in its time zone: 21:30 New York on weekdays", () => {
    const tuesdayMorningUtc = new Date("2026-11-24T10:00:00Z");
    expect(nextScheduledTime("30 21 * * 1-5", "America/New_York", tuesdayMorningUtc).toISOString()).toBe(
      "2026-11-25T02:30:00.000Z",
    );
  });

  it("skips the weekend", () => {
    const fridayNight = new Date("2026-11-28T03:00:00Z"); // Friday 22:00 in New York
    expect(nextScheduledTime("30 21 * * 1-5", "America/New_York", fridayNight).toISOString()).toBe(
      "2026-12-01T02:30:00.000Z",
    );
  });

  it("uses UTC without a time zone, and knows the nicknames", () => {
    expect(nextScheduledTime("@daily", undefined, new Date("2026-11-24T10:00:00Z")).toISOString()).toBe(
      "2026-11-25T00:00:00.000Z",
    );
  });

  it("names the field of a schedule or time zone the pattern check let through", () => {
    expect(() => nextScheduledTime("61 * * * *", undefined, new Date())).toThrow(ScheduleError);
    expect(() => nextScheduledTime("61 * * * *", undefined, new Date())).toThrow(
      /^spec\.training\.schedule: .*minute/,
    );
    expect(() => nextScheduledTime("* * * * *", "Mars/Olympus", new Date())).toThrow(
      /^spec\.training\.timeZone: /,
    );
  });
});
