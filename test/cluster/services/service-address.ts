// serviceAddress(): a 127.0.0.1 address that reaches a Service of the local cluster the way a
// client inside the cluster would (balanced over its ready endpoints), made by the loopback service
// proxy that cluster-up starts. The proxy's control URL is read from a ConfigMap through the given
// kubeconfig, so any kubeconfig of the local cluster works.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { statusCode, withRetry } from "../agent/retry.ts";

export const PROXY_CONFIGMAP = { namespace: "kube-system", name: "tm-service-proxy" };
const REQUEST_TIMEOUT_MS = 10_000;

/** The cluster has no loopback service proxy: not the local cluster, or not started. */
export class NoServiceProxy extends Error {}

class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export async function serviceProxyUrl(kc: KubeConfig): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    const cm = await withRetry(() => core.readNamespacedConfigMap(PROXY_CONFIGMAP));
    const url = cm.data?.url;
    if (!url)
      throw new Error(`ConfigMap ${PROXY_CONFIGMAP.namespace}/${PROXY_CONFIGMAP.name} has no data.url`);
    return url;
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
    throw new NoServiceProxy(
      `no loopback service proxy in this cluster (ConfigMap ${PROXY_CONFIGMAP.namespace}/${PROXY_CONFIGMAP.name} not found); it comes with make cluster-up`,
    );
  }
}

/** "127.0.0.1:<port>" for the Service port (number or name) of namespace/name. */
export async function serviceAddress(
  kc: KubeConfig,
  namespace: string,
  name: string,
  port: number | string,
): Promise<string> {
  const base = await serviceProxyUrl(kc);
  const path = [namespace, name, String(port)].map(encodeURIComponent).join("/");
  const body = await withRetry(async () => {
    const res = await fetch(`${base}/v1/services/${path}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const json = (await res.json()) as { address?: string; error?: string };
    if (!res.ok) throw new HttpError(res.status, json.error ?? `service proxy answered ${res.status}`);
    return json;
  });
  if (!body.address) throw new Error(`service proxy gave no address for ${namespace}/${name}:${port}`);
  return body.address;
}
