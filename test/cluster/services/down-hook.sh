#!/usr/bin/env bash
# Cleanup hook of the services (linked as .cluster/down.d/80-services by services.sh; down.sh runs
# it after every process stopped): kube-proxy's iptables chains, the bridge guard, the fallback
# routes and the bridge's forwarding switch. Idempotent.
set -euo pipefail
services_dir="$(dirname "$(readlink -f "$0")")"
source "$services_dir/../lib.sh"
source "$services_dir/lib.sh"

if [[ -x "$bin_dir/kube-proxy" ]]; then
  "$bin_dir/kube-proxy" --cleanup --v=0 >/dev/null 2>&1 || die "kube-proxy --cleanup failed"
fi
while iptables -w -t mangle -D FORWARD -j "$guard_chain" 2>/dev/null; do :; done
if iptables -w -t mangle -L "$guard_chain" -n >/dev/null 2>&1; then
  iptables -w -t mangle -F "$guard_chain"
  iptables -w -t mangle -X "$guard_chain"
fi
for cidr in "$service_cidr" "$cluster_cidr"; do
  ip route del blackhole "$cidr" metric "$fallback_metric" 2>/dev/null || true
done
forwarding="/proc/sys/net/ipv4/conf/$bridge/forwarding"
[[ ! -e "$forwarding" ]] || echo 0 >"$forwarding"
