// Traffic "to a Service" from the host. On the local cluster this is the loopback service proxy's
// address, balanced over the Service's ready endpoints like a ClusterIP. A cluster named by
// E2E_KUBECONFIG has no such proxy; there the address is a `kubectl port-forward` to the Service,
// which pins one pod: balancing assertions hold only on the local cluster.
import { spawn } from "node:child_process";
import { NoServiceProxy, serviceAddress } from "../../cluster/services/service-address.ts";
import { e2eContext } from "./context.ts";
import { kubeConfig } from "./kubectl.ts";
import { waitFor } from "./wait.ts";

export type ServiceEndpoint = { address: string; balanced: boolean; close(): void };

export async function openService(
  namespace: string,
  name: string,
  port: number | string,
): Promise<ServiceEndpoint> {
  try {
    const address = await serviceAddress(kubeConfig(), namespace, name, port);
    return { address, balanced: true, close: () => {} };
  } catch (err) {
    if (!(err instanceof NoServiceProxy)) throw err;
    return await portForward(namespace, name, port);
  }
}

async function portForward(namespace: string, name: string, port: number | string): Promise<ServiceEndpoint> {
  const { kubeconfig, kubectl } = e2eContext();
  const child = spawn(
    kubectl,
    [`--kubeconfig=${kubeconfig}`, "port-forward", "-n", namespace, `service/${name}`, `:${port}`],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const address = await waitFor(
      `kubectl port-forward to ${namespace}/${name}:${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`port-forward exited: ${output.trim()}`);
        return /Forwarding from (127\.0\.0\.1:\d+)/.exec(output)?.[1];
      },
      { timeoutMs: 30_000 },
    );
    return { address, balanced: false, close: () => child.kill() };
  } catch (err) {
    child.kill();
    throw err;
  }
}
