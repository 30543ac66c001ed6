// kubectl for the e2e suite: the cluster's own kubectl with the suite's kubeconfig, a request
// timeout on every call, and errors that carry kubectl's stderr.
import { execFile } from "node:child_process";
import { KubeConfig } from "@kubernetes/client-node";
import { e2eContext } from "./context.ts";

const PROCESS_TIMEOUT_MS = 90_000;

export type KubectlOptions = { input?: string; timeoutMs?: number };

export class KubectlError extends Error {
  readonly code: number | null;
  readonly stderr: string;
  constructor(args: string[], code: number | null, stderr: string) {
    super(`kubectl ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`);
    this.code = code;
    this.stderr = stderr;
  }
}

export function kubectl(args: string[], options: KubectlOptions = {}): Promise<string> {
  const { kubeconfig, kubectl: binary } = e2eContext();
  const all = [`--kubeconfig=${kubeconfig}`, "--request-timeout=30s", ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      all,
      { timeout: options.timeoutMs ?? PROCESS_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new KubectlError(args, typeof err.code === "number" ? err.code : null, stderr || err.message),
          );
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Server-side apply of objects (a List is fine), as the suite's field manager. */
export async function apply(...objects: object[]): Promise<void> {
  const list = { apiVersion: "v1", kind: "List", items: objects };
  await kubectl(["apply", "--server-side", "--field-manager=e2e", "-f", "-"], {
    input: JSON.stringify(list),
  });
}

export async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl(["get", ...args, "-o", "json"])) as T;
}

/** A client-node KubeConfig for the suite's cluster. */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(e2eContext().kubeconfig);
  return kc;
}
