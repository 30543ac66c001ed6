#!/usr/bin/env bash
# Starts the node agent for the local cluster; up.sh calls it once the control plane is up.
# The agent plays tm-node-1..N (TM_NODES, default 2) with .cluster/node-<name>.kubeconfig, runs in
# a session of its own with its pid in .cluster/pids/node-agent.pid (cluster-down stops it first)
# and logs to .cluster/logs/agent.log. .cluster/down.d/50-node-agent removes whatever it made
# (pod processes, network namespaces, veths, the bridge, mount points), even after a crash.
# Returns once every node is Ready.
set -euo pipefail
agent_dir="$(cd "$(dirname "$0")" && pwd)"
source "$agent_dir/../lib.sh"
source "$agent_dir/../pki.sh"

node_bin="$(command -v node)" || die "node (24) is not on PATH"
[[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -ge 24 ]] || die "$node_bin is older than Node 24"
[[ "$(id -u)" == 0 ]] || die "the node agent needs root (network namespaces, mounts, cgroups)"

pid_file="$pid_dir/node-agent.pid"
if [[ -f "$pid_file" ]] && kill -0 "$(<"$pid_file")" 2>/dev/null; then
  log "node agent already running (pid $(<"$pid_file"))"
  exit 0
fi

mkdir -p "$pid_dir" "$log_dir" "$state_dir/down.d"
cat >"$state_dir/down.d/50-node-agent" <<HOOK
#!/bin/sh
exec "$node_bin" "$agent_dir/main.ts" cleanup --cluster-dir "$state_dir" --bridge "${TM_AGENT_BRIDGE:-tm0}"
HOOK
chmod +x "$state_dir/down.d/50-node-agent"

# Node's compile cache for the project's pods (agent/images.ts), owned by their user (uid 1000: Node
# keeps one cache per user and uses none it cannot write), filled now with the predictor's and
# trainer's modules so that the first pods start warm. It runs beside the rest of the start.
compile_cache="$state_dir/node-compile-cache"
mkdir -p "$compile_cache"
chown 1000:1000 "$compile_cache"
setpriv --reuid=1000 --regid=1000 --clear-groups env NODE_COMPILE_CACHE="$compile_cache" "$node_bin" \
  --input-type=module -e 'await import(process.argv[1]); await import(process.argv[2]);' \
  "$repo_root/predictor/src/serve/main.ts" "$repo_root/predictor/src/train/command.ts" \
  >>"$log_dir/compile-cache.log" 2>&1 </dev/null &

# TM_AGENT_BRIDGE and TM_KUBELET_PORT set a second bridge and kubelet ports (node i listens on
# TM_KUBELET_PORT + i) for an agent beside another one (tests).
args=(run --cluster-dir "$state_dir" --bridge "${TM_AGENT_BRIDGE:-tm0}" --kubelet-port "${TM_KUBELET_PORT:-10250}"
  --cluster-cidr "$cluster_cidr" --service-cidr "$service_cidr" --dns-ip "${service_cidr%.*/*}.10")
# Without the node services (TM_SERVICES=0) there is no metrics-server: the agent serves
# metrics.k8s.io itself (port TM_METRICS_PORT on the bridge gateway), so kubectl top and the HPA work.
[[ "${TM_SERVICES:-1}" != 0 ]] || args+=(--metrics-api --metrics-port "${TM_METRICS_PORT:-4443}")
nodes=()
for node in $(node_names); do
  args+=(--node "$node")
  nodes+=("node/$node")
done
setsid "$node_bin" "$agent_dir/main.ts" "${args[@]}" >>"$log_dir/agent.log" 2>&1 </dev/null &
echo "$!" >"$pid_file"

nodes_ready() {
  kill -0 "$(<"$pid_file")" 2>/dev/null || {
    tail -n 20 "$log_dir/agent.log" >&2
    die "node agent exited during start-up (log: $log_dir/agent.log)"
  }
  "$bin_dir/kubectl" --kubeconfig="$admin_kubeconfig" wait --for=condition=Ready --timeout=1s "${nodes[@]}"
}
wait_until 30 "nodes ${nodes[*]} Ready" nodes_ready
log "node agent up: ${nodes[*]} Ready (log: $log_dir/agent.log)"
