/** The servers the benchmarks measure, each started pinned to the server core (processes.ts). */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SERVE_NODE_FLAGS } from "../predictor/src/serve/node-options.ts";
import { freePort, type Service, startService } from "./processes.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const PYTHON = "/usr/bin/python3";
const GUNICORN = "/usr/bin/gunicorn";
const BASELINES = join(ROOT, "bench", "baselines");
/** MLServer's virtual environment, which the benchmark creates (scripts/python-venv.sh). */
const MLSERVER_VENV = join(ROOT, ".tools", "mlserver");
/** The model's name on every server that names it: the predictor's MODEL_NAME, MLServer's model. */
export const BENCH_MODEL = "bench";
/** The Open Inference Protocol's inference path of the benchmark's model, on the predictor and MLServer alike. */
export const OIP_INFER_PATH = `/v2/models/${BENCH_MODEL}/infer`;

/**
 * Installs MLServer and mlserver-sklearn from PyPI into .tools/mlserver (once; a few minutes) and
 * writes its model repository in `dir`: the artifact as a scikit-learn pipeline, settings.json
 * with ports of our choosing.
 */
async function mlserverRepository(artifactPath: string, dir: string, httpPort: number): Promise<void> {
  const run = promisify(execFile);
  const requirements = join(BASELINES, "mlserver-requirements.txt");
  await run(join(ROOT, "scripts", "python-venv.sh"), [MLSERVER_VENV, requirements], { timeout: 900_000 });
  const ports = [httpPort, await freePort(), await freePort()].map(String);
  await run(
    join(MLSERVER_VENV, "bin", "python"),
    [join(BASELINES, "mlserver_model.py"), artifactPath, dir, BENCH_MODEL, ...ports],
    { timeout: 120_000 },
  );
}
/**
 * predictor: `predictor serve` as in its pod (one process, default log level);
 * flask: the stack users run today, gunicorn with 2 sync workers serving bench/baselines/flask_app.py;
 * nodeHttp: bare node:http answering a constant, the ceiling of any Node HTTP service here;
 * mlserver: the inference server users would pick instead, MLServer with mlserver-sklearn serving
 * the same model as a scikit-learn pipeline over the Open Inference Protocol, from its main process.
 */
export type StackName = "predictor" | "flask" | "nodeHttp" | "mlserver";

/** `instance` names the process and its log, for a second one of the same stack. */
export async function startStack(
  name: StackName,
  artifactPath: string,
  logDir: string,
  instance: string = name,
): Promise<Service> {
  const port = await freePort();
  const common = { name: instance, port, logDir };
  switch (name) {
    case "predictor":
      return startService({
        ...common,
        command: process.execPath,
        args: [...SERVE_NODE_FLAGS, join(ROOT, "predictor", "src", "cli.ts"), "serve"],
        env: {
          ARTIFACT_PATH: artifactPath,
          MODEL_NAME: BENCH_MODEL,
          MODEL_VERSION: "bench",
          HOST: "127.0.0.1",
          PORT: String(port),
        },
        readyPath: "/readyz",
      });
    case "flask":
      return startService({
        ...common,
        command: GUNICORN,
        args: ["--workers", "2", "--worker-class", "sync", "--bind", `127.0.0.1:${port}`, "flask_app:app"],
        env: { BENCH_ARTIFACT: artifactPath, PYTHONPATH: BASELINES },
        readyPath: "/healthz",
      });
    case "nodeHttp":
      return startService({
        ...common,
        command: process.execPath,
        args: [join(ROOT, "bench", "servers", "constant-http.ts"), String(port)],
        readyPath: "/",
      });
    case "mlserver": {
      const dir = join(logDir, "mlserver-model");
      await mlserverRepository(artifactPath, dir, port);
      return startService({
        ...common,
        command: join(MLSERVER_VENV, "bin", "mlserver"),
        args: ["start", dir],
        readyPath: `/v2/models/${BENCH_MODEL}/ready`,
        // Its imports alone take ~10 s on an idle core.
        readyTimeoutMs: 120_000,
      });
    }
  }
}

/** Runs `use` against a freshly started stack and always stops it afterwards. */
export async function withStack<T>(
  name: StackName,
  artifactPath: string,
  logDir: string,
  use: (service: Service) => Promise<T>,
): Promise<T> {
  const service = await startStack(name, artifactPath, logDir);
  try {
    return await use(service);
  } finally {
    await service.stop();
  }
}

/**
 * A benchmark row as sent on pass `pass` over the rows: every value scaled by a hair more per pass,
 * so that no two bodies carry the same numbers. With one body sent again and again, V8 would format
 * the answer's numbers from its cache of recently formatted numbers (16,384 entries), which real
 * traffic never lets it do.
 */
export function rowOfPass(row: readonly number[], pass: number): number[] {
  const scale = 1 + pass * 2 ** -30;
  return row.map((x) => x * scale);
}

/** POSTs JSON with a timeout; throws with the answer's text on a non-2xx status. */
export function postJson(url: string, body: unknown): Promise<{ json: unknown; headers: Headers }> {
  return postJsonText(url, JSON.stringify(body));
}

/** POSTs a body that is JSON text already; as postJson. */
export async function postJsonText(url: string, body: string): Promise<{ json: unknown; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return { json: JSON.parse(text) as unknown, headers: res.headers };
}

/** An Open Inference Protocol request of `rows` in one FP64 tensor [N, F], the form MLServer's scikit-learn runtime takes. */
export function oipRequest(rows: readonly (readonly number[])[]) {
  const width = rows[0]?.length ?? 0;
  return { inputs: [{ name: "input-0", shape: [rows.length, width], datatype: "FP64", data: rows.flat() }] };
}

/** A request body carrying one row's features by name, the form a client most often sends. */
export function namedRow(
  features: readonly string[],
  row: readonly number[],
): { features: Record<string, number> } {
  return { features: Object.fromEntries(features.map((f, i) => [f, row[i] as number])) };
}
