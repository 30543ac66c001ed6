# Shared by the cluster scripts (sourced, not run): where the cluster keeps its state, the ports
# it listens on (all on 127.0.0.1), and small helpers.
# shellcheck shell=bash

cluster_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$cluster_dir/../.." && pwd)"
# shellcheck source=versions.env
source "$cluster_dir/versions.env"

state_dir="${TM_CLUSTER_DIR:-$repo_root/.cluster}"
pki_dir="$state_dir/pki"
pid_dir="$state_dir/pids"
log_dir="$state_dir/logs"
bin_dir="$state_dir/bin"
admin_kubeconfig="$state_dir/kubeconfig"

etcd_client_port="${TM_ETCD_PORT:-2379}"
etcd_peer_port="${TM_ETCD_PEER_PORT:-2380}"
apiserver_port="${TM_APISERVER_PORT:-6443}"
controller_manager_port="${TM_CONTROLLER_MANAGER_PORT:-10257}"
scheduler_port="${TM_SCHEDULER_PORT:-10259}"
apiserver_url="https://127.0.0.1:$apiserver_port"

service_cidr="${TM_SERVICE_CIDR:-10.96.0.0/16}"
# The apiserver's ClusterIP: the first address of the service range.
kubernetes_service_ip="${service_cidr%.*/*}.1"
cluster_cidr="${TM_CLUSTER_CIDR:-10.244.0.0/16}"
cluster_domain="cluster.local"

# Control-plane components in start order; cluster-down stops them in reverse.
control_plane=(etcd kube-apiserver kube-controller-manager kube-scheduler)

log() { echo "cluster: $*" >&2; }
die() {
  echo "cluster: error: $*" >&2
  exit 1
}

# wait_until <seconds> <what> <command...>: runs the command every 0.2 s until it succeeds. Its
# output is noise while waiting (connection refused, not found yet), except when it calls die (a
# component exited): that message, and whatever the check printed with it, ends the wait.
wait_until() {
  local seconds="$1" what="$2" errors
  local deadline=$((SECONDS + seconds))
  shift 2
  until errors="$( ("$@") 2>&1 >/dev/null)"; do
    if [[ "$errors" == *"cluster: error: "* ]]; then
      echo "$errors" >&2
      exit 1
    fi
    ((SECONDS < deadline)) || die "timed out after $seconds s waiting for $what"
    sleep 0.2
  done
}

# run_exclusively "$0" "$@": re-runs the calling script under a lock on this state directory, so
# concurrent cluster-up/cluster-down calls (several people, test runs) wait for each other instead
# of starting two etcds on one data directory. The lock lives in the cache directory, outside the
# work tree; scripts these call (up.sh runs down.sh) inherit it through TM_CLUSTER_LOCKED.
run_exclusively() {
  [[ -z "${TM_CLUSTER_LOCKED:-}" ]] || return 0
  local lock_dir="${TM_CACHE:-$HOME/.cache/tm-operator}/locks"
  mkdir -p "$lock_dir"
  export TM_CLUSTER_LOCKED=1
  # -o: the processes the script leaves running do not hold the lock.
  exec flock -o "$lock_dir/cluster-$(printf %s "$state_dir" | sha256sum | cut -c1-16).lock" "$@"
}

# Exited processes are reaped by PID 1, which here (a VM init) does so only every few seconds;
# until then they are zombies that kill -0 still finds. These checks count zombies as gone.

# group_alive <pgid>: some process of the group runs.
group_alive() {
  ps -e -o pgid=,stat= | awk -v group="$1" '$1 == group && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# is_running <component>: its pid file names a live process.
is_running() {
  local pid_file="$pid_dir/$1.pid" state
  [[ -f "$pid_file" ]] || return 1
  state="$(awk '{print $3}' "/proc/$(<"$pid_file")/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}
