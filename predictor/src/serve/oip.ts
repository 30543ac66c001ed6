import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import { BAR_FIELDS, type Bar } from "../bars.ts";
import { codeVersion } from "../train/command.ts";
import { describeValue, fieldPath, invalidField, RequestError } from "./errors.ts";
import type { ServedModel } from "./model.ts";
import { NON_FINITE_PREDICTION, predictRows, record } from "./predict-rows.ts";
import { type BarPath, decodeBarWindow, isRecord } from "./rows.ts";
import type { ServeState } from "./state.ts";

/*
 * The Open Inference Protocol (KServe's "V2" REST protocol, also served by MLServer and Triton)
 * beside /v1: health, model readiness and metadata as fastify routes, and inference on the
 * predictor's own fast path (predict-endpoint.ts) under the same rules, limits and records as
 * /v1. The tensors a tabular client sends are read into the same rows /v1 decodes:
 *   one FP64/FP32 tensor [N, F] of every feature in the artifact's order (any name), flat or nested;
 *   one tensor per feature, named by it, of shape [N] or [N, 1];
 *   six bar tensors ts, open, high, low, close, volume of shape [N, B] (or [B] for one row): row
 *   i is a window of B bars, oldest first, whose last bar's features are computed as in training.
 */

export const OIP_INFER_ROUTE = "/v2/models/:name/infer";
export const OIP_INFER_VERSION_ROUTE = "/v2/models/:name/versions/:version/infer";

export const OIP_OUTPUTS = ["prediction", "lower", "upper"] as const;
type OutputName = (typeof OIP_OUTPUTS)[number];

const FEATURE_DATATYPES = ["FP64", "FP32"];
/** ts is epoch milliseconds: clients with integer timestamps send INT64. */
const BAR_DATATYPES = ["FP64", "FP32", "INT64"];
/** MLServer's codecs name how a client encoded its tensors; both mean numbers as they are. */
const CONTENT_TYPES = ["np", "pd"];
const REQUEST_FIELDS = ["id", "parameters", "inputs", "outputs"];
const INPUT_FIELDS = ["name", "shape", "datatype", "parameters", "data"];

interface Target {
  name: string;
  version: string | undefined;
}

function segment(text: string): string | undefined {
  // decodeURIComponent took a microsecond of every inference request, which rarely has an escape.
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** `/v2/models/{name}[/versions/{version}]{suffix}` split into name and version; undefined otherwise. */
function modelPath(path: string, suffix: string): Target | undefined {
  if (!path.startsWith("/v2/models/") || !path.endsWith(suffix)) return undefined;
  const parts = path.slice("/v2/models/".length, path.length - suffix.length).split("/");
  const name = segment(parts[0] ?? "");
  if (parts.length === 1 && name) return { name, version: undefined };
  const version = segment(parts[2] ?? "");
  if (parts.length === 3 && parts[1] === "versions" && name && version) return { name, version };
  return undefined;
}

/** 404 when the model named is not this predictor's. */
function wrongModel(state: ServeState, { name, version }: Target): RequestError | undefined {
  const { modelName, modelVersion } = state.config;
  if (name === modelName && (version === undefined || version === modelVersion)) return undefined;
  const asked = version === undefined ? `model "${name}"` : `model "${name}" version "${version}"`;
  return new RequestError(
    404,
    "not_found",
    `${asked} is not served here: this predictor serves model "${modelName}" version "${modelVersion}"`,
  );
}

/**
 * Reads inference paths `/v2/models/{name}[/versions/{version}]/infer` for one app, remembering
 * the last one and what it names: a client sends the same path every time, and each request reads
 * it twice (its route, then its model), which took half a microsecond a request.
 */
export class OipInferPaths {
  #path = "";
  #target: Target | undefined;

  /** The model an inference path names; undefined for another path. */
  #targetOf(path: string): Target | undefined {
    if (path !== this.#path) {
      this.#path = path;
      this.#target = modelPath(path, "/infer");
    }
    return this.#target;
  }

  /** The metrics label of an inference path, or undefined when the path is not one. */
  routeOf(path: string): string | undefined {
    const target = this.#targetOf(path);
    if (!target) return undefined;
    return target.version === undefined ? OIP_INFER_ROUTE : OIP_INFER_VERSION_ROUTE;
  }

  /** Why a request to an inference path is refused before its body is read: a model not served here, or binary tensors. */
  refusal(state: ServeState, path: string, headers: IncomingHttpHeaders): RequestError | undefined {
    const refused = wrongModel(state, this.#targetOf(path) as Target);
    if (refused) return refused;
    if (headers["inference-header-content-length"] !== undefined) {
      return invalidField(
        "inference-header-content-length",
        "asks for binary tensor data (a Triton extension), which is not supported: send the tensors' data as JSON (binary_data=False)",
      );
    }
    return undefined;
  }
}

function onlyKnownKeys(value: Record<string, unknown>, known: readonly string[], path: string, what: string) {
  for (const key in value) {
    if (!known.includes(key))
      throw invalidField(fieldPath(path, key), `is not a field of ${what} (${known.join(", ")})`);
  }
}

/**
 * Parameters a client may send: MLServer's `content_type` codecs for numbers ("np", "pd"), and
 * Triton's binary-data switches when they ask for JSON. Anything else would be silently ignored,
 * so it is refused.
 */
function checkParameters(parameters: unknown, path: string, binarySwitch: string): void {
  if (parameters === undefined) return;
  if (!isRecord(parameters)) throw invalidField(path, `must be an object, got ${describeValue(parameters)}`);
  for (const key in parameters) {
    const value = parameters[key];
    const field = fieldPath(path, key);
    if (key === "content_type") {
      if (!CONTENT_TYPES.includes(value as string)) {
        throw invalidField(field, `must be "np" or "pd" (numbers as sent), got ${describeValue(value)}`);
      }
    } else if (key === binarySwitch) {
      if (value !== false) {
        throw invalidField(
          field,
          "asks for binary tensor data (a Triton extension), which is not supported: only JSON tensors are",
        );
      }
    } else {
      throw invalidField(field, `is not a parameter this predictor takes (content_type, ${binarySwitch})`);
    }
  }
}

interface Tensor {
  /** inputs[i] */
  path: string;
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  /** Data nested as the shape (`[[1, 2], [3, 4]]`), not flat (`[1, 2, 3, 4]`): how errors index it. */
  nested: boolean;
}

/** Checks nested data against the shape at depth `depth` and appends its elements to `out`. */
function flattenInto(data: unknown, shape: number[], depth: number, path: string, out: unknown[]): void {
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw invalidField(
      path,
      `must be an array of ${shape[depth]} (shape [${shape.join(", ")}]), got ${describeValue(data)}`,
    );
  }
  if (depth === shape.length - 1) {
    for (const x of data) out.push(x);
    return;
  }
  for (let i = 0; i < data.length; i++) flattenInto(data[i], shape, depth + 1, fieldPath(path, i), out);
}

function parseInput(input: unknown, index: number): Tensor {
  const path = fieldPath("inputs", index);
  if (!isRecord(input))
    throw invalidField(path, `must be a tensor {name, shape, datatype, data}, got ${describeValue(input)}`);
  onlyKnownKeys(input, INPUT_FIELDS, path, "an input tensor");
  const { name, shape, datatype, data, parameters } = input;
  if (typeof name !== "string" || name === "")
    throw invalidField(fieldPath(path, "name"), `must be a non-empty string, got ${describeValue(name)}`);
  // Paths and descriptions are written only for an error: every request reads its tensors here.
  const where = () => `${path} ("${name}")`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw invalidField(
      fieldPath(path, "shape"),
      `of ${where()} must be an array of non-negative integers, got ${describeValue(shape)}`,
    );
  }
  // Every form is one or two dimensions; a deeper shape would also have nested data read deeper.
  if (shape.length < 1 || shape.length > 2) {
    throw invalidField(
      fieldPath(path, "shape"),
      `of ${where()} must have 1 or 2 dimensions ([N, F], [N], [N, 1], [N, B] or [B]), got [${shape.join(", ")}]`,
    );
  }
  if (typeof datatype !== "string")
    throw invalidField(
      fieldPath(path, "datatype"),
      `of ${where()} must be a string, got ${describeValue(datatype)}`,
    );
  if (parameters !== undefined) checkParameters(parameters, fieldPath(path, "parameters"), "binary_data");
  if (!Array.isArray(data))
    throw invalidField(fieldPath(path, "data"), `of ${where()} must be an array, got ${describeValue(data)}`);
  const dims = shape as number[];
  const size = dims.reduce((a, b) => a * b, 1);
  if (dims.length > 1 && Array.isArray(data[0])) {
    const flat: unknown[] = [];
    flattenInto(data, dims, 0, fieldPath(path, "data"), flat);
    return { path, name, shape: dims, datatype, data: flat, nested: true };
  }
  if (data.length !== size) {
    throw invalidField(
      fieldPath(path, "data"),
      `of ${where()} has ${data.length} values; shape [${dims.join(", ")}] takes ${size} (flat, row-major, or nested as the shape)`,
    );
  }
  return { path, name, shape: dims, datatype, data, nested: false };
}

/** The path of element `k` (row-major) of a tensor's data, as the client wrote it. */
function elementPath(tensor: Tensor, k: number): string {
  let path = fieldPath(tensor.path, "data");
  if (!tensor.nested) return fieldPath(path, k);
  const index: number[] = [];
  for (let d = tensor.shape.length - 1; d >= 0; d--) {
    const size = tensor.shape[d] as number;
    index.unshift(k % size);
    k = Math.floor(k / size);
  }
  for (const i of index) path = fieldPath(path, i);
  return path;
}

/**
 * Element `k` of a tensor, of row `row`, as a finite number. `place` says where in the row it is
 * for the error: a feature's name, a bar's index, or nothing. The message is built only on error:
 * a request reads every element through here.
 */
function numberAt(tensor: Tensor, k: number, row: number, place?: string | number): number {
  const value = tensor.data[k];
  if (typeof value === "number" && Number.isFinite(value)) {
    if (tensor.datatype !== "INT64" || Number.isInteger(value)) return value;
  }
  const kind = tensor.datatype === "INT64" ? "an integer (INT64)" : "a finite number";
  const where =
    place === undefined ? "" : typeof place === "number" ? `, bar ${place}` : `, feature ${place}`;
  throw invalidField(
    elementPath(tensor, k),
    `must be ${kind} (tensor "${tensor.name}", row ${row}${where}), got ${describeValue(value)}`,
  );
}

function checkDatatype(tensor: Tensor, allowed: readonly string[]): void {
  if (!allowed.includes(tensor.datatype)) {
    throw invalidField(
      fieldPath(tensor.path, "datatype"),
      `of tensor "${tensor.name}" must be ${allowed.join(" or ")}, got ${JSON.stringify(tensor.datatype)}`,
    );
  }
}

function checkRows(count: number, tensor: Tensor, limit: number): void {
  if (count === 0)
    throw invalidField(
      fieldPath(tensor.path, "shape"),
      `of tensor "${tensor.name}" has 0 rows; send at least 1`,
    );
  if (count > limit)
    throw invalidField(
      fieldPath(tensor.path, "shape"),
      `of tensor "${tensor.name}" has ${count} rows; at most ${limit} are taken (BATCH_LIMIT)`,
    );
}

/**
 * How the rows of a request are read: how many, row i's features into `row`, and the ts of the
 * newest last bar of its rows (NaN for features; read once every row was decoded).
 */
interface RowSource {
  count: number;
  decode(i: number, row: Float64Array): void;
  newestBarTs?(): number;
}

/** One tensor [N, F] of every feature in the artifact's order. */
function matrixRows(tensor: Tensor, model: ServedModel, limit: number): RowSource {
  checkDatatype(tensor, FEATURE_DATATYPES);
  const names = model.features;
  const f = names.length;
  const { shape } = tensor;
  if (shape.length !== 2 || shape[1] !== f) {
    throw invalidField(
      fieldPath(tensor.path, "shape"),
      `of tensor "${tensor.name}" must be [N, ${f}] (rows x the features ${names.join(", ")}), got [${shape.join(", ")}]; a tensor per feature is named by the feature`,
    );
  }
  const count = shape[0] as number;
  checkRows(count, tensor, limit);
  return {
    count,
    decode(i, row) {
      for (let j = 0; j < f; j++) row[j] = numberAt(tensor, i * f + j, i, names[j]);
    },
  };
}

/** One tensor per feature, named by it, each [N] or [N, 1]. */
function featureRows(tensors: Tensor[], model: ServedModel, limit: number): RowSource {
  const names = model.features;
  const byFeature: Tensor[] = [];
  for (const tensor of tensors) {
    const j = names.indexOf(tensor.name);
    const earlier = byFeature[j];
    if (earlier) throw invalidField(tensor.path, `("${tensor.name}") is given twice (also ${earlier.path})`);
    checkDatatype(tensor, FEATURE_DATATYPES);
    const { shape } = tensor;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw invalidField(
        fieldPath(tensor.path, "shape"),
        `of feature tensor "${tensor.name}" must be [N] or [N, 1], got [${shape.join(", ")}]`,
      );
    }
    byFeature[j] = tensor;
  }
  const missing = names.filter((_, j) => !byFeature[j]);
  if (missing.length > 0) {
    throw invalidField(
      "inputs",
      `has no tensor for feature ${missing.join(", ")}: the model takes ${names.join(", ")} (a tensor each, or one [N, ${names.length}] tensor)`,
    );
  }
  const first = byFeature[0] as Tensor;
  const count = first.shape[0] as number;
  for (const tensor of byFeature) {
    if (tensor.shape[0] !== count) {
      throw invalidField(
        fieldPath(tensor.path, "shape"),
        `of tensor "${tensor.name}" has ${tensor.shape[0]} rows, tensor "${first.name}" ${count}: every feature tensor has the same rows`,
      );
    }
  }
  checkRows(count, first, limit);
  return {
    count,
    decode(i, row) {
      for (let j = 0; j < names.length; j++) row[j] = numberAt(byFeature[j] as Tensor, i, i);
    },
  };
}

/** Six bar tensors, each [N, B] (or [B], one row): row i is a window of B bars, oldest first. */
function barRows(tensors: Tensor[], model: ServedModel, limit: number): RowSource {
  const byField = new Map<string, Tensor>();
  for (const tensor of tensors) {
    const earlier = byField.get(tensor.name);
    if (earlier) throw invalidField(tensor.path, `("${tensor.name}") is given twice (also ${earlier.path})`);
    checkDatatype(tensor, BAR_DATATYPES);
    if (tensor.shape.length !== 1 && tensor.shape.length !== 2) {
      throw invalidField(
        fieldPath(tensor.path, "shape"),
        `of bar tensor "${tensor.name}" must be [N, B] (N windows of B bars) or [B], got [${tensor.shape.join(", ")}]`,
      );
    }
    byField.set(tensor.name, tensor);
  }
  const missing = BAR_FIELDS.filter((f) => !byField.has(f));
  if (missing.length > 0)
    throw invalidField(
      "inputs",
      `has bar tensors but none for ${missing.join(", ")}: bars need ${BAR_FIELDS.join(", ")}`,
    );
  const first = tensors[0] as Tensor;
  const columns = BAR_FIELDS.map((f) => byField.get(f) as Tensor);
  for (const tensor of columns) {
    if (tensor.shape.join() !== first.shape.join()) {
      throw invalidField(
        fieldPath(tensor.path, "shape"),
        `of tensor "${tensor.name}" is [${tensor.shape.join(", ")}], tensor "${first.name}" [${first.shape.join(", ")}]: every bar tensor has the same shape`,
      );
    }
  }
  const [count, size] =
    first.shape.length === 2 ? (first.shape as [number, number]) : [1, first.shape[0] as number];
  checkRows(count, first, limit);
  return {
    count,
    decode(i, row) {
      const bars: Bar[] = new Array(size);
      for (let b = 0; b < size; b++) {
        const at = (c: number) => numberAt(columns[c] as Tensor, i * size + b, i, b);
        bars[b] = { ts: at(0), open: at(1), high: at(2), low: at(3), close: at(4), volume: at(5) };
      }
      const path: BarPath = (b, key) => {
        const tensor = byField.get(key ?? "ts") as Tensor;
        return elementPath(tensor, i * size + b);
      };
      decodeBarWindow(bars, model, row, path, `inputs (the bars of row ${i})`);
    },
    newestBarTs() {
      const ts = columns[0] as Tensor;
      let newest = ts.data[size - 1] as number;
      for (let i = 1; i < count; i++) newest = Math.max(newest, ts.data[i * size + size - 1] as number);
      return newest;
    },
  };
}

/** Which form the input tensors are in, and their rows. */
function rowSource(inputs: unknown, model: ServedModel, limit: number): RowSource {
  if (inputs === undefined) throw invalidField("inputs", "is required");
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw invalidField("inputs", `must be a non-empty array of tensors, got ${describeValue(inputs)}`);
  }
  const tensors = inputs.map(parseInput);
  const isBar = (t: Tensor) => (BAR_FIELDS as readonly string[]).includes(t.name);
  const isFeature = (t: Tensor) => model.features.includes(t.name);
  const first = tensors[0] as Tensor;
  if (tensors.length === 1 && !isBar(first) && !isFeature(first)) return matrixRows(first, model, limit);
  const bars = isBar(first) || (!isFeature(first) && tensors.some(isBar));
  for (const tensor of tensors) {
    if (bars ? isBar(tensor) : isFeature(tensor)) continue;
    if (isBar(tensor) || isFeature(tensor)) {
      const [kind, others] = bars ? ["a feature", "bars"] : ["a bar field", "features"];
      throw invalidField(
        tensor.path,
        `("${tensor.name}") is ${kind} while the other tensors are ${others}: bars and features cannot be mixed`,
      );
    }
    throw invalidField(
      tensor.path,
      `("${tensor.name}") is not a feature of this model (${model.features.join(", ")}) nor a bar field (${BAR_FIELDS.join(", ")}); one [N, ${model.features.length}] tensor of every feature is taken only as the only input`,
    );
  }
  return bars ? barRows(tensors, model, limit) : featureRows(tensors, model, limit);
}

function requestedOutputs(outputs: unknown): readonly OutputName[] {
  if (outputs === undefined) return OIP_OUTPUTS;
  if (!Array.isArray(outputs) || outputs.length === 0) {
    throw invalidField("outputs", `must be a non-empty array of {name}, got ${describeValue(outputs)}`);
  }
  const names: OutputName[] = [];
  outputs.forEach((output: unknown, i) => {
    const path = fieldPath("outputs", i);
    if (!isRecord(output)) throw invalidField(path, `must be an object {name}, got ${describeValue(output)}`);
    onlyKnownKeys(output, ["name", "parameters"], path, "a requested output");
    checkParameters(output.parameters, fieldPath(path, "parameters"), "binary_data");
    const name = output.name as OutputName;
    if (!OIP_OUTPUTS.includes(name)) {
      throw invalidField(
        fieldPath(path, "name"),
        `must be one of ${OIP_OUTPUTS.join(", ")}, got ${describeValue(output.name)}`,
      );
    }
    if (names.includes(name)) throw invalidField(fieldPath(path, "name"), `asks for "${name}" twice`);
    names.push(name);
  });
  return names;
}

/** The shadow gets the request as sent, less the outputs asked for: it answers every output, prediction included. */
function shadowBody(body: Record<string, unknown>): Record<string, unknown> {
  if (body.outputs === undefined) return body;
  const { outputs: _, ...rest } = body;
  return rest;
}

/** Answers an inference request: the response JSON, after recording its predictions as /v1 does. */
export function answerInfer(state: ServeState, body: unknown, bytes: number): string {
  if (!isRecord(body))
    throw invalidField("body", `must be an inference request {inputs, ...}, got ${describeValue(body)}`);
  onlyKnownKeys(body, REQUEST_FIELDS, "", "an inference request");
  const { id } = body;
  if (id !== undefined && typeof id !== "string")
    throw invalidField("id", `must be a string, got ${describeValue(id)}`);
  checkParameters(body.parameters, "parameters", "binary_data_output");
  const model = state.model as ServedModel;
  const source = rowSource(body.inputs, model, state.config.batchLimit);
  const outputs = requestedOutputs(body.outputs);
  const n = source.count;
  const predictions = predictRows(state, model, n, source.decode, (i) =>
    invalidField("inputs", `row ${i} ${NON_FINITE_PREDICTION}`),
  );
  const first = record(state, n, predictions, source.newestBarTs?.());
  const { config, cache } = state;
  state.shadow?.mirror(
    `/v2/models/${encodeURIComponent(config.modelName)}/infer`,
    shadowBody(body),
    bytes,
    predictions.slice(0, n),
  );
  const { interval } = model.artifact;
  const text = answerText(state, model);
  let json = text.head;
  if (id !== undefined) json += `"id":${JSON.stringify(id)},`;
  // Ids are base64url and digits: nothing in them to escape.
  json += `"parameters":{"prediction_ids":"${cache.idsText(first, n)}"${text.parametersTail}`;
  for (let k = 0; k < outputs.length; k++) {
    const name = outputs[k] as OutputName;
    const offset = name === "lower" ? interval.lower : name === "upper" ? interval.upper : 0;
    const data = new Array<number>(n);
    for (let i = 0; i < n; i++) data[i] = (predictions[i] as number) + offset;
    json += `${k === 0 ? "" : ","}${text.outputHeads[name]}${String(n)}],"data":${JSON.stringify(data)}}`;
  }
  return `${json}]}`;
}

/** The text of an answer that is the same for every request to a model, written once per model loaded. */
interface AnswerText {
  /** `{"model_name":…,"model_version":…,` */
  head: string;
  /** The parameters after prediction_ids, and the start of the outputs. */
  parametersTail: string;
  /** An output tensor up to its shape's N. */
  outputHeads: Record<OutputName, string>;
}

const answerTexts = new WeakMap<ServedModel, AnswerText>();

/**
 * The answer is written around the numbers, which alone go through JSON.stringify: stringifying
 * the whole nested answer object took half of an inference request's own time (its keys and
 * constant strings are the same on every answer).
 */
function answerText(state: ServeState, model: ServedModel): AnswerText {
  let text = answerTexts.get(model);
  if (text) return text;
  const { modelName, modelVersion, modelTrack } = state.config;
  const head = Object.fromEntries(
    OIP_OUTPUTS.map((name) => [name, `{"name":"${name}","datatype":"FP64","shape":[`]),
  );
  text = {
    head: `{"model_name":${JSON.stringify(modelName)},"model_version":${JSON.stringify(modelVersion)},`,
    parametersTail: `,"interval_level":${JSON.stringify(model.artifact.interval.level)},"track":${JSON.stringify(modelTrack)}},"outputs":[`,
    outputHeads: head as Record<OutputName, string>,
  };
  answerTexts.set(model, text);
  return text;
}

interface ModelParams {
  name: string;
  version?: string;
}

/** Health, server and model metadata, model readiness. */
export function oipRoutes(app: FastifyInstance, state: ServeState): void {
  const server = { name: "tradingmodel-predictor", version: codeVersion(), extensions: [] };
  const notReady = () => {
    const why = state.model ? "shutting down" : "model not loaded yet";
    return new RequestError(503, state.model ? "shutting_down" : "not_ready", `not ready: ${why}`);
  };

  app.get("/v2", () => server);
  app.get("/v2/health/live", () => ({ live: true }));
  app.get("/v2/health/ready", () => {
    if (!state.ready) throw notReady();
    return { ready: true };
  });

  const ready = (params: ModelParams) => {
    const refused = wrongModel(state, { name: params.name, version: params.version });
    if (refused) throw refused;
    if (!state.ready) throw notReady();
    return { name: state.config.modelName, ready: true };
  };
  app.get<{ Params: ModelParams }>("/v2/models/:name/ready", (request) => ready(request.params));
  app.get<{ Params: ModelParams }>("/v2/models/:name/versions/:version/ready", (request) =>
    ready(request.params),
  );

  const metadata = (params: ModelParams) => {
    const refused = wrongModel(state, { name: params.name, version: params.version });
    if (refused) throw refused;
    const model = state.model;
    if (!model) throw notReady();
    const { config } = state;
    const tensor = (name: string) => ({ name, datatype: "FP64", shape: [-1] });
    return {
      name: config.modelName,
      versions: [config.modelVersion],
      platform: `tradingmodel-${model.artifact.algorithm.type}`,
      inputs: model.features.map(tensor),
      outputs: OIP_OUTPUTS.map(tensor),
      parameters: {
        track: config.modelTrack,
        artifact_sha256: model.sha256,
        feature_order: model.features.join(","),
        lookback_bars: model.window.lookback,
        interval_level: model.artifact.interval.level,
      },
    };
  };
  app.get<{ Params: ModelParams }>("/v2/models/:name", (request) => metadata(request.params));
  app.get<{ Params: ModelParams }>("/v2/models/:name/versions/:version", (request) =>
    metadata(request.params),
  );
}
