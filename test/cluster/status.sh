#!/usr/bin/env bash
# make cluster-status: which cluster processes run, and what the apiserver says about its health.
# Exits non-zero when the control plane is not fully up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

healthy=1
for component in "${control_plane[@]}"; do
  if is_running "$component"; then
    echo "$component: running (pid $(<"$pid_dir/$component.pid"))"
  else
    echo "$component: not running"
    healthy=0
  fi
done
for pid_file in "$pid_dir"/*.pid; do
  [[ -e "$pid_file" ]] || continue
  name="$(basename "$pid_file" .pid)"
  [[ " ${control_plane[*]} " != *" $name "* ]] || continue
  is_running "$name" && echo "$name: running (pid $(<"$pid_file"))" || echo "$name: not running"
done
if [[ -d "$state_dir" && ! -f "$state_dir/up-complete" ]]; then
  echo "cluster-up did not finish (or is running): make cluster-up repairs it, make cluster-down removes it"
  healthy=0
fi
if ((healthy)); then
  "$bin_dir/kubectl" --kubeconfig="$admin_kubeconfig" --request-timeout=5s get --raw='/readyz?verbose' | tail -n 1
  "$bin_dir/kubectl" --kubeconfig="$admin_kubeconfig" --request-timeout=5s get nodes
  echo "KUBECONFIG=$admin_kubeconfig"
fi
((healthy))
