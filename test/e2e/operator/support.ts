import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { e2eContext } from "../support/context.ts";
import { kubectl } from "../support/kubectl.ts";
import { waitFor } from "../support/wait.ts";

export const repoRoot = resolve(import.meta.dirname, "../../..");

export async function installCrds(): Promise<void> {
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", resolve(repoRoot, "crds")]);
  for (const crd of ["tradingmodels.trading.mlops.dev", "modelversions.trading.mlops.dev"]) {
    await kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=60s"]);
  }
}

/** Where every host operator's output is written, one file per process. */
export const OPERATOR_LOGS = resolve(repoRoot, ".reports/operators");

/** The example TradingModel as YAML, in another namespace. */
export const exampleIn = (text: string, namespace: string) =>
  text.replace("namespace: trading", `namespace: ${namespace}`);

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
  /** More flags, e.g. --prometheus-url. */
  args?: string[];
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
      ...(run.args ?? []),
    ],
    {
      env: { ...process.env, KUBECONFIG: run.kubeconfig ?? e2eContext().kubeconfig },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  // Kept whole on disk, so a failed run's decisions can be read after the fact.
  mkdirSync(OPERATOR_LOGS, { recursive: true });
  const logFile = resolve(OPERATOR_LOGS, `${identity}-${child.pid}.log`);
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
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
  child.stderr?.on("data", (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
    stderr.push(chunk.toString("utf8"));
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const metricsPort = () =>
    waitFor(
      `${identity} to listen (stderr: ${stderr.join("")})`,
      async () => logs.find((l) => l.msg === "operator starting")?.metricsPort as number | undefined,
      { timeoutMs: 20_000 },
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
