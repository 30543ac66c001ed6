import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SERVE_NODE_FLAGS } from "./node-options.ts";

/* The real `predictor serve` process, as a pod runs it, on a free port on 127.0.0.1, for tests. */

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

export interface Served {
  child: ChildProcess;
  /** Log lines so far, parsed. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

/** Kills every process `serve` started that is still running; tests call it after each test. */
export function killServed(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
}

/** Starts `predictor serve` for model demo, version v2, with `env` on top, under `nodeFlags`. */
export function serve(env: Record<string, string>, nodeFlags = SERVE_NODE_FLAGS): Served {
  const child = spawn(process.execPath, [...nodeFlags, CLI, "serve"], {
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      PORT: "0",
      MODEL_NAME: "demo",
      MODEL_VERSION: "v2",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, logs, exited };
}

/** The address the predictor logs once it is ready. */
export async function readyAddress(served: Served, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = served.logs.find((l) => l.msg === "model loaded; ready");
    if (line) return line.address as string;
    if (served.child.exitCode !== null) throw new Error(`predictor exited ${served.child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("predictor did not log readiness in time");
}
