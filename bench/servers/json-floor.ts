/**
 * The JSON floor's process (bench/json-floor.ts starts it on the predictor's core). Over IPC it
 * times a pass of the floor in process; over HTTP it is the floor as an endpoint: a bare node:http
 * server that reads a body, parses it and writes the numbers of the predictor's answer to it (sent
 * over IPC with the pass), timed from the request's arrival to its answer's length like the
 * predictor's `server-timing: app`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type JsonFloorMessage, type JsonFloorReply, jsonFloorPassMs } from "../json-floor.ts";

let bodies: Buffer[] = [];
let answerNumbers: Float64Array = new Float64Array(0);
const send = (answer: JsonFloorReply) => process.send?.(answer);

const server = createServer((req, res) => {
  const startedAt = performance.now();
  // The body decoded as it comes, as the predictor does with an ASCII body: the least a reader spends.
  let text = "";
  req.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
  });
  req.on("end", () => {
    const keys = Object.keys(JSON.parse(text) as object).length;
    const answer = JSON.stringify(Array.from(answerNumbers));
    const length = Buffer.byteLength(answer);
    const elapsedMs = performance.now() - startedAt;
    res.writeHead(keys > 0 ? 200 : 400, [
      "content-type",
      "application/json",
      "content-length",
      String(length),
      "server-timing",
      `app;dur=${elapsedMs.toFixed(3)}`,
    ]);
    res.end(answer);
  });
});

process.on("message", (message: JsonFloorMessage) => {
  if ("bodies" in message) {
    bodies = message.bodies.map((b) => Buffer.from(b));
    server.listen(0, "127.0.0.1", () => send({ port: (server.address() as AddressInfo).port }));
    return;
  }
  const body = bodies[message.body];
  if (!body) {
    send({ error: `no body ${message.body} (${bodies.length} bodies)` });
    return;
  }
  answerNumbers = message.numbers;
  try {
    send({ ms: jsonFloorPassMs(body, message.numbers) });
  } catch (err) {
    send({ error: (err as Error).message });
  }
});
process.on("disconnect", () => server.close(() => process.exit(0)));
