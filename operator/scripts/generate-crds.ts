import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CRDS, crdFileName, crdYaml } from "../src/api/crd.ts";
import { apiReference, REFERENCE_MARKER } from "../src/api/reference.ts";

/** Writes crds/*.yaml and the reference part of docs/api.md from the schema literals (make crds). */
const root = join(import.meta.dirname, "..", "..");
for (const crd of CRDS) {
  const path = join(root, "crds", crdFileName(crd));
  await writeFile(path, crdYaml(crd));
  console.log(`wrote ${path}`);
}
const page = join(root, "docs", "api.md");
const text = await readFile(page, "utf8");
const at = text.indexOf(REFERENCE_MARKER);
if (at < 0) throw new Error(`${page}: the marker line is missing: ${REFERENCE_MARKER}`);
await writeFile(page, text.slice(0, at) + apiReference());
console.log(`wrote the reference in ${page}`);
