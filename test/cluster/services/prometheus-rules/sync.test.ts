// The rule sync against the real promtool and a stand-in Prometheus that records reloads.

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type PrometheusRule, ruleFileName } from "./rules.ts";
import { syncRules } from "./sync.ts";

let dir = "";
let reloads = 0;
let reloadStatus = 200;
let prometheus: Server;
let prometheusUrl = "";

function rule(name: string, expr: string, namespace = "trading"): PrometheusRule {
  return {
    metadata: { namespace, name },
    spec: { groups: [{ name: `${name}.rules`, rules: [{ record: "demo:requests:rate1m", expr }] }] },
  };
}

const options = () => ({ rulesDir: dir, prometheusUrl, promtool: "promtool" });

beforeAll(async () => {
  prometheus = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/-/reload") reloads++;
    res.writeHead(req.url === "/-/reload" ? reloadStatus : 404);
    res.end(reloadStatus === 200 ? "" : "error loading rules");
  });
  await new Promise<void>((resolve) => prometheus.listen(0, "127.0.0.1", resolve));
  const a = prometheus.address();
  if (a && typeof a !== "string") prometheusUrl = `http://127.0.0.1:${a.port}`;
});

afterAll(() => prometheus.close());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-"));
  reloads = 0;
  reloadStatus = 200;
  return () => rm(dir, { recursive: true, force: true });
});

describe("syncRules", () => {
  it("writes one file per PrometheusRule with its groups and reloads Prometheus once", async () => {
    const a = rule("a", "sum(rate(predictor_http_requests_total[1m]))");
    const b = rule("b", "vector(1)", "monitoring");
    const result = await syncRules([a, b], options());
    expect(result.written.sort()).toEqual(["monitoring__b.yaml", "trading__a.yaml"]);
    expect(result.reloaded).toBe(true);
    expect(reloads).toBe(1);
    const content = parse(await readFile(join(dir, ruleFileName(a)), "utf8"));
    expect(content).toEqual({ groups: a.spec?.groups });
  });

  it("does nothing when the files already match, and removes files of deleted rules", async () => {
    const a = rule("a", "vector(1)");
    await syncRules([a, rule("b", "vector(2)")], options());
    const unchanged = await syncRules([a, rule("b", "vector(2)")], options());
    expect(unchanged).toEqual({ written: [], removed: [], errors: [], reloaded: false });
    const afterDelete = await syncRules([a], options());
    expect(afterDelete.removed).toEqual(["trading__b.yaml"]);
    expect(await readdir(dir)).toEqual(["trading__a.yaml"]);
    expect(reloads).toBe(2);
  });

  it("keeps a rule promtool rejects out, with promtool's message, and loads the others", async () => {
    const good = rule("good", "vector(1)");
    const bad = rule("bad", "sum(rate(x[1m])"); // unclosed parenthesis
    const result = await syncRules([good, bad], options());
    expect(result.written).toEqual(["trading__good.yaml"]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.rule).toBe(bad);
    expect(result.errors[0]?.message).toMatch(/trading__bad\.yaml.*(parse error|unclosed|expected)/s);
    expect(await readdir(dir)).toEqual(["trading__good.yaml"]);
  });

  it("keeps the last good file of a rule whose new version is rejected", async () => {
    await syncRules([rule("a", "vector(1)")], options());
    const result = await syncRules([rule("a", "vector(")], options());
    expect(result.errors).toHaveLength(1);
    expect(await readFile(join(dir, "trading__a.yaml"), "utf8")).toContain("vector(1)");
  });

  it("fails when Prometheus refuses the reload, with its answer", async () => {
    reloadStatus = 500;
    await writeFile(join(dir, "stale.yaml"), "groups: []\n");
    await expect(syncRules([], options())).rejects.toThrow(
      "Prometheus reload answered 500: error loading rules",
    );
  });
});
