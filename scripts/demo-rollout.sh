# The demo's progressive-delivery stages (sourced by scripts/demo.sh): spy-momentum's v2 rolled out
# as a canary and promoted on passing analysis from Prometheus, then a v3 made slow with the
# predictor's chaos option and rolled back on p95 latency by the operator itself, while a client
# sends predictions through the model's Service the whole time and counts every failed request.
# shellcheck shell=bash

rollout_model=spy-momentum
# What the demo's canary is judged on: short intervals so that a step takes seconds, not minutes.
rollout_patch='{"spec":{
  "rollout":{"strategy":"Canary","canary":{"steps":[25,50,100]},"shadow":null,"paused":false},
  "analysis":{"interval":"5s","window":"15s","minSamples":20,"onNoData":"Wait","noDataLimit":24,
    "failureLimit":0,"latencyP95Ms":{"max":200},"errorRate":{"max":0.05},"accuracy":null,"drift":null}}}'
chaos_latency_ms=400

load_pid=""
load_log=""

# A client sending predictions through the model's Service, one connection per request (a Service
# balances connections), until the demo ends; every status code goes to $load_log.
start_load() {
  [[ -z "$load_pid" ]] || return 0
  local address lookback body
  address=$(test/cluster/svc-addr "$namespace" "$rollout_model" http)
  lookback=$(curl -sS --fail --max-time 10 --retry 3 --retry-all-errors "http://$address/v1/model" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).lookbackBars))')
  body=$(prediction_bodies "$lookback" 1)
  load_log=$(mktemp)
  (
    while :; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 -H 'content-type: application/json' \
        "http://$address/v1/predict" -d "$body" >>"$load_log" || echo "000" >>"$load_log"
      sleep 0.05
    done
  ) &
  load_pid=$!
  trap stop_load EXIT
  echo "client: predictions to $rollout_model through its Service ($address), about 15 a second, until the demo ends"
}

stop_load() {
  [[ -n "$load_pid" ]] || return 0
  kill "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=""
}

# "N requests, M failed" so far.
load_tally() { awk '{ n++ } $1 != "200" { f++ } END { printf "%d requests, %d failed\n", n, f }' "$load_log"; }

load_failures() { awk '$1 != "200" { f++ } END { print f + 0 }' "$load_log"; }

# Prints `kubectl get tm <model> -o wide` whenever a column other than AGE changes until the rollout of
# version $1 reaches phase $2; fails after DEMO_TIMEOUT_SECONDS or if it ends in another phase.
follow_rollout() {
  local version=$1 phase=$2 deadline=$((SECONDS + timeout_seconds)) last="" row state
  while :; do
    row=$(kubectl get tm "$rollout_model" -n "$namespace" -o jsonpath='{.status.phase} {.status.stableVersion} {.status.candidateVersion} {.status.canaryWeight} {.status.metrics.accuracy} {.status.metrics.latencyP95Ms} {.status.message}' 2>/dev/null || true)
    if [[ "$row" != "$last" ]]; then
      printf '\033[2m%s\033[0m  ' "$(date -u +%T)"
      kubectl get tm "$rollout_model" -n "$namespace" -o wide --no-headers
      last=$row
    fi
    state=$(kubectl get tm "$rollout_model" -n "$namespace" \
      -o jsonpath='{.status.rollout.version} {.status.rollout.phase}' 2>/dev/null || true)
    [[ "$state" == "$version $phase" ]] && return 0
    case "$state" in
      "$version Succeeded" | "$version RolledBack" | "$version Aborted")
        kubectl describe tm "$rollout_model" -n "$namespace" | sed -n '/Events:/,$p'
        fail "the rollout of v$version ended $state, not $phase (events above)"
        ;;
    esac
    ((SECONDS < deadline)) || fail "v$version did not reach $phase within ${timeout_seconds} s"
    sleep 1
  done
}

retrain() {
  kubectl patch tm "$rollout_model" -n "$namespace" --type merge \
    -p "{\"spec\":{\"training\":{\"retrainRequest\":\"demo-$1\"}$2}}" >/dev/null
}

stage_canary() {
  say "a canary: $rollout_model's next version takes 25 -> 50 -> 100% of the traffic, judged on p95 latency and errors in Prometheus every 5 s"
  run kubectl patch tm "$rollout_model" -n "$namespace" --type merge -p "$rollout_patch"
  start_load
  local next
  next=$(($(kubectl get tm "$rollout_model" -n "$namespace" -o jsonpath='{.status.latestVersion}') + 1))
  echo "retraining (spec.training.retrainRequest): v$next trains in a Job, passes the gate, then rolls out"
  retrain "$next" ""
  printf '%s\n' "$(kubectl get tm -n "$namespace" -o wide | head -1)"
  follow_rollout "$next" Succeeded
  run kubectl get mv -n "$namespace" -l "trading.mlops.dev/model=$rollout_model"
  echo "client so far: $(load_tally)"
  kubectl describe tm "$rollout_model" -n "$namespace" | grep -E 'RolloutStepAdvanced|VersionPromoted' | tail -4
}

stage_rollback() {
  say "an automatic rollback: the next version's canary pods are made ${chaos_latency_ms} ms slow; the operator sees p95 > 200 ms and sends all traffic back to stable"
  start_load
  local next stable
  next=$(($(kubectl get tm "$rollout_model" -n "$namespace" -o jsonpath='{.status.latestVersion}') + 1))
  stable=$(kubectl get tm "$rollout_model" -n "$namespace" -o jsonpath='{.status.stableVersion}')
  echo "v$next retrains with the rollout paused (spec.rollout.paused), so its canary pods can be slowed first"
  retrain "$next" ',"rollout":{"paused":true}'
  follow_rollout "$next" Paused
  run kubectl set env -n "$namespace" "deployment/$rollout_model-predictor-canary" "CHAOS_LATENCY_MS=$chaos_latency_ms"
  kubectl rollout status -n "$namespace" "deployment/$rollout_model-predictor-canary" --timeout=180s
  sleep 16 # the analysis window (15 s) then holds only the slowed pods' requests
  echo "resuming the rollout (spec.rollout.paused: false)"
  kubectl patch tm "$rollout_model" -n "$namespace" --type merge -p '{"spec":{"rollout":{"paused":false}}}' >/dev/null
  follow_rollout "$next" RolledBack
  kubectl describe tm "$rollout_model" -n "$namespace" | grep -E ' RolledBack ' | tail -1
  run kubectl get mv -n "$namespace" -l "trading.mlops.dev/model=$rollout_model"
  [[ $(kubectl get tm "$rollout_model" -n "$namespace" -o jsonpath='{.status.stableVersion}') == "$stable" ]] ||
    fail "stable is no longer v$stable after the rollback"
  stop_load
  echo "client: $(load_tally) during both rollouts"
  (($(load_failures) == 0)) || fail "requests failed during the rollouts (above)"
}
