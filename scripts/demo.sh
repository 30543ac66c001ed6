#!/usr/bin/env bash
# make demo: the whole product on this machine. Brings up the local cluster (building it on first
# use), installs the operator with its Helm chart, applies the TradingModels in examples/ (synthetic
# data), follows `kubectl get tm` until every model is served, sends predictions through a model's
# Service and shows the registry. The cluster stays up afterwards.
#
# The demo is a list of stages run in order (DEMO_STAGES selects some, e.g. "predict versions" on a
# cluster where the models already serve); a stage is a function named stage_<name> listed in
# STAGES. The canary and rollback stages live in scripts/demo-rollout.sh.
#
# Settings: DEMO_TIMEOUT_SECONDS (600: how long the models may take to be served), DEMO_PREDICTIONS
# (3 per model).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export KUBECONFIG="$root/.cluster/kubeconfig"
export PATH="$root/.cluster/bin:$PATH"
namespace=trading # the examples' own
timeout_seconds=${DEMO_TIMEOUT_SECONDS:-600}
predictions=${DEMO_PREDICTIONS:-3}
STAGES=(cluster operator models serve predict versions canary rollback)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
  printf '\n\033[1;31mdemo: %s\033[0m\n' "$*" >&2
  exit 1
}
run() {
  printf '\033[2m$ %s\033[0m\n' "$*"
  "$@"
}

# The examples' model names, in file order.
models() { kubectl get -f examples/ -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }

stage_cluster() {
  say "local cluster: control plane, node agent, kube-proxy, CoreDNS, Prometheus (make cluster-up)"
  make --no-print-directory cluster-up
  run kubectl get nodes
}

# The examples' namespace: before the chart, whose Role goes there when HELM_ARGS sets watchNamespace.
ensure_namespace() { kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null; }

stage_operator() {
  say "the operator, installed by its Helm chart (make deploy): two replicas, one leads"
  ensure_namespace
  # The in-cluster Prometheus, which the rollout analysis of the canary and rollback stages asks.
  make --no-print-directory deploy HELM_ARGS="--set prometheusUrl=http://prometheus.monitoring.svc:9090 ${HELM_ARGS:-}"
  run kubectl get deployment,pods -n tradingmodel-system -o wide
}

stage_models() {
  say "the TradingModels in examples/"
  ensure_namespace
  run kubectl apply -f examples/
}

# Prints `kubectl get tm -o wide` whenever a row changes (AGE aside), as `kubectl get tm -w` would,
# until every model serves a stable version; fails on a model with nothing served and a failure,
# or after DEMO_TIMEOUT_SECONDS.
stage_serve() {
  say "kubectl get tm -n $namespace -o wide, printed as it changes, until every model is served"
  local deadline=$((SECONDS + timeout_seconds)) last="" now states names
  local columns='custom-columns=NAME:.metadata.name,PHASE:.status.phase,STABLE:.status.stableVersion,TRAINING:.status.training.state,MESSAGE:.status.message'
  names=$(models | sort)
  while :; do
    now=$(kubectl get tm -n "$namespace" -o "$columns" 2>/dev/null || true)
    if [[ "$now" != "$last" ]]; then
      printf '\033[2m%s\033[0m\n' "$(date -u +%T)"
      kubectl get tm -n "$namespace" -o wide
      last=$now
    fi
    states=$(kubectl get tm -n "$namespace" \
      -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase} {.status.stableVersion}{"\n"}{end}' || true)
    if [[ $(awk '$2 == "Ready" && $3 != "" {print $1}' <<<"$states" | sort) == "$names" ]]; then
      return 0
    fi
    if grep -q ' Failed' <<<"$states"; then
      kubectl describe tm -n "$namespace" | sed -n '/Conditions:/,/Events:/p'
      fail "a model failed with nothing served (above); make cluster-down tears the cluster down"
    fi
    ((SECONDS < deadline)) || fail "not every model was served within ${timeout_seconds} s"
    sleep 2
  done
}

# One JSON body per line: `count` requests of `lookback` one-minute bars each, windows of a seeded
# random walk ending one bar apart; the predictor computes the model's features from the raw bars
# with the code training used.
prediction_bodies() {
  node -e '
    const [lookback, count] = process.argv.slice(1).map(Number);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const bars = [];
    let close = 100;
    for (let i = 0; i < lookback + count; i++) {
      const open = close;
      close = open * Math.exp(0.001 * (random() - 0.5));
      const r = (x) => Number(x.toFixed(4));
      bars.push({ ts: Date.UTC(2026, 0, 5, 14, 30) + i * 60000, open: r(open), high: r(Math.max(open, close) * 1.0004),
        low: r(Math.min(open, close) * 0.9996), close: r(close), volume: 1000 + Math.floor(500 * random()) });
    }
    for (let i = 0; i < count; i++) console.log(JSON.stringify({ bars: bars.slice(i + 1, i + 1 + lookback) }));
  ' "$1" "$2"
}

stage_predict() {
  local model address lookback body
  for model in $(models); do
    address=$(test/cluster/svc-addr "$namespace" "$model" http)
    say "$predictions predictions from $model through its Service (127.0.0.1 address: $address)"
    lookback=$(curl -sS --fail --max-time 10 --retry 3 --retry-all-errors "http://$address/v1/model" |
      node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).lookbackBars))')
    echo "each request: the last $lookback one-minute bars (the model's lookback), the predictor computes the features"
    while read -r body; do
      printf '\033[2mPOST /v1/predict {"bars": [%s bars ending at close %s]}\033[0m\n' "$lookback" \
        "$(node -e 'console.log(JSON.parse(process.argv[1]).bars.at(-1).close)' "$body")"
      curl -sS --fail-with-body --max-time 10 --retry 3 --retry-all-errors \
        -H 'content-type: application/json' "http://$address/v1/predict" -d "$body"
      echo
    done < <(prediction_bodies "$lookback" "$predictions")
  done
}

stage_versions() {
  say "the registry: one ModelVersion per trained version, with lineage, holdout metrics and gate verdict"
  run kubectl get mv -n "$namespace" -o wide
}

# shellcheck source=scripts/demo-rollout.sh
source "$root/scripts/demo-rollout.sh"

selected=(${DEMO_STAGES:-${STAGES[@]}})
for stage in "${selected[@]}"; do
  declare -F "stage_$stage" >/dev/null || fail "unknown stage \"$stage\" (stages: ${STAGES[*]})"
  "stage_$stage"
done

say "done; the cluster stays up"
cat <<EOF
  export KUBECONFIG=$KUBECONFIG PATH=$root/.cluster/bin:\$PATH
  kubectl get tm,mv -n $namespace                 # where each model stands
  kubectl describe tm spy-momentum -n $namespace  # conditions and events
  make cluster-down                               # tear everything down
EOF
