import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { e2eContext } from "../support/context.ts";

export const repoRoot = resolve(import.meta.dirname, "../../..");

/** kubectl against the e2e cluster; `input` goes to stdin. Throws with kubectl's stderr. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const { kubeconfig, kubectl: bin } = e2eContext();
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      bin,
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`))
          : resolvePromise(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

/** Polls until `check` returns a value other than undefined, or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** A namespace of the test's own, deleted afterwards. */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubectl(["create", "namespace", name]);
  return name;
}

export async function installCrds(): Promise<void> {
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", resolve(repoRoot, "crds")]);
  for (const crd of ["tradingmodels.trading.mlops.dev", "modelversions.trading.mlops.dev"]) {
    await kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=60s"]);
  }
}

export interface OperatorProcess {
  identity: string;
  child: ChildProcess;
  /** Log lines parsed so far. */
  logs: Record<string, unknown>[];
  metricsPort: () => Promise<number>;
  metrics: () => Promise<string>;
  exited: Promise<number | null>;
}

export interface OperatorRun {
  identity: string;
  /** Where the Lease lives. */
  leaseNamespace: string;
  /** Watch only this namespace; all namespaces when undefined. */
  watchNamespace?: string;
  /** Defaults to the e2e cluster's admin kubeconfig. */
  kubeconfig?: string;
}

/** Runs the operator as a host process, as `node operator/src/main.ts`. */
export function startOperator(run: OperatorRun): OperatorProcess {
  const { identity } = run;
  const child = spawn(
    process.execPath,
    [
      resolve(repoRoot, "operator/src/main.ts"),
      ...(run.watchNamespace ? [`--namespace=${run.watchNamespace}`] : []),
      `--leader-election-namespace=${run.leaseNamespace}`,
      `--identity=${identity}`,
      "--metrics-host=127.0.0.1",
      "--metrics-port=0",
    ],
    {
      env: { ...process.env, KUBECONFIG: run.kubeconfig ?? e2eContext().kubeconfig },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const metricsPort = () =>
    waitFor(
      `${identity} to listen (stderr: ${stderr.join("")})`,
      async () => logs.find((l) => l.msg === "operator starting")?.metricsPort as number | undefined,
      20_000,
    );
  return {
    identity,
    child,
    logs,
    metricsPort,
    metrics: async () => {
      const response = await fetch(`http://127.0.0.1:${await metricsPort()}/metrics`, {
        signal: AbortSignal.timeout(5_000),
      });
      return response.text();
    },
    exited,
  };
}

export async function stopOperator(
  op: OperatorProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
  if (op.child.exitCode === null && op.child.signalCode === null) op.child.kill(signal);
  return op.exited;
}

/** The value of an unlabelled gauge in Prometheus text. */
export function gauge(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}
