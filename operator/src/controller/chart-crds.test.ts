import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const generated = join(root, "crds");
const shipped = join(root, "helm/tradingmodel-operator/crds");

/** The chart installs the operator's CRDs from its own crds/; `make crds` writes both. */
describe("the Helm chart's CRDs", () => {
  it("are the generated ones, byte for byte, and no others", () => {
    const files = readdirSync(generated).sort();
    expect(readdirSync(shipped).sort()).toEqual(files);
    for (const file of files) {
      expect(readFileSync(join(shipped, file), "utf8"), `${file}: run make crds`).toBe(
        readFileSync(join(generated, file), "utf8"),
      );
    }
  });
});
