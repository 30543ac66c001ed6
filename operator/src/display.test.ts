import { describe, expect, it } from "vitest";
import { liveDisplay, readable, versionDisplay } from "./display.ts";
import { metrics, storedModel } from "./testing/fixtures.ts";
import { World } from "./testing/world.ts";

describe("numbers as kubectl get prints them", () => {
  it("keeps 4 significant digits and drops trailing zeros", () => {
    expect(readable(0.5575126768081131)).toBe("0.5575");
    expect(readable(0.027091379344575)).toBe("0.02709");
    expect(readable(-0.0012345678)).toBe("-0.001235");
    expect(readable(0.5)).toBe("0.5");
    expect(readable(0)).toBe("0");
    expect(readable(4.218765)).toBe("4.219");
    expect(readable(1234.5678)).toBe("1235");
    expect(readable(2.5e-7)).toBe("2.5e-7");
  });

  it("shows a version's holdout metrics and the live measurement, leaving out what is not measured", () => {
    expect(
      versionDisplay(metrics({ directionalAccuracy: 0.5575126768081131, r2: 0.027091379344575 })),
    ).toEqual({
      directionalAccuracy: "0.5575",
      r2: "0.02709",
      sharpe: "2.5",
    });
    expect(
      liveDisplay({ accuracy: 0.53333333, latencyP95Ms: 4.218765, measuredAt: "2026-11-24T09:01:00Z" }),
    ).toEqual({
      accuracy: "0.5333",
      latencyP95Ms: "4.219",
    });
  });
});

describe("status.display of a ModelVersion", () => {
  it("is written with the metrics when the version is registered; the metrics keep full precision", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingSucceeds(1, metrics({ directionalAccuracy: 0.5575126768081131, r2: 0.027091379344575 }));
    world.reconcile();
    const status = world.versions[0]?.status;
    expect(status?.metrics?.r2).toBe(0.027091379344575);
    expect(status?.display).toEqual({ directionalAccuracy: "0.5575", r2: "0.02709", sharpe: "2.5" });
  });

  it("is written on a version registered before display existed, once", () => {
    const world = new World(storedModel()).serveFirstVersion();
    const v1 = world.versions[0];
    if (v1?.status) delete v1.status.display;
    const plan = world.reconcile();
    expect(plan.versionStatus.map((s) => [s.name, s.status.display])).toEqual([
      ["spy-momentum-v1", versionDisplay(metrics())],
    ]);
    expect(world.reconcile().versionStatus).toEqual([]);
  });
});
