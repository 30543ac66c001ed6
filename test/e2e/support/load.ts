// A bounded fixed-rate load generator: `count` requests started `intervalMs` apart, each on a new
// connection (a ClusterIP balances connections, not requests), each with a timeout. It records
// what every request saw, so a test can say exactly which ones failed and how.
import { type Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export type LoadOptions = {
  address: string;
  path: string;
  body: string;
  count: number;
  intervalMs: number;
  timeoutMs?: number;
  /** Called after request i was started, e.g. to delete a pod part-way. */
  onStarted?: (i: number) => void;
};

export type Outcome = { i: number; status?: number; error?: string; body?: string };

export type LoadResult = { outcomes: Outcome[]; failures: Outcome[] };

/**
 * One POST; on a new connection unless `agent` says otherwise (a keep-alive agent sends several
 * requests down one connection, so they reach the same pod).
 */
export function post(
  address: string,
  path: string,
  body: string,
  timeoutMs: number,
  i: number,
  agent: Agent | false = false,
): Promise<Outcome> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        method: "POST",
        agent,
        timeout: timeoutMs,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => resolve({ i, status: res.statusCode, body: text }));
        res.on("error", (err) => resolve({ i, error: err.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve({ i, error: err.message }));
    req.end(body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pending: Promise<Outcome>[] = [];
  const start = Date.now();
  for (let i = 0; i < o.count; i++) {
    await sleep(Math.max(0, start + i * o.intervalMs - Date.now()));
    pending.push(post(o.address, o.path, o.body, o.timeoutMs ?? 5_000, i));
    o.onStarted?.(i);
  }
  const outcomes = await Promise.all(pending);
  return { outcomes, failures: outcomes.filter((r) => r.error !== undefined || r.status !== 200) };
}
