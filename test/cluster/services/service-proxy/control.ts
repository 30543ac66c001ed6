// The service proxy's control API on loopback:
//   GET /healthz                                   -> 200 "ok"
//   GET /v1/services/<namespace>/<name>/<port>     -> 200 {"address":"127.0.0.1:N","backends":[…]}
// <port> is the Service port's number or name. Unknown Services and ports answer 404 with the
// reason in {"error"}; anything else that fails answers 500.
import { createServer, type Server } from "node:http";
import { NotFound } from "./backends.ts";
import type { ServiceProxy } from "./proxy.ts";

const ROUTE = /^\/v1\/services\/([^/]+)\/([^/]+)\/([^/]+)$/;

export function controlServer(proxy: ServiceProxy): Server {
  return createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://control");
    if (req.method === "GET" && url.pathname === "/healthz") {
      res.end("ok");
      return;
    }
    const m = req.method === "GET" ? ROUTE.exec(url.pathname) : null;
    if (!m) {
      answer(404, { error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    const [namespace, name, port] = m.slice(1).map(decodeURIComponent) as [string, string, string];
    proxy.address(namespace, name, port).then(
      (address) => answer(200, address),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        answer(err instanceof NotFound ? 404 : 500, { error: message });
      },
    );
  });
}
