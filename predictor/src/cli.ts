#!/usr/bin/env node
import { enableCompileCache } from "node:module";

// Node keeps the compiled code of the modules in a cache (NODE_COMPILE_CACHE, else the temporary
// directory), so a start after the first skips compiling: 3x faster module loading here. Enabled
// before any module of the command loads, hence the commands' dynamic imports; they also keep the
// trainer's modules out of the predictor's start.
enableCompileCache();

/** A subcommand: runs with the arguments after its name and resolves to the exit code. */
interface Command {
  summary: string;
  load: () => Promise<{ usage: string; run: (argv: string[]) => Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  train: {
    summary: "train a model from a spec and write its artifact",
    load: async () => {
      const { runTrain, TRAIN_USAGE } = await import("./train/command.ts");
      return { usage: TRAIN_USAGE, run: runTrain };
    },
  },
  serve: {
    summary: "serve a trained artifact over HTTP (the predictor pod)",
    load: async () => {
      const { serveCommand, SERVE_USAGE } = await import("./serve/main.ts");
      return { usage: SERVE_USAGE, run: serveCommand };
    },
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
  } else {
    const { usage, run } = await command.load();
    if (rest.includes("--help") || rest.includes("-h")) process.stdout.write(`${usage}\n`);
    else process.exitCode = await run(rest);
  }
}
