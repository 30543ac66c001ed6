/**
 * A bounded constant-rate (open-loop) load generator, for latency at a given rate: Debian's wrk
 * only runs closed-loop as fast as it can, and wrk2 is not packaged. Requests go out on a fixed
 * schedule whatever the answers do; each one's latency runs from the moment the schedule took it
 * (when no connection is free it waits for one, and that wait counts) to its full response. How
 * late each was taken against the schedule is reported too, so a client that fell behind shows.
 *
 * The client's own pauses land on every request in flight and then send what fell due at once, a
 * burst the server drains at its own speed: they must be rare and short beside the server's. So:
 * - Requests are written on plain sockets, each read into one buffer per connection reused for
 *   every read (`onread`), answers delimited by ResponseReader: per request the client allocates
 *   almost nothing, where an HTTP client library (undici's dispatch API, used until 6 Dec) made
 *   enough garbage for a young-generation collection every few milliseconds.
 * - Before the measured seconds, every connection is opened and used (its first requests compile
 *   the client's code), then the schedule itself runs for a second unmeasured: its own first
 *   tenths of a second stalled the client 4-5 ms at a time (optimizing the send path, collecting
 *   the warm-up's garbage), and those stalls set the p99 of either server.
 * - The schedule is checked between every turn of the event loop (setImmediate), not on a 1 ms
 *   timer: at 18,000 requests/s a timer sends bursts of 18. The client therefore keeps its own core
 *   busy; `clientStalls` reports every turn that took over STALL_MS, the client's own tail.
 *
 * Usage: BENCH_BODIES=<file> node bench/fixed-rate.ts <url> <rate/s> <seconds> <connections>
 * (the file: JSON request bodies, one a line, sent in turn)
 * Prints one JSON report on stdout.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { positiveIntegerArg, positiveNumberArg } from "./args.ts";
import { dueAtMs, dueCount, summarizeLatencies } from "./latency.ts";
import { ResponseReader } from "./response-reader.ts";

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
if (url.protocol !== "http:") throw new Error(`fixed-rate: only http:// URLs, got ${url.href}`);

const WARM_UP_ROUNDS = 200;
const WARM_UP_AT_RATE_S = 1;
const STALL_MS = 0.3;
const CONNECT_TIMEOUT_MS = 5_000;
/** After the last send, the answers have this long to arrive. */
const DRAIN_TIMEOUT_MS = 5_000;
const warmUpCount = Math.round(rate * WARM_UP_AT_RATE_S);
const measuredCount = Math.round(rate * durationS);
const total = warmUpCount + measuredCount;
// More than a second's worth of unanswered requests: the server is not sustaining the rate.
const maxOutstanding = Math.max(100, Math.round(rate));

const requests = bodies.map((body) =>
  Buffer.from(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  ),
);
let nextRequest = 0;

interface Connection {
  socket: Socket;
  reader: ResponseReader;
  /** The request in flight: its index in the schedule, -1 in the closed-loop warm-up. */
  index: number;
  onAnswer: (status: number) => void;
}

const takenAt = new Float64Array(total);
/** Each request's latency; NaN until answered. */
const latencyMs = new Float64Array(total).fill(Number.NaN);
const lagMs = new Float64Array(total);
/** Every turn of the event loop over STALL_MS since the schedule started, warm-up second included: when it began (ms after the start), how long it took. */
const stalls: { at: number; ms: number }[] = [];
let sent = 0;
let completed = 0;
let failed = 0;
let firstError = "";
let overloaded = false;
let lastResponseAt = 0;
let start = 0;
let cpuAtStart = process.cpuUsage();
const idle: Connection[] = [];
/** Requests taken from the schedule while every connection was busy, oldest first. */
const waiting = new Int32Array(total);
let waitingHead = 0;
let waitingTail = 0;

/** Reports what was measured and stops: bench/http.ts refuses a report with failures, naming the first. */
function fail(message: string): never {
  failed++;
  firstError ||= message;
  report();
  process.exit(0);
}

function open(): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader();
    const connection: Connection = {
      socket: undefined as unknown as Socket,
      reader,
      index: -1,
      onAnswer: () => {},
    };
    const answered = (status: number) => connection.onAnswer(status);
    const readBuffer = Buffer.alloc(64 * 1024);
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 80),
      onread: {
        buffer: readBuffer,
        callback: (length) => {
          try {
            reader.read(readBuffer, length, answered);
          } catch (err) {
            fail((err as Error).message);
          }
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error(`connect to ${url.host} timed out`));
    });
    socket.once("connect", () => {
      socket.setTimeout(0);
      resolve(connection);
    });
    socket.on("error", (err) => (start === 0 ? reject(err) : fail(err.message)));
    socket.on("close", () => {
      if (completed + failed < total && start !== 0) fail(`connection closed by ${url.host}`);
    });
    connection.socket = socket;
  });
}

function write(connection: Connection): void {
  connection.socket.write(requests[nextRequest] as Buffer);
  nextRequest = (nextRequest + 1) % requests.length;
}

function answered(connection: Connection, status: number): void {
  const at = performance.now();
  if (status >= 300) fail(`HTTP ${status}`);
  latencyMs[connection.index] = at - (takenAt[connection.index] as number);
  lastResponseAt = at;
  completed++;
  if (waitingHead < waitingTail) send(connection, waiting[waitingHead++] as number);
  else idle.push(connection);
  if (completed === total) {
    report();
    process.exit(0);
  }
}

function send(connection: Connection, index: number): void {
  connection.index = index;
  write(connection);
}

/** `rounds` requests on every connection, each after the last has answered. */
function warmUp(all: Connection[], rounds: number): Promise<void> {
  return new Promise((resolve) => {
    let left = all.length;
    for (const connection of all) {
      let round = 0;
      connection.onAnswer = (status) => {
        if (status >= 300) fail(`warm-up request failed: HTTP ${status}`);
        if (++round < rounds) write(connection);
        else if (--left === 0) resolve();
      };
      write(connection);
    }
  });
}

let lastTurn = 0;
function tick(): void {
  const now = performance.now();
  // Recorded from the first turn on, not only once the measured seconds began: a branch the loop
  // first takes after it was optimized deoptimizes it, and the first stall of the measured seconds
  // then brought 4-7 ms more while the loop ran unoptimized and was compiled again.
  if (now - lastTurn > STALL_MS) stalls.push({ at: lastTurn - start, ms: now - lastTurn });
  lastTurn = now;
  const due = Math.min(total, dueCount(now - start, rate));
  while (sent < due) {
    if (sent - completed >= maxOutstanding) {
      overloaded = true;
      report();
      process.exit(0);
    }
    const index = sent++;
    takenAt[index] = now;
    lagMs[index] = now - start - dueAtMs(index, rate);
    const connection = idle.pop();
    if (connection) send(connection, index);
    else waiting[waitingTail++] = index;
  }
  if (sent < total) setImmediate(tick);
  else
    setTimeout(
      () => fail(`${total - completed} answers missing ${DRAIN_TIMEOUT_MS} ms after the last send`),
      DRAIN_TIMEOUT_MS,
    ).unref();
}

function report(): void {
  const cpu = process.cpuUsage(cpuAtStart);
  // The answered requests sent after the warm-up second: when the client stops early (overloaded,
  // failed), answers come back out of order and some are missing.
  const ok = latencyMs.subarray(warmUpCount, Math.max(warmUpCount, sent)).filter((ms) => !Number.isNaN(ms));
  const measured = ok.length;
  const elapsedS = (lastResponseAt - start) / 1000;
  const measuredFrom = dueAtMs(warmUpCount, rate);
  const measuredStalls = stalls.filter((stall) => stall.at >= measuredFrom).map((stall) => stall.ms);
  const stallTotal = measuredStalls.reduce((sum, ms) => sum + ms, 0);
  const output = {
    url: url.href,
    connections,
    targetRate: rate,
    durationS,
    warmUpAtRateS: WARM_UP_AT_RATE_S,
    sent: Math.max(0, sent - warmUpCount),
    completed: measured,
    failed,
    firstError,
    overloaded,
    // Responses per second from the first send to the last response, warm-up second included.
    achievedRate: completed / elapsedS,
    // Near 1 by design (the schedule is checked between every turn of the event loop).
    clientCpuShare: (cpu.user + cpu.system) / 1e6 / ((performance.now() - start) / 1000),
    clientStalls: {
      overMs: STALL_MS,
      count: measuredStalls.length,
      totalMs: stallTotal,
      maxMs: Math.max(0, ...measuredStalls),
    },
    latencyMs: measured > 0 ? summarizeLatencies(ok) : null,
    scheduleLagMs: sent > warmUpCount ? summarizeLatencies(lagMs.subarray(warmUpCount, sent)) : null,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

const all = await Promise.all(Array.from({ length: connections }, open));
await warmUp(all, WARM_UP_ROUNDS);
for (const connection of all) connection.onAnswer = (status) => answered(connection, status);
idle.push(...all);
start = performance.now();
cpuAtStart = process.cpuUsage();
tick();
