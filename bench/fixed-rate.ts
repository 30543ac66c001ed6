/**
 * A bounded constant-rate (open-loop) load generator, for latency at a given rate: Debian's wrk
 * only runs closed-loop as fast as it can, and wrk2 is not packaged. Requests go out on a fixed
 * schedule whatever the answers do; each one's latency runs from its send to its full response.
 * How late each send was against the schedule is reported too, so a client that fell behind shows.
 * Before the schedule starts, every connection is opened and used (warm-up, not measured): the
 * client's first requests compile its HTTP parser and open its sockets, a stall of 100-150 ms
 * that requests due meanwhile would otherwise count as server latency.
 * The schedule is checked between every turn of the event loop (setImmediate), not on a 1 ms
 * timer: at 18,000 requests/s a timer sends bursts of 18 at once, and the last of each burst
 * waits for the first 17 in the server's queue, which is the client's doing, not the server's.
 * The client therefore keeps its own core busy; clientCpuShare says so.
 *
 * Usage: BENCH_BODIES=<file> node bench/fixed-rate.ts <url> <rate/s> <seconds> <connections>
 * (the file: JSON request bodies, one a line, sent in turn)
 * Prints one JSON report on stdout.
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import { positiveIntegerArg, positiveNumberArg } from "./args.ts";
import { dueAtMs, dueCount, summarizeLatencies } from "./latency.ts";

const url = new URL(process.argv[2] ?? "");
const rate = positiveNumberArg(process.argv, 3, "rate");
const durationS = positiveNumberArg(process.argv, 4, "seconds");
const connections = positiveIntegerArg(process.argv, 5, "connections");
const bodiesPath = process.env.BENCH_BODIES;
if (!bodiesPath) throw new Error("BENCH_BODIES is not set");
const bodies = readFileSync(bodiesPath, "utf8")
  .split("\n")
  .filter((line) => line !== "");
if (bodies.length === 0) throw new Error(`BENCH_BODIES: no bodies in ${bodiesPath}`);

const total = Math.round(rate * durationS);
const WARM_UP_ROUNDS = 200;
// More than a second's worth of unanswered requests: the server is not sustaining the rate.
const maxOutstanding = Math.max(100, Math.round(rate));
const pool = new Pool(url.origin, { connections, headersTimeout: 5_000, bodyTimeout: 5_000 });
const latencyMs = new Float64Array(total);
const lagMs = new Float64Array(total);
let sent = 0;
let completed = 0;
let failed = 0;
let firstError = "";
let overloaded = false;
let lastResponseAt = 0;
const requests = bodies.map((body) => ({
  path: url.pathname,
  method: "POST" as const,
  headers: { "content-type": "application/json" },
  body,
}));
let nextRequest = 0;
let start = 0;
let cpuAtStart = process.cpuUsage();

function finish(): void {
  const cpu = process.cpuUsage(cpuAtStart);
  const ok = latencyMs.subarray(0, completed);
  const elapsedS = (lastResponseAt - start) / 1000;
  const report = {
    url: url.href,
    connections,
    targetRate: rate,
    durationS,
    sent,
    completed,
    failed,
    firstError,
    overloaded,
    // Responses per second from the first send to the last response.
    achievedRate: completed / elapsedS,
    // Near 1, the client was busy all the time on its core and may itself have set the pace.
    clientCpuShare: (cpu.user + cpu.system) / 1e6 / ((performance.now() - start) / 1000),
    latencyMs: completed > 0 ? summarizeLatencies(ok) : null,
    scheduleLagMs: sent > 0 ? summarizeLatencies(lagMs.subarray(0, sent)) : null,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  void pool.close();
}

function settled(): void {
  if (completed + failed === sent && (sent === total || overloaded)) finish();
}

function fail(message: string): void {
  failed++;
  firstError ||= message;
  settled();
}

/** One request through undici's dispatch API: no promise or body stream per request, so the client spends its core on sending. */
function dispatch(done: (error: string | undefined) => void): void {
  let status = 0;
  const request = requests[nextRequest] as (typeof requests)[number];
  nextRequest = (nextRequest + 1) % requests.length;
  pool.dispatch(request, {
    onRequestStart() {},
    onResponseStart(_controller, statusCode) {
      status = statusCode;
    },
    onResponseData() {},
    onResponseEnd() {
      done(status >= 300 ? `HTTP ${status}` : undefined);
    },
    onResponseError(_controller, err) {
      done(err.message);
    },
  });
}

function send(i: number): void {
  const sentAt = performance.now();
  lagMs[i] = sentAt - start - dueAtMs(i, rate);
  dispatch((error) => {
    if (error) return fail(error);
    lastResponseAt = performance.now();
    latencyMs[completed++] = lastResponseAt - sentAt;
    settled();
  });
}

/** `rounds` times, one request per connection at once, each round after the last has answered. */
async function warmUp(rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const errors = await Promise.all(
      Array.from(
        { length: connections },
        () => new Promise<string | undefined>((resolve) => dispatch(resolve)),
      ),
    );
    const error = errors.find((e) => e !== undefined);
    if (error) throw new Error(`warm-up request failed: ${error}`);
  }
}

function tick(): void {
  const due = Math.min(total, dueCount(performance.now() - start, rate));
  while (sent < due) {
    if (sent - completed - failed >= maxOutstanding) {
      overloaded = true;
      return;
    }
    send(sent++);
  }
  if (sent < total) setImmediate(tick);
}

await warmUp(WARM_UP_ROUNDS);
start = performance.now();
cpuAtStart = process.cpuUsage();
tick();
