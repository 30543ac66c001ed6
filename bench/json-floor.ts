/**
 * The JSON floor of the batch benchmark, the least any JSON batch endpoint in this runtime spends
 * on a request: an endpoint that reads the body, parses it and writes the answer's numbers, timed
 * like the predictor (servers/json-floor.ts), and beside it the parse and write alone, in process.
 * Both run in a process of their own pinned to the predictor's core, right after each request: a
 * core of this VM slows by half for seconds at a time, independently of the other core (two
 * processes on one core slow down together, two on different cores do not), and a floor timed on
 * the bench process's core, as until 6 Dec, put the predictor's ratio to it anywhere from 0.9x to
 * 1.8x in five runs of the same code on a quiet machine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpuSecondsOf, SERVER_CPU, stopChild } from "./processes.ts";

/**
 * One pass of the floor: the body's bytes to a string and `JSON.parse`, then the numbers of its
 * answer through `JSON.stringify`, with the predictor's own work (validation, predictions, ids,
 * drift, the rest of the answer) left out. The numbers go through JSON.stringify as one array, as
 * a JSON endpoint writes them: formatted one at a time in a template they would go through V8's
 * cache of formatted numbers, whose hits come and go with the process's collections.
 */
export function jsonFloorPassMs(body: Buffer, numbers: Float64Array): number {
  const start = performance.now();
  const keys = Object.keys(JSON.parse(body.toString()) as object).length;
  const text = JSON.stringify(Array.from(numbers));
  const ms = performance.now() - start;
  if (keys === 0 || text.length < 2 * numbers.length)
    throw new Error("jsonFloorPassMs: nothing parsed or formatted");
  return ms;
}

interface PredictionResult {
  prediction: number;
  interval: { lower: number; upper: number };
}

interface OipOutput {
  name: string;
  data: number[];
}

/**
 * The numbers of a predictor's answer, as written, for the floor to write: prediction, lower,
 * upper of a /v1 answer, of each row of a /v1 batch; the prediction, lower and upper tensors of an
 * OIP answer. Throws unless it has `size` rows.
 */
export function answerNumbers(answer: unknown, size: number, url: string): Float64Array {
  const { results, outputs, prediction } = answer as {
    results?: PredictionResult[];
    outputs?: OipOutput[];
    prediction?: unknown;
  };
  const rows = results ?? (prediction === undefined ? undefined : [answer as PredictionResult]);
  const numbers = rows
    ? rows.flatMap((r) => [r.prediction, r.interval?.lower, r.interval?.upper])
    : (outputs ?? []).flatMap((o) => o.data);
  if (numbers.length !== 3 * size || !numbers.every((n) => typeof n === "number")) {
    throw new Error(`${url}: expected ${size} rows of 3 numbers, got ${JSON.stringify(numbers)}`);
  }
  return Float64Array.from(numbers);
}

/** What the floor's process is sent: the bodies once, then one pass per request. */
export type JsonFloorMessage = { bodies: string[] } | { body: number; numbers: Float64Array };
/** What it answers: its HTTP port after the bodies, the pass's time after each pass, or why it could not. */
export type JsonFloorReply = { port: number } | { ms: number } | { error: string };

export interface JsonFloor {
  /**
   * Times one pass over bodies[body] and these answer numbers, in the floor's process; the
   * numbers are then those its endpoint writes.
   */
  passMs(body: number, numbers: Float64Array): Promise<number>;
  /** The floor as an endpoint: POST a body, read `server-timing: app` (servers/json-floor.ts). */
  url: string;
  /** CPU time the floor's process has used so far (processes.ts). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const WORKER = fileURLToPath(new URL("./servers/json-floor.ts", import.meta.url));
const REPLY_TIMEOUT_MS = 10_000;

function reply(child: ChildProcess, message: JsonFloorMessage): Promise<JsonFloorReply> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error, answer?: JsonFloorReply) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(answer as JsonFloorReply);
    };
    const onMessage = (answer: JsonFloorReply) => done(undefined, answer);
    const onExit = (code: number | null) => done(new Error(`json floor process exited (${code})`));
    const timer = setTimeout(
      () => done(new Error(`json floor: no answer in ${REPLY_TIMEOUT_MS} ms`)),
      REPLY_TIMEOUT_MS,
    );
    child.on("message", onMessage);
    child.once("exit", onExit);
    child.send(message);
  });
}

/** Starts the floor's process on the predictor's core with these bodies; stop it after use. */
export async function startJsonFloor(bodies: readonly string[]): Promise<JsonFloor> {
  const child = spawn("taskset", ["-c", String(SERVER_CPU), process.execPath, WORKER], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const ask = async (message: JsonFloorMessage) => {
    const answer = await reply(child, message);
    if ("error" in answer) throw new Error(`json floor: ${answer.error}`);
    return answer;
  };
  let port: number;
  try {
    const answer = await ask({ bodies: [...bodies] });
    if (!("port" in answer)) throw new Error("json floor: answered the bodies without its port");
    port = answer.port;
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    async passMs(body, numbers) {
      const answer = await ask({ body, numbers });
      if (!("ms" in answer)) throw new Error("json floor: answered a pass without its time");
      return answer.ms;
    },
    // taskset execs node, so the child's pid is the floor's.
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stop: () => stopChild(child),
  };
}
