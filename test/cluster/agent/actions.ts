// Carries out probe and hook actions against a pod: HTTP GET and TCP connect to the pod IP (the
// host reaches it over the bridge), exec inside the container's namespaces, sleep.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProbeTarget } from "./probes.ts";
import { execInContainer } from "./runtime.ts";

export type ActionOutcome = { ok: boolean; message: string };

const USER_AGENT = "kube-probe/1.36";

async function httpGet(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<ActionOutcome> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return await new Promise((resolve) => {
    const req = send(
      target,
      {
        method: "GET",
        headers: { "User-Agent": USER_AGENT, ...headers },
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", (err) => resolve({ ok: false, message: `Get "${url}": ${err.message}` }));
    req.end();
  });
}

async function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ActionOutcome> {
  return await new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ ok: true, message: "" });
    });
    socket.on("timeout", () => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    socket.on("error", (err) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

export async function runAction(
  target: ProbeTarget,
  timeoutMs: number,
  container: { pid: number; env: Record<string, string> },
): Promise<ActionOutcome> {
  switch (target.kind) {
    case "http":
      return await httpGet(target.url, target.headers, timeoutMs);
    case "tcp":
      return await tcpConnect(target.host, target.port, timeoutMs);
    case "exec": {
      const r = await execInContainer(container.pid, target.command, container.env, timeoutMs);
      return { ok: r.exitCode === 0, message: r.output.trim() };
    }
    case "sleep":
      await sleep(target.seconds * 1000);
      return { ok: true, message: "" };
  }
}
