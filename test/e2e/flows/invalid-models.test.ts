// The apiserver, not our local admission, is the authority on what a TradingModel may say: each of
// the invalid examples is created for real and must be refused with a message naming its field.
import { beforeAll, describe, expect, it } from "vitest";
import { invalidTradingModels, validTradingModel } from "../../../operator/src/api/invalid-examples.ts";
import { installCrds } from "../operator/support.ts";
import { KubectlError, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";

function inNamespace(object: Record<string, unknown>, namespace: string): Record<string, unknown> {
  const copy = structuredClone(object) as { metadata: { namespace: string } };
  copy.metadata.namespace = namespace;
  return copy;
}

/** kubectl's stderr for a create the apiserver refused; fails the test if it was admitted. */
async function refusal(object: Record<string, unknown>): Promise<string> {
  try {
    await kubectl(["create", "-f", "-"], { input: JSON.stringify(object) });
  } catch (err) {
    if (err instanceof KubectlError) return err.stderr;
    throw err;
  }
  throw new Error("the apiserver admitted it");
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("invalid TradingModels against the real apiserver", () => {
  const ns = useNamespace("e2e-flow-invalid");
  beforeAll(installCrds);

  it("admits the valid model they are all variants of", async () => {
    const out = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], {
      input: JSON.stringify(inNamespace(validTradingModel(), ns.name)),
    });
    expect(out.trim()).toBe("tradingmodel.trading.mlops.dev/valid-model");
  });

  it("has at least 25 of them", () => {
    expect(invalidTradingModels.length).toBeGreaterThanOrEqual(25);
  });

  it.each(invalidTradingModels.map((e) => [e.case, e] as const))(
    "refuses %s, naming the field",
    async (_case, example) => {
      const message = await refusal(inNamespace(example.object, ns.name));
      // The field as a field error ("spec.x: Invalid value…") or a quoted unknown field, never a
      // mere prefix of a longer path (spec.features vs spec.features[0]).
      expect(message).toMatch(
        new RegExp(`(^|[\\s*])${literal(example.field)}: |"${literal(example.field)}"`, "m"),
      );
    },
  );

  it("left no TradingModel behind", async () => {
    expect((await kubectl(["get", "tm", "-n", ns.name, "-o", "name"])).trim()).toBe("");
  });
});
