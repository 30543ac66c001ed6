// One proxied TCP connection: the client's bytes go to the target and back. Half-closes are passed
// on (HTTP/1.1 clients may end their side first); an error on either side resets both, which is
// what a client of a ClusterIP sees when the pod behind it goes away mid-connection.
import { connect, createServer, type Server, type Socket } from "node:net";

const CONNECT_TIMEOUT_MS = 5_000;

export type Target = { ip: string; port: number };

export function splice(client: Socket, target: Target): void {
  const upstream = connect({ host: target.ip, port: target.port, allowHalfOpen: true });
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error("connect timeout")));
  upstream.once("connect", () => upstream.setTimeout(0));
  const reset = () => {
    if (!client.destroyed) client.resetAndDestroy();
    if (!upstream.destroyed) upstream.resetAndDestroy();
  };
  client.on("error", reset);
  upstream.on("error", reset);
  client.pipe(upstream);
  upstream.pipe(client);
}

/** A TCP listener that sends each connection to `choose()`'s target, or refuses it when there is none. */
export async function listen(host: string, port: number, choose: () => Target | undefined): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const target = choose();
    if (target) splice(client, target);
    else client.resetAndDestroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

export function addressOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("listener has no TCP address");
  return `${address.address}:${address.port}`;
}

/** "10.244.0.1:9090" → {ip, port}; the flag's name goes into the error. */
export function parseHostPort(flag: string, value: string): Target {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port > 0 && port < 65536)) throw new Error(`--${flag}: "${value}" is not IPv4:port`);
  return { ip: m[1], port };
}
