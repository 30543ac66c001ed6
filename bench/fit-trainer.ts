/**
 * The project's trainer on the in-memory benchmark data, timing the fit only: the scaler pass and
 * the sufficient-statistics pass with its solve, on all rows. The counterpart of
 * bench/baselines/sklearn_fit.py, with the same arguments and the same JSON out.
 *
 * Usage: node bench/fit-trainer.ts DATA ROWS FEATURES REPEATS
 */
import { fitLinear, fitScaler, rawCoefficients } from "../predictor/src/train/linear.ts";
import { positiveIntegerArg } from "./args.ts";
import { readMatrix } from "./dataset.ts";

const path = process.argv[2] ?? "";
const n = positiveIntegerArg(process.argv, 3, "rows");
const k = positiveIntegerArg(process.argv, 4, "features");
const repeats = positiveIntegerArg(process.argv, 5, "repeats");
const columns = await readMatrix(path, n, k);
const x = columns.slice(0, k);
const y = columns[k] as Float64Array;
const names = x.map((_, i) => `x${i}`);
const all = { start: 0, end: n };

function fitAllRows() {
  const scaler = fitScaler(x, names, all);
  return rawCoefficients(fitLinear(x, names, y, all, scaler, 0), scaler);
}

let model = fitAllRows(); // warm-up: lets the JIT compile the loops, as sklearn_fit.py warms up too
const fitSeconds: number[] = [];
for (let r = 0; r < repeats; r++) {
  const start = performance.now();
  model = fitAllRows();
  fitSeconds.push((performance.now() - start) / 1000);
}
process.stdout.write(`${JSON.stringify({ fitSeconds, intercept: model.intercept, coef: model.weights })}\n`);
