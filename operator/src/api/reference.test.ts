import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CRDS } from "./crd.ts";
import { apiReference, REFERENCE_MARKER } from "./reference.ts";

const page = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "api.md"), "utf8");

describe("docs/api.md", () => {
  it("holds the reference generated from the current schema (run `make crds`)", () => {
    expect(page.indexOf(REFERENCE_MARKER)).toBeGreaterThan(0);
    expect(page.slice(page.indexOf(REFERENCE_MARKER))).toBe(apiReference());
  });

  it("lists every spec field of both kinds with its bounds", () => {
    const reference = apiReference();
    for (const crd of CRDS) expect(reference).toContain(`### ${crd.kind} (`);
    expect(reference).toMatch(
      /\| `spec\.training\.holdoutFraction` \| number \| {2}\| `0\.2` \| >= 0\.05, <= 0\.5 \| Share of the most recent rows/,
    );
    expect(reference).toContain("| `spec.algorithm.alpha` | number |  |  | > 0, <= 1000000 |");
  });
});
