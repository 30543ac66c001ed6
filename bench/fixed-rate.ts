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
 * - Given several URLs (comma-separated), the schedule goes to each in turn for SLICE_MS at a time,
 *   each over its own `connections`, and the report gives every URL's latencies apart. Servers
 *   compared this way are measured in the same seconds of the machine: measured one after the
 *   other, seconds apart, this VM's slow spells (its core at half its speed or less for seconds)
 *   fell on one of them and decided their ratio (the predictor's p99 over bare node:http's
 *   0.59-66x over eleven rounds of 3 s).
 *
 * Usage: BENCH_BODIES=<file> node bench/fixed-rate.ts <url>[,<url>...] <rate/s> <seconds> <connections>
 * (the file: JSON request bodies, one a line, sent in turn; `seconds` is the measured length of the
 * whole schedule, which the URLs share)
 * Prints one JSON report on stdout.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { positiveIntegerArg, positiveNumberArg } from "./args.ts";
import { dueAtMs, dueCount, sliceOwner, summarizeLatencies } from "./latency.ts";
import { ResponseReader } from "./response-reader.ts";

const urls = (process.argv[2] ?? "").split(",").map((text) => new URL(text));
const rate = positiveNumberArg(process.argv, 3, "rate");
const durationS = positiveNumberArg(process.argv, 4, "seconds");
const connections = positiveIntegerArg(process.argv, 5, "connections");
const bodiesPath = process.env.BENCH_BODIES;
if (!bodiesPath) throw new Error("BENCH_BODIES is not set");
const bodies = readFileSync(bodiesPath, "utf8")
  .split("\n")
  .filter((line) => line !== "");
if (bodies.length === 0) throw new Error(`BENCH_BODIES: no bodies in ${bodiesPath}`);
for (const url of urls) {
  if (url.protocol !== "http:") throw new Error(`fixed-rate: only http:// URLs, got ${url.href}`);
}

const WARM_UP_ROUNDS = 200;
const WARM_UP_AT_RATE_S = 1;
const STALL_MS = 0.3;
/**
 * Long enough that a server drains the backlog of a stall of a few ms within its own slice, short
 * enough that a slow spell of the machine (tens of ms to seconds) spans the slices of every URL.
 */
const SLICE_MS = 50;
const CONNECT_TIMEOUT_MS = 5_000;
/** After the last send, the answers have this long to arrive. */
const DRAIN_TIMEOUT_MS = 5_000;
const warmUpCount = Math.round(rate * WARM_UP_AT_RATE_S);
const measuredCount = Math.round(rate * durationS);
const total = warmUpCount + measuredCount;
// More than a second's worth of unanswered requests: the server is not sustaining the rate.
const maxOutstanding = Math.max(100, Math.round(rate));

const requestsOf = urls.map((url) =>
  bodies.map((body) =>
    Buffer.from(
      `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  ),
);
/** Which URL request `index` of the schedule goes to. */
const ownerOf = (index: number) => sliceOwner(dueAtMs(index, rate), SLICE_MS, urls.length);
let nextRequest = 0;

interface Connection {
  /** Index of its URL in `urls`. */
  target: number;
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
/**
 * Per URL: its connections with no request in flight, taken oldest first so that every one is used
 * in turn: taken newest first, a few did all the work at half a server's peak and the others sat
 * idle until the server closed them (node:http's keep-alive timeout is 5 s).
 */
const idle: Connection[][] = urls.map(() => []);
/** Per URL: requests taken from the schedule while all its connections were busy, oldest first. */
const waiting = urls.map(() => ({ queue: new Int32Array(total), head: 0, tail: 0 }));

/** Reports what was measured and stops: bench/http.ts refuses a report with failures, naming the first. */
function fail(message: string): never {
  failed++;
  firstError ||= message;
  report();
  process.exit(0);
}

function open(target: number): Promise<Connection> {
  const url = urls[target] as URL;
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader();
    const connection: Connection = {
      target,
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
  connection.socket.write((requestsOf[connection.target] as Buffer[])[nextRequest] as Buffer);
  nextRequest = (nextRequest + 1) % bodies.length;
}

function answered(connection: Connection, status: number): void {
  const at = performance.now();
  if (status >= 300) fail(`HTTP ${status}`);
  latencyMs[connection.index] = at - (takenAt[connection.index] as number);
  lastResponseAt = at;
  completed++;
  const queued = waiting[connection.target] as (typeof waiting)[number];
  if (queued.head < queued.tail) send(connection, queued.queue[queued.head++] as number);
  else (idle[connection.target] as Connection[]).push(connection);
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
    const dueAt = dueAtMs(index, rate);
    lagMs[index] = now - start - dueAt;
    const target = sliceOwner(dueAt, SLICE_MS, urls.length);
    const connection = (idle[target] as Connection[]).shift();
    if (connection) send(connection, index);
    else {
      const queued = waiting[target] as (typeof waiting)[number];
      queued.queue[queued.tail++] = index;
    }
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
  const answeredOf: number[][] = urls.map(() => []);
  const sentOf = urls.map(() => 0);
  const warmUpSentOf = urls.map(() => 0);
  for (let index = 0; index < sent; index++) {
    const target = ownerOf(index);
    if (index < warmUpCount) {
      warmUpSentOf[target] = (warmUpSentOf[target] as number) + 1;
      continue;
    }
    sentOf[target] = (sentOf[target] as number) + 1;
    const ms = latencyMs[index] as number;
    if (!Number.isNaN(ms)) (answeredOf[target] as number[]).push(ms);
  }
  const elapsedS = (lastResponseAt - start) / 1000;
  const measuredFrom = dueAtMs(warmUpCount, rate);
  const measuredStalls = stalls.filter((stall) => stall.at >= measuredFrom).map((stall) => stall.ms);
  const stallTotal = measuredStalls.reduce((sum, ms) => sum + ms, 0);
  const output = {
    connections,
    sliceMs: SLICE_MS,
    targetRate: rate,
    durationS,
    warmUpAtRateS: WARM_UP_AT_RATE_S,
    sent: Math.max(0, sent - warmUpCount),
    completed: answeredOf.reduce((sum, own) => sum + own.length, 0),
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
    byUrl: urls.map((url, target) => {
      const own = answeredOf[target] as number[];
      return {
        url: url.href,
        // Warm-ups included: what the server's CPU time over the whole run was spent on.
        written: WARM_UP_ROUNDS * connections + (warmUpSentOf[target] as number) + (sentOf[target] as number),
        sent: sentOf[target],
        completed: own.length,
        latencyMs: own.length > 0 ? summarizeLatencies(Float64Array.from(own)) : null,
      };
    }),
    scheduleLagMs: sent > warmUpCount ? summarizeLatencies(lagMs.subarray(warmUpCount, sent)) : null,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

const all = await Promise.all(
  urls.flatMap((_, target) => Array.from({ length: connections }, () => open(target))),
);
await warmUp(all, WARM_UP_ROUNDS);
for (const connection of all) connection.onAnswer = (status) => answered(connection, status);
for (const connection of all) (idle[connection.target] as Connection[]).push(connection);
start = performance.now();
cpuAtStart = process.cpuUsage();
tick();
