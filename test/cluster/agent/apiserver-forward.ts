// In-pod clients reach the apiserver the usual way: KUBERNETES_SERVICE_HOST:PORT, the `kubernetes`
// Service's cluster IP. The agent puts that IP on the bridge as a host address and forwards TCP
// from it to the apiserver on loopback; TLS stays end to end (the serving cert names the IP).
import { connect, createServer, type Server } from "node:net";
import type { V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { serviceLinkEnv } from "./env.ts";
import type { NodeApi } from "./kube.ts";
import { addLocalAddress } from "./netlink.ts";
import type { NetworkConfig } from "./network.ts";

const CONNECT_TIMEOUT_MS = 5_000;

export type ApiserverForward = { env: Record<string, string>; server: Server };

export async function startApiserverForward(
  api: NodeApi,
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
  const server = createServer((client) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, clusterIP, () => resolve());
  });
  log.info({ listen: `${clusterIP}:${port}`, upstream }, "apiserver forward for pods");
  return { env: serviceLinkEnv([svc]), server };
}
