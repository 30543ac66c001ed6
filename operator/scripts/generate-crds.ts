import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CRDS, crdFileName, crdYaml } from "../src/api/crd.ts";

/** Writes crds/*.yaml from the schema literals (make crds). */
const dir = join(import.meta.dirname, "..", "..", "crds");
for (const crd of CRDS) {
  const path = join(dir, crdFileName(crd));
  await writeFile(path, crdYaml(crd));
  console.log(`wrote ${path}`);
}
