import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseArtifact } from "../artifact.ts";
import { generateBars } from "../data/synthetic.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "train-cli-"));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  terminationLog: string;
}

let runs = 0;
/** Runs the CLI with TERMINATION_LOG in the test's folder (or unset, with `terminationLog: false`). */
function cli(
  args: string[],
  env: Record<string, string> = {},
  terminationLog: string | false = join(dir, `termination-${runs++}.log`),
): Promise<Run> {
  const { TERMINATION_LOG: _unset, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...inherited, ...(terminationLog ? { TERMINATION_LOG: terminationLog } : {}), ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const log = terminationLog && existsSync(terminationLog) ? readFileSync(terminationLog, "utf8") : "";
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
          terminationLog: log,
        });
      },
    );
  });
}

const spec = (data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    features: ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20", "zscore_20", "volume_z_20"],
    target: { horizon: 1 },
    algorithm: { type: "ridge", alpha: 1 },
    training: { data, ...extra },
  });

function csvOf(bars: number, seed: number): string {
  const c = generateBars({ seed, bars });
  const lines = ["timestamp,open,high,low,close,volume"];
  for (let i = 0; i < c.length; i++) {
    lines.push(
      `${new Date(c.ts[i] as number).toISOString()},${c.open[i]},${c.high[i]},${c.low[i]},${c.close[i]},${c.volume[i]}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

describe("predictor train", () => {
  it("trains, writes the artifact and prints one summary line; same input gives the same bytes", async () => {
    const out = join(dir, "a", "model.json");
    const args = ["train", "--spec", spec({ synthetic: { seed: 5, bars: 20_000 } }), "--out", out];
    const first = await cli(args, { CODE_VERSION: "abc123" });
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] as string);
    const bytes = readFileSync(out, "utf8");
    const file = parseArtifact(bytes);
    expect(summary).toMatchObject({
      status: "ok",
      artifact: out,
      sha256: file.sha256,
      dataSha256: file.artifact.data.sha256,
      rows: 20_000,
      droppedRows: 0,
      metrics: file.artifact.metrics,
      codeVersion: "0.1.0+abc123",
    });
    expect(summary.metrics.directionalAccuracy).toBeGreaterThan(0.53);
    expect(first.terminationLog).toBe(lines[0]);

    const second = await cli(args, { CODE_VERSION: "abc123" });
    expect(second.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(bytes);

    const challenger = await cli([
      "train",
      "--spec",
      spec({ synthetic: { seed: 5, bars: 20_000 } }, { holdoutFraction: 0.3 }),
      "--out",
      join(dir, "b.json"),
      "--champion",
      out,
    ]);
    expect(challenger.code, challenger.stderr).toBe(0);
    const withChampion = JSON.parse(challenger.stdout);
    expect(withChampion.champion.sha256).toBe(file.sha256);
    expect(withChampion.champion.metrics.samples).toBe(withChampion.metrics.samples);
    // Both strategies backtested on the same rows, and their returns compared bar by bar.
    expect(withChampion.champion.metrics.strategy.bars).toBe(withChampion.metrics.strategy.bars);
    expect(withChampion.champion.strategyComparison).toMatchObject({
      samples: withChampion.metrics.samples,
      pValue: expect.any(Number),
      effectiveSamples: expect.any(Number),
    });
    expect(challenger.terminationLog).toBe(challenger.stdout.trim());
  });

  it("keeps the termination message valid JSON within 4096 bytes by leaving out per-fold metrics", async () => {
    const run = await cli([
      "train",
      "--spec",
      spec({ synthetic: { seed: 6, bars: 30_000 } }, { walkForward: { folds: 20 } }),
      "--out",
      join(dir, "folds.json"),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.split.walkForward.metrics).toHaveLength(20);
    expect(Buffer.byteLength(run.stdout)).toBeGreaterThan(4096);
    expect(Buffer.byteLength(run.terminationLog)).toBeLessThanOrEqual(4096);
    const { split, ...rest } = JSON.parse(run.terminationLog);
    expect(split.walkForward).toEqual({ folds: 20 });
    const { split: _full, ...expected } = summary;
    expect(rest).toEqual(expected);
  });

  it("reads a CSV file with ISO timestamps and hashes its bytes", async () => {
    const csv = csvOf(3000, 8)
      .split("\n")
      .map((line, i) => (i === 0 ? `${line},venue` : line && `${line},XNAS`))
      .join("\n");
    const path = join(dir, "bars.csv");
    writeFileSync(path, csv);
    const run = await cli([
      "train",
      "--spec",
      spec({ path }, { minRows: 500 }),
      "--out",
      join(dir, "csv.json"),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.dataSha256).toBe(createHash("sha256").update(csv).digest("hex"));
    expect(summary.rows).toBe(3000);
    expect(summary.ignoredColumns).toEqual(["venue"]);
  });

  it("exits 2 naming the field for an invalid spec, and writes the termination log", async () => {
    const specFile = join(dir, "spec.json");
    const body = {
      ...JSON.parse(spec({ synthetic: { seed: 1, bars: 500 } })),
      algorithm: { type: "ridge", alpha: -1 },
    };
    // A byte order mark, as some editors write, is not an error.
    writeFileSync(specFile, `\uFEFF${JSON.stringify(body)}`);
    const run = await cli(["train", "--spec", specFile, "--out", join(dir, "x.json")]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.terminationLog).toBe("spec.algorithm.alpha: must be a number in (0, 1000000]");
    expect(run.stderr).toContain("spec.algorithm.alpha: must be a number in (0, 1000000]");
  });

  it("does not create the default termination log outside a pod", async () => {
    const existed = existsSync("/dev/termination-log");
    const run = await cli(["train", "--spec", "{", "--out", join(dir, "y.json")], {}, false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("spec: not valid JSON");
    expect(existsSync("/dev/termination-log")).toBe(existed);
  });

  it("exits 2 naming row and column for invalid data", async () => {
    const path = join(dir, "bad.csv");
    writeFileSync(path, csvOf(300, 2).replace(/\n([^,\n]+),([^,\n]+),/, "\n$1,oops,"));
    const run = await cli(["train", "--spec", spec({ path }), "--out", join(dir, "bad.json")]);
    expect(run.code).toBe(2);
    expect(run.terminationLog).toBe(`data (path ${path}): row 1, column "open": "oops" is not a number`);
  });

  it("exits 2 when there are too few rows after the lookback", async () => {
    const path = join(dir, "few.csv");
    writeFileSync(path, csvOf(120, 1));
    const run = await cli(["train", "--spec", spec({ path }), "--out", join(dir, "few.json")]);
    expect(run.code).toBe(2);
    expect(run.terminationLog).toMatch(/^training on path .*few\.csv: too few rows for a holdout split/);
  });

  it("exits 2 at once, naming the path, when the data file does not exist (a wrong ConfigMap key)", async () => {
    const path = join(dir, "data", "bars.csv");
    const run = await cli(["train", "--spec", spec({ path }), "--out", join(dir, "m.json")]);
    expect(run.code).toBe(2);
    expect(run.terminationLog).toBe(
      `data source path ${path}: no such file (for a configMapRef source, the path ends in the ConfigMap key)`,
    );
    expect(run.stderr).not.toContain("retrying");
  });

  it("exits 3 when the data source stays unavailable after retries", async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bars.csv`;
    try {
      const run = await cli([
        "train",
        "--spec",
        spec({ url, timeoutMs: 150, retries: 1 }),
        "--out",
        join(dir, "u.json"),
      ]);
      expect(run.code).toBe(3);
      expect(run.terminationLog).toBe(
        `data source url ${url} unavailable after 2 attempts: timed out; timed out`,
      );
      expect(run.stderr).toContain("data source failed; retrying");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("exits 2, not retried, when the data URL's server refuses it (a wrong URL is not an outage)", async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bars.csv`;
    try {
      const run = await cli(["train", "--spec", spec({ url, retries: 3 }), "--out", join(dir, "u.json")]);
      expect(run.code).toBe(2);
      expect(run.terminationLog).toBe(
        `data source url ${url} answered HTTP 404 Not Found: check the URL and its access`,
      );
      expect(run.stderr).not.toContain("retrying");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("exits 2 naming a data source field it does not know, and a synthetic market too large", async () => {
    const run = await cli([
      "train",
      "--spec",
      spec({ synthetic: { seed: 1, bars: 1e12, regim: "mixed" } }),
      "--out",
      join(dir, "s.json"),
    ]);
    expect(run.code).toBe(2);
    expect(run.terminationLog).toContain(
      "spec.training.data.synthetic.regim: unknown field (known: seed, bars, regime, startTs, barMs, drift)",
    );
    expect(run.terminationLog).toContain(
      "spec.training.data.synthetic.bars: must be an integer from 500 to 5000000",
    );
  });

  it("exits 1 when the artifact cannot be written", async () => {
    const out = join(dir, "not-a-dir.json", "model.json");
    writeFileSync(join(dir, "not-a-dir.json"), "");
    const run = await cli(["train", "--spec", spec({ synthetic: { seed: 1, bars: 2000 } }), "--out", out]);
    expect(run.code).toBe(1);
    expect(run.terminationLog).toMatch(new RegExp(`^--out ${out}: cannot write the artifact: EEXIST`));
  });

  it("exits 2 with usage for bad arguments and 0 for --help", async () => {
    const missing = await cli(["train", "--spec", "{}"]);
    expect(missing.code).toBe(2);
    expect(missing.terminationLog).toBe("missing --out");
    expect(missing.stderr).toContain("usage: predictor train --spec");
    const help = await cli(["train", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      "exit codes: 0 trained, 2 invalid spec, data, data path or arguments, 3 data source unavailable",
    );
    const top = await cli(["--help"]);
    expect(top.stdout).toContain("train    train a model from a spec");
    const unknown = await cli(["fly"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "fly"');
  });
});
