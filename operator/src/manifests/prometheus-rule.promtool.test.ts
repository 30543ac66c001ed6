import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { storedModel } from "../testing/fixtures.ts";
import { prometheusRule } from "./prometheus-rule.ts";

/*
 * `promtool test rules` on the checked-in tests in alert-tests/, one file per alert, against the
 * rule file generated here from the builder (the example model spy-momentum with default
 * thresholds: 1 CPU core limit, maxReplicas 10), so tests and rules cannot drift apart. promtool
 * is the Debian package prometheus (scripts/apt-deps.sh).
 */

const run = promisify(execFile);
const TESTS = join(import.meta.dirname, "alert-tests");
const rule = prometheusRule(storedModel());
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "alert-tests-"));
  await writeFile(join(dir, "rules.yaml"), stringify({ groups: rule.spec.groups }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const files = (await readdir(TESTS)).filter((f) => f.endsWith(".yaml")).sort();

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd: dir, timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
}

describe("the generated PrometheusRule under promtool", () => {
  it("passes promtool check rules", async () => {
    expect(await promtool("check", "rules", "rules.yaml")).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("has a promtool test for every alert, each testing its own alert", async () => {
    const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
    const tested = await Promise.all(
      files.map(async (f) => {
        const test = parse(await readFile(join(TESTS, f), "utf8")) as {
          tests: { alert_rule_test: { alertname: string }[] }[];
        };
        return [...new Set(test.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)))];
      }),
    );
    expect(tested.map((names) => names.length)).toEqual(files.map(() => 1));
    expect(tested.flat().sort()).toEqual(alerts);
  });

  it.each(files)("%s: fires at its threshold and duration, not below", async (file) => {
    await copyFile(join(TESTS, file), join(dir, file));
    expect(await promtool("test", "rules", file)).toMatch(/SUCCESS/);
  });
});
