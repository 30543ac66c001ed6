/** The JSON floor's process (bench/json-floor.ts starts it on the predictor's core and talks to it over IPC). */
import { type JsonFloorMessage, type JsonFloorReply, jsonFloorPassMs } from "../json-floor.ts";

let bodies: Buffer[] = [];
const send = (answer: JsonFloorReply) => process.send?.(answer);
process.on("message", (message: JsonFloorMessage) => {
  if ("bodies" in message) {
    bodies = message.bodies.map((b) => Buffer.from(b));
    send({ ready: true });
    return;
  }
  const body = bodies[message.body];
  if (!body) {
    send({ error: `no body ${message.body} (${bodies.length} bodies)` });
    return;
  }
  try {
    send({ ms: jsonFloorPassMs(body, message.numbers) });
  } catch (err) {
    send({ error: (err as Error).message });
  }
});
process.on("disconnect", () => process.exit(0));
