/**
 * The least any JSON prediction service does, as a server: bare node:http that reads the body,
 * parses it and writes a JSON answer shaped like the predictor's, with its length. At half the
 * predictor's peak it tells the tail any JSON endpoint in this runtime has at that rate from what
 * the predictor adds. Usage: node bench/servers/json-endpoint.ts <port>
 */
import { createServer } from "node:http";
import { positiveIntegerArg } from "../args.ts";

const port = positiveIntegerArg(process.argv, 2, "port");
let answered = 0;

function answerTo(body: Buffer): [number, string] {
  let row: unknown;
  try {
    row = JSON.parse(body.toString("latin1"));
  } catch {
    return [400, '{"error":"body is not JSON"}'];
  }
  const first = typeof row === "object" && row !== null ? Object.values(row)[0] : undefined;
  const prediction = typeof first === "number" ? first / 2 : 0;
  const answer = JSON.stringify({
    prediction,
    interval: { lower: prediction - 0.01, upper: prediction + 0.01, level: 0.9 },
    predictionId: `json-endpoint-${answered++}`,
    model: "bench",
    modelVersion: "bench",
  });
  return [200, answer];
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    // A GET is the readiness check.
    const [status, answer] = req.method === "POST" ? answerTo(Buffer.concat(chunks)) : [200, "{}"];
    res.writeHead(status, [
      "content-type",
      "application/json",
      "content-length",
      String(Buffer.byteLength(answer)),
    ]);
    res.end(answer);
  });
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
