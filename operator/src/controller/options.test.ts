import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPTIONS, parseOptions } from "./options.ts";

describe("parseOptions", () => {
  it("has working defaults: all namespaces, leader election on, port 8081", () => {
    expect(parseOptions([], {})).toEqual({
      workers: 2,
      predictorImage: "tradingmodel/predictor:0.1.0",
      operatorImage: "tradingmodel/operator:0.1.0",
      fieldManager: "tradingmodel-operator",
      metricsHost: "0.0.0.0",
      metricsPort: 8081,
      leaderElect: true,
      leaderElectionId: "tradingmodel-operator",
      trainingJobTtlSeconds: 3600,
      resyncPeriodSeconds: 300,
      apiTimeoutMs: 10000,
      logLevel: "info",
    });
  });

  it("takes a flag over its environment variable, and an empty variable as unset", () => {
    const options = parseOptions(["--workers", "4", "--namespace=trading"], {
      WORKERS: "8",
      WATCH_NAMESPACE: "x",
      POD_NAME: "op-0",
      LEADER_ELECT: "false",
      KUBECONFIG: "",
    });
    expect(options).toMatchObject({ workers: 4, namespace: "trading", identity: "op-0", leaderElect: false });
    expect(options.kubeconfig).toBeUndefined();
  });

  it("names the flag and the variable of a bad value", () => {
    expect(() => parseOptions([], { METRICS_PORT: "80.5" })).toThrow(
      '--metrics-port (METRICS_PORT)="80.5" is invalid: want an integer from 0 to 65535',
    );
    expect(() => parseOptions(["--workers", "0"], {})).toThrow(/--workers \(WORKERS\)="0" is invalid/);
    expect(() => parseOptions(["--leader-elect", "yes"], {})).toThrow(/want true or false/);
    expect(() => parseOptions(["--wrokers", "2"], {})).toThrow(/wrokers/);
  });
});

describe("the flag table of docs/operator.md", () => {
  it("lists every flag with its variable and default", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/operator.md"), "utf8");
    expect(doc).toContain("## Running it");
    const section = doc.slice(doc.indexOf("## Running it"), doc.indexOf("### Metrics and probes"));
    for (const [name, spec] of Object.entries(OPTIONS)) {
      const row = section.split("\n").find((line) => line.startsWith(`| \`--${name}\``));
      expect(row, `--${name}`).toBeDefined();
      expect(row).toContain(`\`${spec.env}\``);
      if ("default" in spec) expect(row).toContain(spec.default);
    }
  });
});
