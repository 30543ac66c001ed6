/**
 * The Node.js options `predictor serve` runs with: NODE_OPTIONS in its pod
 * (operator/src/manifests/predictor.ts), and wherever the benchmarks and tests start it as a pod does.
 *
 * A young generation of at most 2 MB a semi-space. V8 grows it from 1 MB up to 16 MB when enough
 * survives its collections, and the predictor's own start (compiling its modules, loading the
 * model) grows it to 8 MB within a second. Under single-row traffic little survives, so it then
 * stays that large, and each collection's pause grows with it: most of the pause frees the
 * ArrayBuffer node:http makes for each request body since the last collection. Measured at 19,000
 * requests/s with V8's --trace-gc-nvp: 0.6-0.8 ms pauses at 8 MB, 0.3-0.4 of them sweeping those
 * buffers; 0.2-0.35 ms at 2 MB, the size bare node:http settles at under the same load. Those pauses,
 * and the requests queued behind them, set the predictor's p99 at half its peak on a quiet host
 * (docs/benchmarks.md). What a smaller space costs: a 1,000-row batch by name is still alive when it
 * fills and is copied. At 2 MB that batch measured 1.21-1.22x the JSON floor once its body was
 * decoded whole (predict-endpoint.ts; 1.24x before), at 1 MB 1.30x.
 */
export const SERVE_NODE_OPTIONS = "--max-semi-space-size=2";
