#!/usr/bin/env bash
# The model runtime on its own, no cluster: train the demo model on seeded synthetic data, serve it on
# loopback, predict from a window of raw bars and from the same row as features, send feedback, show
# that bad input is named, show the metrics the operator's analysis reads, stop it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
# A free loopback port unless one is given.
port=${DEMO_PORT:-$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

spec='{"features":["ret_1","ret_5","ret_20","vol_20","sma_ratio_5_20","volume_z_20"],
  "target":{"horizon":1},"algorithm":{"type":"ridge","alpha":1},
  "training":{"data":{"synthetic":{"seed":42,"bars":50000,"regime":"trending"}},"holdoutFraction":0.2}}'

say "predictor train (50,000 synthetic bars, ridge, 20% time-ordered holdout)"
node predictor/src/cli.ts train --spec "$spec" --out "$work/artifact.json" | tee "$work/summary.json"

say "predictor serve on 127.0.0.1:$port"
MODEL_NAME=spy-momentum MODEL_VERSION=1 MODEL_TRACK=stable ARTIFACT_PATH="$work/artifact.json" \
  HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn node predictor/src/cli.ts serve &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null

say "GET /v1/model (feature order and the bars a window needs)"
model=$(curl -sS "http://127.0.0.1:$port/v1/model")
echo "$model" | node -e 'const m=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(JSON.stringify({features:m.features,lookbackBars:m.lookbackBars,metrics:m.metrics}))'

# A window of raw bars from the synthetic market under another seed than training's, the features
# training computes for its last bar (the two requests below must agree), and the log return to the
# bar after the window, reported as the realized return.
node --input-type=module -e '
  import { writeFileSync } from "node:fs";
  import { generateBars } from "./predictor/src/data/synthetic.ts";
  import { featureRowFromBars } from "./predictor/src/features.ts";
  const [dir, modelJson] = process.argv.slice(1);
  const { features, lookbackBars } = JSON.parse(modelJson);
  const c = generateBars({ seed: 43, bars: 500, regime: "trending" });
  const bars = [];
  const last = c.length - 2;
  for (let i = last - lookbackBars + 1; i <= last; i++) {
    bars.push({ ts: c.ts[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i], volume: c.volume[i] });
  }
  const values = featureRowFromBars(bars, features);
  writeFileSync(`${dir}/bars.json`, JSON.stringify({ bars }));
  writeFileSync(`${dir}/realized`, String(Math.log(c.close[last + 1] / c.close[last])));
  writeFileSync(`${dir}/features.json`, JSON.stringify({ features: Object.fromEntries(features.map((f, i) => [f, values[i]])) }));
' "$work" "$model"

say "POST /v1/predict (a window of raw bars; the server computes the features)"
node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).bars;console.log(`${b.length} bars, the last:`,JSON.stringify(b.at(-1)))' "$work/bars.json"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" -d "@$work/bars.json"
echo

say "POST /v1/predict (the same row as features by name)"
cat "$work/features.json"; echo
answer=$(curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" -d "@$work/features.json")
echo "$answer"
id=$(node -e 'console.log(JSON.parse(process.argv[1]).predictionId)' "$answer")

say "POST /v1/feedback (the realized return for that prediction)"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/feedback" \
  -d "{\"predictionId\":\"$id\",\"realized\":$(cat "$work/realized")}"
echo

say "a bad request names the field"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" -d '{"features":{"ret_1":"NaN"}}'
echo
node -e 'const w=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));w.bars[3].high=w.bars[3].low-1;console.log(JSON.stringify(w))' \
  "$work/bars.json" >"$work/bad-bars.json"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" -d "@$work/bad-bars.json"
echo

say "GET /metrics (excerpt)"
curl -sS "http://127.0.0.1:$port/metrics" | grep -E '^predictor_(model_info|predictions_total|feedback)' | head -8
