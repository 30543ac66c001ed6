import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "./config.ts";
import { createMetrics } from "./metrics.ts";

/** docs/predictor.md's serving section is the contract the operator's analysis and platform teams read. */
const doc = readFileSync(new URL("../../../docs/predictor.md", import.meta.url), "utf8");
const section = doc.slice(doc.indexOf("## Serving: `predictor serve`"));

describe("docs/predictor.md: Serving: predictor serve", () => {
  it("has the section", () => {
    expect(doc).toContain("## Serving: `predictor serve`");
  });

  it("documents every setting", () => {
    for (const s of SETTINGS) expect(section, s.env).toContain(`\`${s.env}\``);
  });

  it("documents every metric the predictor defines", async () => {
    const { registry } = createMetrics({ model: "m", version: "v", track: "t" });
    const own = registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => !/^predictor_(process|nodejs)_/.test(name));
    expect(own.length).toBeGreaterThan(15);
    for (const name of own) expect(section, name).toContain(`\`${name}\``);
  });
});
