/**
 * The ceiling for any Node HTTP service on this machine: bare node:http that reads the request body
 * and answers a constant JSON. Usage: node bench/servers/constant-http.ts <port>
 */
import { createServer } from "node:http";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  throw new Error(`port: expected an integer in 1..65535, got '${process.argv[2] ?? ""}'`);
}

const answer = Buffer.from(JSON.stringify({ prediction: 0, interval: { lower: -1, upper: 1 } }));

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": answer.length });
    res.end(answer);
  });
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
