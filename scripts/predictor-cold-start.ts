// node scripts/predictor-cold-start.ts [rounds]: the predictor's cold start, from process start to
// ready (its "model loaded; ready" line), alone and while two trainers, three more predictors and
// the operator start beside it (a demo's first minute on 2 cores), each with an empty Node compile
// cache and with a warm one (NODE_COMPILE_CACHE, as the local cluster's pods get it). Prints one
// JSON object: per case and cache, the median and max in ms over the rounds.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { writeTestArtifact } from "../predictor/src/serve/test-support.ts";

const root = resolve(import.meta.dirname, "..");
const cli = join(root, "predictor/src/cli.ts");
const rounds = Number(process.argv[2] ?? 5);
const work = await mkdtemp(join(tmpdir(), "predictor-cold-start-"));
const artifact = await writeTestArtifact(work);
const trainSpec = JSON.stringify({
  features: ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20", "zscore_20", "volume_z_20"],
  target: { horizon: 1 },
  algorithm: { type: "ridge", alpha: 1 },
  training: { data: { synthetic: { seed: 42, bars: 50_000 } } },
});

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
}

/** Starts a predictor and resolves to the ms from spawn to its readiness line. */
function predictor(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<number> } {
  const started = performance.now();
  const child = start([cli, "serve"], {
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

async function round(contended: boolean, env: NodeJS.ProcessEnv): Promise<number[]> {
  const others: ChildProcess[] = [];
  if (contended) {
    for (let i = 0; i < 2; i++) {
      others.push(start([cli, "train", "--spec", trainSpec, "--out", join(work, `trained-${i}.json`)], env));
    }
    // The operator with nowhere to connect: its start-up (module loading) is the contention.
    others.push(start([join(root, "operator/src/main.ts")], { ...env, KUBECONFIG: join(work, "none") }));
  }
  const predictors = Array.from({ length: contended ? 4 : 1 }, () => predictor(env));
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

const results: Record<string, unknown> = { rounds };
const cacheDir = join(work, "compile-cache");
// The predictor writes the cache once ready; one start fills it.
await round(false, { NODE_COMPILE_CACHE: cacheDir });
for (const contended of [false, true]) {
  const name = contended ? "contended" : "alone";
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Interleaved, so that both see the same load on a shared machine.
    cold.push(...(await round(contended, { NODE_COMPILE_CACHE: join(work, `empty-${name}-${i}`) })));
    warm.push(...(await round(contended, { NODE_COMPILE_CACHE: cacheDir })));
  }
  results[name] = { emptyCompileCache: summary(cold), warmCompileCache: summary(warm) };
}
console.log(JSON.stringify(results, null, 2));
await rm(work, { recursive: true, force: true });
