// Brings Prometheus's rules directory to the PrometheusRules in the cluster. Each file is checked
// with `promtool check rules` before it goes in; a rule that fails keeps its last good file (or
// none) and its error is reported (log and a Warning Event on the PrometheusRule). After any
// change Prometheus is told to reload (POST /-/reload, needs --web.enable-lifecycle).
import { execFile } from "node:child_process";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { withRetry } from "../../agent/retry.ts";
import { desiredRuleFiles, type PrometheusRule, RULE_FILE_SUFFIX, ruleFileName } from "./rules.ts";

const run = promisify(execFile);
const RELOAD_TIMEOUT_MS = 10_000;

export type RuleError = { rule: PrometheusRule; message: string };

export type SyncResult = { written: string[]; removed: string[]; errors: RuleError[]; reloaded: boolean };

export type RuleSyncOptions = {
  rulesDir: string;
  prometheusUrl: string;
  promtool: string;
  /** A reload that failed earlier: reload even when no file changes now. */
  reloadPending?: boolean;
};

/** promtool's complaint about a rule file, or undefined when it is valid. */
export async function checkRuleFile(promtool: string, file: string): Promise<string | undefined> {
  try {
    await run(promtool, ["check", "rules", file], { timeout: 30_000 });
    return undefined;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim();
    return output || e.message;
  }
}

export async function reloadPrometheus(prometheusUrl: string): Promise<void> {
  await withRetry(async () => {
    const res = await fetch(`${prometheusUrl}/-/reload`, {
      method: "POST",
      signal: AbortSignal.timeout(RELOAD_TIMEOUT_MS),
    });
    if (!res.ok) {
      const err = new Error(`Prometheus reload answered ${res.status}: ${(await res.text()).trim()}`);
      Object.assign(err, { statusCode: res.status });
      throw err;
    }
  });
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export async function syncRules(
  rules: readonly PrometheusRule[],
  opts: RuleSyncOptions,
): Promise<SyncResult> {
  const desired = desiredRuleFiles(rules);
  const byFile = new Map(rules.map((r) => [ruleFileName(r), r]));
  const written: string[] = [];
  const removed: string[] = [];
  const errors: RuleError[] = [];
  for (const [file, content] of desired) {
    const path = join(opts.rulesDir, file);
    if ((await readIfExists(path)) === content) continue;
    // Checked under a name Prometheus's glob (*.yaml) does not match, then renamed into place.
    const candidate = `${path}.check`;
    await writeFile(candidate, content);
    const problem = await checkRuleFile(opts.promtool, candidate);
    if (problem === undefined) {
      await rename(candidate, path);
      written.push(file);
    } else {
      await rm(candidate, { force: true });
      const rule = byFile.get(file) as PrometheusRule;
      errors.push({ rule, message: problem.replaceAll(candidate, file) });
    }
  }
  for (const file of await readdir(opts.rulesDir)) {
    if (file.endsWith(RULE_FILE_SUFFIX) && !desired.has(file)) {
      await rm(join(opts.rulesDir, file), { force: true });
      removed.push(file);
    }
  }
  const reloaded = opts.reloadPending === true || written.length + removed.length > 0;
  if (reloaded) await reloadPrometheus(opts.prometheusUrl);
  return { written, removed, errors, reloaded };
}
