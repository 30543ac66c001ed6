import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { storedVersion } from "../testing/fixtures.ts";
import { CRDS, crdFileName, crdYaml } from "./crd.ts";
import { invalidTradingModels, validTradingModel } from "./invalid-examples.ts";
import type { JSONSchemaProps } from "./json-schema.ts";
import { admit } from "./local-admission.ts";
import { modelVersionSchema } from "./modelversion.ts";
import { tradingModelSchema } from "./tradingmodel.ts";

const root = join(import.meta.dirname, "..", "..", "..");

function* walk(schema: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  yield [path, schema];
  for (const [k, child] of Object.entries(schema.properties ?? {})) yield* walk(child, `${path}.${k}`);
  if (schema.items) yield* walk(schema.items, `${path}[]`);
  if (schema.additionalProperties) yield* walk(schema.additionalProperties, `${path}{}`);
}

describe("generated CRDs", () => {
  it.each(CRDS.map((c) => [c.kind, c] as const))(
    "crds/ holds the current %s schema (run `make crds`)",
    async (_kind, crd) => {
      const onDisk = await readFile(join(root, "crds", crdFileName(crd)), "utf8");
      expect(onDisk).toBe(crdYaml(crd));
    },
  );

  it("crds/ holds nothing that the schema does not generate", async () => {
    const files = (await readdir(join(root, "crds"))).filter((f) => f.endsWith(".yaml"));
    expect(files.sort()).toEqual(CRDS.map(crdFileName).sort());
  });

  it("names the group, short names, status subresource and printer columns kubectl shows", () => {
    const tm = parse(crdYaml(CRDS[0] as (typeof CRDS)[number]));
    expect(tm.metadata.name).toBe("tradingmodels.trading.mlops.dev");
    expect(tm.spec.names.shortNames).toEqual(["tm"]);
    const version = tm.spec.versions[0];
    expect(version.subresources).toEqual({ status: {} });
    const columns = version.additionalPrinterColumns.map((c: { name: string; priority?: number }) =>
      c.priority ? `${c.name} (wide)` : c.name,
    );
    expect(columns).toEqual([
      "Phase",
      "Stable",
      "Candidate",
      "Weight",
      "Accuracy",
      "P95",
      "Age",
      "Errors (wide)",
      "Strategy (wide)",
      "Training (wide)",
      "Message (wide)",
    ]);
  });
});

describe.each(CRDS.map((crd) => [crd.kind, crd] as const))("%s printer columns", (_kind, crd) => {
  it("each show a field the schema has, so a renamed field cannot blank a column", () => {
    const resolve = (path: string) =>
      path
        .slice(1)
        .split(".")
        .reduce<JSONSchemaProps | undefined>((s, key) => s?.properties?.[key], crd.schema);
    const missing = crd.printerColumns
      .filter((c) => c.jsonPath !== ".metadata.creationTimestamp")
      .filter((c) => {
        const field = resolve(c.jsonPath);
        const type = c.type === "date" ? "string" : c.type;
        return field?.type !== type;
      });
    expect(missing.map((c) => `${c.name} ${c.jsonPath}`)).toEqual([]);
  });
});

describe.each([
  ["TradingModel", tradingModelSchema],
  ["ModelVersion", modelVersionSchema],
] as const)("%s schema", (_kind, schema) => {
  it("documents every field, so kubectl explain reads like documentation", () => {
    // metadata's schema belongs to the apiserver, which allows no more than `type: object` there.
    const undocumented = [...walk(schema, "")].filter(([path, s]) => path !== ".metadata" && !s.description);
    expect(undocumented.map(([path]) => path)).toEqual([]);
  });

  it("gives every integer and number a lower bound", () => {
    const unbounded = [...walk(schema, "")].filter(
      ([, s]) => (s.type === "integer" || s.type === "number") && s.minimum === undefined,
    );
    expect(unbounded.map(([path]) => path)).toEqual([]);
  });
});

describe("TradingModel admission (local)", () => {
  it.each(["spy-momentum.yaml", "mean-reversion-bluegreen.yaml"])("admits examples/%s", async (file) => {
    const object = parse(await readFile(join(root, "examples", file), "utf8"));
    expect(admit(tradingModelSchema, object).errors).toEqual([]);
  });

  it("admits the valid model the invalid ones are derived from", () => {
    expect(admit(tradingModelSchema, validTradingModel()).errors).toEqual([]);
  });

  it("fills in the documented defaults", () => {
    const object = validTradingModel();
    const spec = object.spec as Record<string, Record<string, unknown>>;
    delete spec.rollout;
    delete spec.analysis;
    const { object: defaulted } = admit(tradingModelSchema, object) as {
      object: { spec: Record<string, unknown> };
    };
    expect(defaulted.spec.rollout).toEqual({ strategy: "Canary", traffic: "Replicas", paused: false });
    expect(defaulted.spec.analysis).toEqual({
      interval: "30s",
      minSamples: 100,
      onNoData: "Wait",
      failureLimit: 1,
      window: "1m",
      noDataLimit: 10,
    });
    expect(defaulted.spec.versionHistoryLimit).toBe(5);
  });

  it("keeps at least 25 invalid examples for the e2e suite", () => {
    expect(invalidTradingModels.length).toBeGreaterThanOrEqual(25);
  });

  it.each(invalidTradingModels.map((e) => [e.case, e] as const))(
    "rejects %s, naming the field",
    (_case, example) => {
      const { errors } = admit(tradingModelSchema, example.object);
      expect(errors.map((e) => e.field)).toContain(example.field);
    },
  );
});

describe("ModelVersion admission (local)", () => {
  const version = storedVersion(3);

  it("admits a version named after its model and number, and defaults the artifact key", () => {
    const withoutKey = structuredClone(version) as { spec: { artifact: { configMapRef: { key?: string } } } };
    delete withoutKey.spec.artifact.configMapRef.key;
    const { object, errors } = admit(modelVersionSchema, withoutKey);
    expect(errors).toEqual([]);
    expect(object).toEqual(version);
  });

  it("rejects a name that does not match spec.model and spec.version", () => {
    const renamed = { ...version, metadata: { name: "spy-momentum-v4", namespace: "trading" } };
    // The apiserver allows no fieldPath into metadata: the error is the object's, its message names the field.
    expect(admit(modelVersionSchema, renamed).errors).toEqual([
      { field: "", message: "Invalid value: metadata.name must be <spec.model>-v<spec.version>" },
    ]);
  });

  it("rejects any change to the spec, and allows an unchanged one", () => {
    const changed = structuredClone(version);
    changed.spec.codeVersion = "0.2.0";
    expect(admit(modelVersionSchema, changed, version).errors).toEqual([
      { field: "spec", message: "Invalid value: spec is immutable" },
    ]);
    expect(admit(modelVersionSchema, structuredClone(version), version).errors).toEqual([]);
  });
});
