import { describe, expect, it } from "vitest";
import { actionTarget, initialTracker, probeDue, recordProbe, startupPassed } from "./probes.ts";

const probe = { periodSeconds: 2, initialDelaySeconds: 5, failureThreshold: 2, successThreshold: 1 };

describe("probes", () => {
  it("waits for the initial delay, then runs every period", () => {
    const t = initialTracker("readiness");
    expect(probeDue(probe, t, 0, 4_999)).toBe(false);
    expect(probeDue(probe, t, 0, 5_000)).toBe(true);
    const after = recordProbe(probe, t, true, 5_000);
    expect(probeDue(probe, after, 0, 6_999)).toBe(false);
    expect(probeDue(probe, after, 0, 7_000)).toBe(true);
  });

  it("starts not ready, becomes ready on success, fails only after failureThreshold in a row", () => {
    let t = initialTracker("readiness");
    expect(t.result).toBe("failure");
    t = recordProbe(probe, t, true, 1);
    expect(t.result).toBe("success");
    t = recordProbe(probe, t, false, 2);
    expect(t.result).toBe("success");
    t = recordProbe(probe, t, true, 3);
    t = recordProbe(probe, t, false, 4);
    expect(t.result).toBe("success");
    t = recordProbe(probe, t, false, 5);
    expect(t.result).toBe("failure");
  });

  it("treats liveness as passing until it fails", () => {
    expect(initialTracker("liveness").result).toBe("success");
  });

  it("gates on the startup probe until it has succeeded once", () => {
    const startup = { failureThreshold: 30, periodSeconds: 1 };
    const t = initialTracker("startup");
    expect(startupPassed(startup, t, false)).toBe(false);
    expect(startupPassed(startup, recordProbe(startup, t, true, 1), false)).toBe(true);
    expect(startupPassed(undefined, t, false)).toBe(true);
  });

  it("targets the pod IP with named ports and refuses other hosts", () => {
    const c = { name: "p", ports: [{ name: "http", containerPort: 8080 }] };
    expect(actionTarget({ httpGet: { path: "healthz", port: "http" } }, c, "10.244.1.9", "p")).toEqual({
      kind: "http",
      url: "http://10.244.1.9:8080/healthz",
      headers: {},
    });
    expect(() => actionTarget({ tcpSocket: { host: "8.8.8.8", port: 53 } }, c, "10.244.1.9", "f")).toThrow(
      'f.tcpSocket.host: "8.8.8.8" is not the pod IP',
    );
    expect(() => actionTarget({ httpGet: { port: "metrics" } }, c, "10.244.1.9", "f")).toThrow(
      'f.httpGet.port: container "p" has no port named "metrics"',
    );
  });
});
