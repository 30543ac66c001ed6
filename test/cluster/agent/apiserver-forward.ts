// In-pod clients reach the apiserver the usual way: KUBERNETES_SERVICE_HOST:PORT, the `kubernetes`
// Service's cluster IP. The apiserver listens on loopback only, which Endpoints may not name, so
// the agent forwards TCP to it from two host addresses on the bridge: the cluster IP itself
// (works with no service proxy at all) and the gateway at the apiserver's port, which it
// publishes as the `kubernetes` Endpoints (what kube-proxy DNATs the cluster IP to). TLS stays
// end to end: the serving certificate names the cluster IP.
import { connect, createServer, type Server } from "node:net";
import { CoreV1Api, type KubeConfig, type V1Endpoints, type V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { serviceLinkEnv } from "./env.ts";
import type { NodeApi } from "./kube.ts";
import { addLocalAddress } from "./netlink.ts";
import type { NetworkConfig } from "./network.ts";
import { statusCode, withRetry } from "./retry.ts";

const CONNECT_TIMEOUT_MS = 5_000;

export type ApiserverForward = { env: Record<string, string>; servers: Server[] };

/** Creates or replaces default/kubernetes Endpoints (admin credentials: nodes may not write it). */
async function publishEndpoints(admin: KubeConfig, ip: string, port: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  const body: V1Endpoints = {
    metadata: { name: "kubernetes", namespace: "default" },
    subsets: [{ addresses: [{ ip }], ports: [{ name: "https", port, protocol: "TCP" }] }],
  };
  await withRetry(async () => {
    const existing = await core
      .readNamespacedEndpoints({ name: "kubernetes", namespace: "default" })
      .catch((err) => {
        if (statusCode(err) === 404) return null;
        throw err;
      });
    if (!existing) await core.createNamespacedEndpoints({ namespace: "default", body });
    else {
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await core.replaceNamespacedEndpoints({ name: "kubernetes", namespace: "default", body });
    }
  });
}

export async function startApiserverForward(
  api: NodeApi,
  admin: KubeConfig,
  net: NetworkConfig,
  log: Logger,
): Promise<ApiserverForward> {
  const svc: V1Service | null = await api.readService("default", "kubernetes");
  const clusterIP = svc?.spec?.clusterIP;
  const port = svc?.spec?.ports?.[0]?.port;
  if (!svc || !clusterIP || !port)
    throw new Error("service default/kubernetes has no cluster IP and port yet");
  const upstream = api.apiserverAddress();
  if (!/^127\./.test(upstream.host) && upstream.host !== "localhost") {
    throw new Error(`apiserver ${upstream.host}: the forward only targets a loopback apiserver`);
  }
  await addLocalAddress(net, clusterIP);
  const forward = () =>
    createServer((client) => {
      const up = connect({ host: upstream.host, port: upstream.port, timeout: CONNECT_TIMEOUT_MS });
      up.once("connect", () => up.setTimeout(0));
      up.once("timeout", () => up.destroy(new Error("connect timeout")));
      client.pipe(up).pipe(client);
      const close = () => {
        client.destroy();
        up.destroy();
      };
      client.on("error", close);
      up.on("error", (err) => {
        log.warn({ err: err.message }, "apiserver forward: upstream error");
        close();
      });
    });
  const listen = async (host: string, listenPort: number) => {
    const server = forward();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, host, () => resolve());
    });
    return server;
  };
  const servers = [await listen(clusterIP, port), await listen(net.gateway, upstream.port)];
  await publishEndpoints(admin, net.gateway, upstream.port);
  log.info(
    { listen: [`${clusterIP}:${port}`, `${net.gateway}:${upstream.port}`], upstream },
    "apiserver forward for pods; default/kubernetes Endpoints published",
  );
  return { env: serviceLinkEnv([svc]), servers };
}
