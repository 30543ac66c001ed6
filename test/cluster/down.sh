#!/usr/bin/env bash
# make cluster-down: stops every process the cluster started and removes .cluster/. Idempotent.
#
# Every long-running process of the cluster has a pid file in .cluster/pids/ and runs in a session
# of its own, so its whole process group is signalled: SIGTERM, then SIGKILL after a grace period.
# Processes that are not control-plane components (the node agents) stop first, then the control
# plane in reverse start order. Executables in .cluster/down.d/ then run, in name order, for
# cleanup that outlives a process (a crashed node agent's network namespaces and mounts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_exclusively "$0" "$@"
grace_seconds="${TM_STOP_GRACE_SECONDS:-10}"
# First of all: the cluster no longer counts as completely up (up.sh), whatever happens below.
rm -f "$state_dir/up-complete"

# stop <name>: ends the process group of pids/<name>.pid.
stop() {
  local pid_file="$pid_dir/$1.pid" pid
  [[ -f "$pid_file" ]] || return 0
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "$pid_file does not hold a process id"
  if group_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace_seconds))
    while group_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if group_alive "$pid"; then
      log "$1 ignored SIGTERM for $grace_seconds s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
      while group_alive "$pid"; do sleep 0.1; done
    fi
  fi
  rm -f "$pid_file"
}

if [[ -d "$pid_dir" ]]; then
  for pid_file in "$pid_dir"/*.pid; do
    [[ -e "$pid_file" ]] || continue
    name="$(basename "$pid_file" .pid)"
    [[ " ${control_plane[*]} " == *" $name "* ]] || stop "$name"
  done
fi
for ((i = ${#control_plane[@]} - 1; i >= 0; i--)); do stop "${control_plane[i]}"; done

if [[ -d "$state_dir/down.d" ]]; then
  for hook in "$state_dir/down.d"/*; do
    [[ -x "$hook" ]] || continue
    "$hook" || die "cleanup hook $hook failed; .cluster/ is kept for a retry"
  done
fi
rm -rf "$state_dir"
log "down"
