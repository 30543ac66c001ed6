// A namespace of its own per test file, removed afterwards (without waiting for its pods to end).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { apply, kubectl } from "./kubectl.ts";
import { waitFor } from "./wait.ts";

/** Registers hooks that create `<prefix>-<random>` before the file's tests and delete it after. */
export function useNamespace(prefix: string): { readonly name: string } {
  const ns = { name: `${prefix}-${randomBytes(3).toString("hex")}` };
  beforeAll(async () => {
    await apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns.name, labels: { "e2e.mlops.dev/suite": "true" } },
    });
    // Pods are refused until the service-account controller made the namespace's "default".
    await waitFor(
      `ServiceAccount default in ${ns.name}`,
      async () =>
        (await kubectl(["get", "serviceaccount", "default", "-n", ns.name, "-o", "name"])).trim() !== "",
    );
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns.name, "--wait=false", "--ignore-not-found"]);
  });
  return ns;
}
