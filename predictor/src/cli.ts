#!/usr/bin/env node
import { SERVE_USAGE, serveCommand } from "./serve/main.ts";
import { runTrain, TRAIN_USAGE } from "./train/command.ts";

/** A subcommand: runs with the arguments after its name and resolves to the exit code. */
interface Command {
  summary: string;
  usage: string;
  run: (argv: string[]) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  train: { summary: "train a model from a spec and write its artifact", usage: TRAIN_USAGE, run: runTrain },
  serve: {
    summary: "serve a trained artifact over HTTP (the predictor pod)",
    usage: SERVE_USAGE,
    run: serveCommand,
  },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    "usage: predictor <command> [options]   (predictor <command> --help for its options)",
    "commands:",
    ...rows,
  ].join("\n");
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h" || name === "help") {
  process.stdout.write(`${help()}\n`);
  process.exitCode = name === undefined ? 2 : 0;
} else {
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`predictor: unknown command "${name}"\n${help()}\n`);
    process.exitCode = 2;
  } else if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
  } else {
    process.exitCode = await command.run(rest);
  }
}
