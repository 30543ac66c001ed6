// node scripts/predictor-cold-start.ts [rounds] [baseline cli.ts]: the predictor's cold start, from
// process start to ready (its "model loaded; ready" line), alone and while two trainers, three more
// predictors and the operator start beside it (a demo's first minute on 2 cores), with an empty
// Node compile cache and with a warm one (NODE_COMPILE_CACHE, as the local cluster's pods get it),
// and the same for another checkout's predictor/src/cli.ts when given (e.g. main's, for a before
// and after measured in turns under the same load). Prints one JSON object: per case and variant,
// the median and max in ms over the rounds.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { SERVE_NODE_FLAGS } from "../predictor/src/serve/node-options.ts";
import { writeTestArtifact } from "../predictor/src/serve/test-support.ts";

const root = resolve(import.meta.dirname, "..");
const rounds = Number(process.argv[2] ?? 5);
const baselineCli = process.argv[3];
const work = await mkdtemp(join(tmpdir(), "predictor-cold-start-"));
const artifact = await writeTestArtifact(work);
const trainSpec = JSON.stringify({
  features: ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20", "zscore_20", "volume_z_20"],
  target: { horizon: 1 },
  algorithm: { type: "ridge", alpha: 1 },
  training: { data: { synthetic: { seed: 42, bars: 50_000 } } },
});

type Variant = { cli: string; cache: (round: string) => string };

function start(args: string[], env: NodeJS.ProcessEnv, cwd = root): ChildProcess {
  return spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
}

/** Starts a predictor and resolves to the ms from spawn to its readiness line. */
function predictor(cli: string, env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<number> } {
  const started = performance.now();
  // With the node flags its pod runs it with (node-options.ts); the trainers below run without, as Jobs do.
  const child = start([...SERVE_NODE_FLAGS, cli, "serve"], {
    ...env,
    HOST: "127.0.0.1",
    PORT: "0",
    MODEL_NAME: "cold-start",
    MODEL_VERSION: "v1",
    ARTIFACT_PATH: artifact.path,
    ARTIFACT_SHA256: artifact.sha256,
  });
  const ready = new Promise<number>((resolveReady, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.includes('"model loaded; ready"')) resolveReady(performance.now() - started);
    });
    child.on("exit", (code) => reject(new Error(`predictor exited ${code} before ready`)));
  });
  return { child, ready };
}

async function round(contended: boolean, variant: Variant, name: string): Promise<number[]> {
  const env = { NODE_COMPILE_CACHE: variant.cache(name) };
  const cli = variant.cli;
  const others: ChildProcess[] = [];
  if (contended) {
    for (let i = 0; i < 2; i++) {
      others.push(start([cli, "train", "--spec", trainSpec, "--out", join(work, `trained-${i}.json`)], env));
    }
    // The operator with nowhere to connect: its start-up (module loading) is the contention.
    others.push(
      start([join(cli, "../../../operator/src/main.ts")], { ...env, KUBECONFIG: join(work, "none") }),
    );
  }
  const predictors = Array.from({ length: contended ? 4 : 1 }, () => predictor(cli, env));
  try {
    return await Promise.all(predictors.map((p) => p.ready));
  } finally {
    for (const child of [...others, ...predictors.map((p) => p.child)]) child.kill("SIGKILL");
  }
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    medianMs: Math.round(sorted[Math.floor(sorted.length / 2)] as number),
    maxMs: Math.round(sorted.at(-1) as number),
  };
};

let fresh = 0;
const emptyCache = () => join(work, `empty-${fresh++}`);
const ours = join(root, "predictor/src/cli.ts");
const variants: Record<string, Variant> = {
  emptyCompileCache: { cli: ours, cache: emptyCache },
  warmCompileCache: { cli: ours, cache: () => join(work, "compile-cache") },
  ...(baselineCli ? { baseline: { cli: resolve(baselineCli), cache: emptyCache } } : {}),
};
// The predictor writes the cache once ready; one start fills it.
await round(false, variants.warmCompileCache as Variant, "fill");

const results: Record<string, unknown> = { rounds, baseline: baselineCli };
for (const contended of [false, true]) {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < rounds; i++) {
    // In turns, so that every variant sees the same load on a shared machine.
    for (const [name, variant] of Object.entries(variants)) {
      times[name] = [...(times[name] ?? []), ...(await round(contended, variant, name))];
    }
  }
  results[contended ? "contended" : "alone"] = Object.fromEntries(
    Object.entries(times).map(([name, values]) => [name, summary(values)]),
  );
}
console.log(JSON.stringify(results, null, 2));
await rm(work, { recursive: true, force: true });
