#!/usr/bin/env bash
# The model runtime on its own, no cluster: train the demo model on seeded synthetic data, serve it on
# loopback, send predictions and feedback, show the metrics the operator's analysis reads, stop it.
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

say "POST /v1/predict (features by name)"
answer=$(curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" \
  -d '{"features":{"ret_1":0.001,"ret_5":0.004,"ret_20":0.01,"vol_20":0.012,"sma_ratio_5_20":1.002,"volume_z_20":0.5}}')
echo "$answer"
id=$(node -e 'console.log(JSON.parse(process.argv[1]).predictionId)' "$answer")

say "POST /v1/feedback (the realized return for that prediction)"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/feedback" \
  -d "{\"predictionId\":\"$id\",\"realized\":0.002}"
echo

say "a bad request names the field"
curl -sS -H 'content-type: application/json' "http://127.0.0.1:$port/v1/predict" -d '{"features":{"ret_1":"NaN"}}'
echo

say "GET /metrics (excerpt)"
curl -sS "http://127.0.0.1:$port/metrics" | grep -E '^predictor_(model_info|predictions_total|feedback)' | head -8
