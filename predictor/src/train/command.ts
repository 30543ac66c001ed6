import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import {
  ArtifactError,
  type ArtifactFile,
  loadArtifact,
  type ModelArtifact,
  parseArtifact,
  serializeArtifact,
} from "../artifact.ts";
import { DataSourceError, DEFAULT_RETRY, loadRawBars, WrongDataSourceError } from "../data/source.ts";
import { DataValidationError, validateBars } from "../data/validate.ts";
import { FeatureError } from "../features.ts";
import { evaluateChampion } from "./champion.ts";
import { TrainError } from "./linear.ts";
import { parseTrainSpec, SpecError, type TrainSpec } from "./spec.ts";
import { trainModel } from "./train.ts";

/** Exit codes of `predictor train`; the training Job's status reports them. */
export const EXIT = { ok: 0, internal: 1, invalid: 2, unavailable: 3 } as const;

export const TRAIN_USAGE = `usage: predictor train --spec <file.json | inline JSON> --out <artifact.json> [--champion <artifact.json>]

Trains a model from the spec, writes the artifact to --out and prints one line of JSON summary.
--champion: the current stable artifact, scored on the same holdout rows for champion/challenger.

exit codes: 0 trained, 2 invalid spec, data, data path or arguments, 3 data source unavailable, 1 internal error.
env: TERMINATION_LOG (default /dev/termination-log, if it exists) receives the summary line, or the error message;
     CODE_VERSION is appended to the package version recorded in the artifact.`;

/** A failure with its exit code and a message meant for the user. */
class CommandError extends Error {
  readonly exitCode: number;
  /** Bad command line: the usage text follows the message. */
  readonly usage: boolean;
  constructor(exitCode: number, message: string, usage = false) {
    super(message);
    this.exitCode = exitCode;
    this.usage = usage;
  }
}

const PACKAGE_JSON = new URL("../../../package.json", import.meta.url);

/** The package version, plus `+$CODE_VERSION` (e.g. a git sha) when the image sets it. */
export function codeVersion(env: NodeJS.ProcessEnv = process.env): string {
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { version: string };
  return env.CODE_VERSION ? `${version}+${env.CODE_VERSION}` : version;
}

function parseCommandLine(argv: string[]): { spec: string; out: string; champion?: string } {
  let values: { spec?: string; out?: string; champion?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { spec: { type: "string" }, out: { type: "string" }, champion: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CommandError(EXIT.invalid, (err as Error).message, true);
  }
  const missing = (["spec", "out"] as const).filter((k) => !values[k]);
  if (missing.length > 0) {
    throw new CommandError(EXIT.invalid, `missing ${missing.map((m) => `--${m}`).join(", ")}`, true);
  }
  return values as { spec: string; out: string; champion?: string };
}

async function readSpec(arg: string): Promise<TrainSpec> {
  const inline = arg.trimStart().startsWith("{");
  let text = arg;
  if (!inline) {
    try {
      text = (await readFile(arg, "utf8")).replace(/^\uFEFF/, "");
    } catch (err) {
      throw new CommandError(EXIT.invalid, `--spec ${arg}: cannot read: ${(err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CommandError(
      EXIT.invalid,
      `spec${inline ? "" : ` (${arg})`}: not valid JSON: ${(err as Error).message}`,
    );
  }
  return parseTrainSpec(value);
}

async function readChampion(path: string): Promise<ArtifactFile> {
  try {
    return await loadArtifact(path);
  } catch (err) {
    throw new CommandError(EXIT.invalid, `--champion ${path}: ${(err as Error).message}`);
  }
}

/** Writes beside the target and renames, so a reader never sees half an artifact. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

function classify(err: unknown, source: string): CommandError {
  if (err instanceof CommandError) return err;
  if (err instanceof DataSourceError) return new CommandError(EXIT.unavailable, err.message);
  if (err instanceof WrongDataSourceError) return new CommandError(EXIT.invalid, err.message);
  if (err instanceof DataValidationError) {
    return new CommandError(EXIT.invalid, `data (${source}): ${err.message}`);
  }
  if (err instanceof SpecError || err instanceof FeatureError || err instanceof ArtifactError) {
    return new CommandError(EXIT.invalid, err.message);
  }
  if (err instanceof TrainError) {
    return new CommandError(EXIT.invalid, `training on ${source}: ${err.message}`);
  }
  return new CommandError(EXIT.internal, `internal error: ${(err as Error).stack ?? String(err)}`);
}

/** Kubernetes keeps at most 4096 bytes of a container's termination message. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

/**
 * The summary line for the termination message, where the operator reads the champion's metrics
 * from: whole when it fits, else without the per-fold walk-forward metrics (20 folds do not fit),
 * so that it stays valid JSON instead of being cut off.
 */
function terminationSummary(summary: { split: ModelArtifact["split"] }): string {
  const whole = JSON.stringify(summary);
  if (Buffer.byteLength(whole) <= TERMINATION_MESSAGE_LIMIT || !summary.split.walkForward) return whole;
  const { metrics: _perFold, ...walkForward } = summary.split.walkForward;
  return JSON.stringify({ ...summary, split: { ...summary.split, walkForward } });
}

/**
 * Kubernetes shows this file's content in the pod status: the summary line after a success (the
 * operator reads the champion's metrics from it), the error after a failure. The default
 * path is written only if it exists (Kubernetes mounts it), never created: outside a pod, /dev is
 * no place for a stray file. A path from TERMINATION_LOG is created.
 */
function writeTerminationLog(message: string, env: NodeJS.ProcessEnv): void {
  const path = env.TERMINATION_LOG ?? "/dev/termination-log";
  const flags = env.TERMINATION_LOG ? "w" : constants.O_WRONLY | constants.O_TRUNC;
  try {
    const fd = openSync(path, flags);
    try {
      writeSync(fd, message.slice(0, TERMINATION_MESSAGE_LIMIT));
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not in a pod, or not writable: stderr already carries the message.
  }
}

export interface CommandIo {
  stdout: (line: string) => void;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CommandIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: process.stderr,
  env: process.env,
};

/** `predictor train`: returns the exit code. */
export async function runTrain(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const log = pino({ base: { command: "train" } }, io.stderr);
  const started = performance.now();
  let source = "data";
  try {
    const args = parseCommandLine(argv);
    const spec = await readSpec(args.spec);
    const champion = args.champion ? await readChampion(args.champion) : undefined;
    const loaded = await loadRawBars(spec.training.data, DEFAULT_RETRY, (attempt, delayMs, error) =>
      log.warn({ attempt, delayMs: Math.round(delayMs), error }, "data source failed; retrying"),
    );
    source = loaded.source;
    const { columns, report } = validateBars(loaded.raw, {
      nonFinite: spec.training.nonFinite,
      minRows: spec.training.minRows,
    });
    log.info({ source, ...report }, "data validated");
    const trained = trainModel(spec, { columns, report, sha256: loaded.sha256 }, codeVersion(io.env));
    const championEvaluation =
      champion &&
      evaluateChampion(
        champion.artifact,
        columns,
        trained.split.holdout,
        spec.target.horizon,
        spec.training.strategy,
        trained.strategyReturns,
      );
    const text = serializeArtifact(trained.artifact);
    try {
      await writeAtomically(args.out, text);
    } catch (err) {
      throw new CommandError(
        EXIT.internal,
        `--out ${args.out}: cannot write the artifact: ${(err as Error).message}`,
      );
    }
    const { sha256 } = parseArtifact(text);
    const { artifact } = trained;
    const summary = {
      status: "ok",
      artifact: args.out,
      sha256,
      dataSha256: loaded.sha256,
      rows: report.rows,
      droppedRows: report.droppedRows,
      droppedReasons: report.reasons,
      ignoredColumns: report.ignoredColumns,
      split: artifact.split,
      metrics: artifact.metrics,
      interval: artifact.interval,
      ...(champion && championEvaluation
        ? { champion: { sha256: champion.sha256, ...championEvaluation } }
        : {}),
      codeVersion: artifact.codeVersion,
      durationMs: Math.round(performance.now() - started),
    };
    io.stdout(JSON.stringify(summary));
    writeTerminationLog(terminationSummary(summary), io.env);
    return EXIT.ok;
  } catch (err) {
    const failure = classify(err, source);
    log.error({ exitCode: failure.exitCode }, failure.message);
    if (failure.usage) io.stderr.write(`${TRAIN_USAGE}\n`);
    writeTerminationLog(failure.message, io.env);
    return failure.exitCode;
  }
}
