import { once } from "node:events";
import { flushCompileCache } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import pino, { type Logger } from "pino";
import { loadArtifact } from "../artifact.ts";
import { buildPredictor } from "./app.ts";
import { ConfigError, flagName, parseServeConfig, SETTINGS, type ServeConfig } from "./config.ts";

export const EXIT_OK = 0;
/** The server could not listen, or shutdown ran past SHUTDOWN_DEADLINE_MS and cut requests off. */
export const EXIT_FAILED = 1;
/** Bad configuration or an artifact that cannot be served. */
export const EXIT_BAD_INPUT = 2;

const EXIT_GRACE_MS = 1000;

/** `predictor serve --help`: every setting with its variable, flag and default. */
export const SERVE_USAGE = [
  "usage: predictor serve [--flag value ...]",
  "settings (environment variable, or the flag, which wins):",
  ...SETTINGS.map((s) => {
    const fallback = typeof s.fallback === "object" ? `default ${String(s.fallback.value)}` : s.fallback;
    return `  ${s.env.padEnd(22)} --${flagName(s.env).padEnd(22)} ${s.help} (${fallback})`;
  }),
].join("\n");

/** Resolves on the first SIGTERM or SIGINT. */
function shutdownSignal(): Promise<string> {
  const controller = new AbortController();
  const signals = ["SIGTERM", "SIGINT"].map((name) =>
    once(process, name, { signal: controller.signal }).then(() => name),
  );
  return Promise.race(signals).finally(() => controller.abort());
}

/**
 * Listens, loads and verifies the artifact (ready from then on), serves until SIGTERM, then turns
 * unready, serves on for SHUTDOWN_DELAY_MS while endpoints are updated, and closes: no new
 * connections, in-flight requests finish. Returns the exit code.
 */
export async function runServe(config: ServeConfig, log: Logger): Promise<number> {
  const signal = shutdownSignal();
  const { app, state } = buildPredictor({ config, log });
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    log.error(
      { err, host: config.host, port: config.port },
      `cannot listen on HOST=${config.host} PORT=${config.port}: ${code ?? (err as Error).message}`,
    );
    await app.close();
    return EXIT_FAILED;
  }
  log.info({ address, config }, "listening; loading the artifact");
  if (config.chaosLatencyMs > 0 || config.chaosErrorFraction > 0) {
    log.warn(
      { chaosLatencyMs: config.chaosLatencyMs, chaosErrorFraction: config.chaosErrorFraction },
      "chaos is on: /v1 requests are delayed or failed on purpose",
    );
  }
  try {
    const model = state.load(await loadArtifact(config.artifactPath, config.artifactSha256));
    log.info({ artifactSha256: model.sha256, features: model.features, address }, "model loaded; ready");
    // Node would write its compile cache (cli.ts) only at exit; the next start needs it now.
    flushCompileCache();
  } catch (err) {
    log.error({ err, artifactPath: config.artifactPath }, "cannot serve the artifact");
    await app.close();
    return EXIT_BAD_INPUT;
  }

  const received = await signal;
  state.startDraining();
  log.info({ signal: received, delayMs: config.shutdownDelayMs }, "shutting down: unready");
  if (config.shutdownDelayMs > 0) await sleep(config.shutdownDelayMs);
  const deadline = sleep(config.shutdownDeadlineMs, "deadline" as const, { ref: false });
  const outcome = await Promise.race([app.close().then(() => "drained" as const), deadline]);
  if (outcome === "deadline") {
    log.warn(
      { deadlineMs: config.shutdownDeadlineMs },
      "in-flight requests did not finish by the deadline; closing them",
    );
    app.server.closeAllConnections();
    return EXIT_FAILED;
  }
  log.info("drained; exiting");
  return EXIT_OK;
}

/** `predictor serve`: the command the predictor Deployment runs. */
export async function serveCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: ServeConfig;
  try {
    config = parseServeConfig(env, argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`predictor serve: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
  const log = pino({
    level: config.logLevel,
    base: { model: config.modelName, version: config.modelVersion, track: config.modelTrack },
  });
  const code = await runServe(config, log);
  // Whatever still holds the event loop after shutdown (a handler stuck past the deadline, a
  // mirror call) must not keep the pod in Terminating: exit regardless, a moment from now.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}
