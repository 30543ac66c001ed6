#!/usr/bin/env node
import { runOperator } from "./controller/operator.ts";
import { OptionsError, parseOptions, usage } from "./controller/options.ts";
import { publishArtifactCommand } from "./controller/publish-artifact.ts";

/**
 * The operator image's entry point: with no command it runs the controller; `publish-artifact`
 * is what training Jobs run to store a trained artifact.
 */
const argv = process.argv.slice(2);
if (argv[0] === "publish-artifact") {
  process.exit(await publishArtifactCommand(argv.slice(1), process.env));
}
if (argv[0] === "--help" || argv[0] === "-h") {
  process.stdout.write(`${usage()}\n`);
  process.exit(0);
}
try {
  const options = parseOptions(argv, process.env);
  process.on("unhandledRejection", (reason) => {
    // Logged, never fatal: a crash would only restart into the same apiserver trouble.
    process.stderr.write(
      `${JSON.stringify({ level: 50, msg: "unhandled rejection", err: String(reason) })}\n`,
    );
  });
  process.exit(await runOperator(options));
} catch (err) {
  if (!(err instanceof OptionsError)) throw err;
  process.stderr.write(`operator: ${err.message}\n\n${usage()}\n`);
  process.exit(2);
}
