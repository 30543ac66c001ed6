/**
 * The Node.js flags `predictor serve` runs with: on the node command line of its pod (the
 * operator's Deployment builder, operator/src/manifests/predictor.ts), and wherever the benchmarks
 * and tests start it as a pod does. On the command line rather than in NODE_OPTIONS, which Node
 * refuses --single-threaded-gc from.
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
 *
 * Collections on the main thread alone: V8 otherwise splits a young-generation collection and the
 * sweeping of those buffers with helper threads, which in a pod limited to one core (and in the
 * benchmark, pinned to one) wait for the core the main thread holds. At 15,000 requests/s, seven
 * pairs of 4 s runs: median pause 0.17-0.28 ms against 0.23-0.35 with helpers, lower in every
 * pair, and the longest 0.33-3.2 ms against 0.59-6.4.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2", "--single-threaded-gc"];

/**
 * The predictor image's entrypoint (predictor/Dockerfile: node, then the CLI from its working
 * directory) with SERVE_NODE_FLAGS between the two, as a container's command.
 */
export const SERVE_COMMAND: readonly string[] = ["node", ...SERVE_NODE_FLAGS, "predictor/src/cli.ts"];
