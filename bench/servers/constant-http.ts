/**
 * The ceiling for any Node HTTP service on this machine: bare node:http that reads the request body
 * and answers a constant JSON. Usage: node bench/servers/constant-http.ts <port>
 */
import { createServer } from "node:http";
import { positiveIntegerArg } from "../args.ts";

const port = positiveIntegerArg(process.argv, 2, "port");

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
