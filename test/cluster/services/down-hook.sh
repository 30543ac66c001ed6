#!/usr/bin/env bash
# Cleanup hook of the services (linked as .cluster/down.d/80-services by services.sh; down.sh runs
# it after every process stopped): kube-proxy's iptables chains, the bridge guard, the fallback
# routes and the bridge's forwarding switch. Idempotent.
#
# kube-proxy's chains are removed here rather than with `kube-proxy --cleanup`, which leaves
# KUBE-FIREWALL behind: first the rules of the built-in chains that jump to a KUBE-* chain, then
# every KUBE-* chain (flushed first, since they jump to one another).
set -euo pipefail
services_dir="$(dirname "$(readlink -f "$0")")"
source "$services_dir/../lib.sh"
source "$services_dir/lib.sh"

for table in filter nat mangle; do
  rules="$(iptables-save -t "$table" 2>/dev/null)"
  while read -r rule; do
    # iptables-save quotes comments the way a shell reads them, hence eval.
    [[ -z "$rule" ]] || eval "iptables -w -t $table ${rule/#-A/-D}"
  done < <(grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' <<<"$rules" || true)
  chains="$(sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p' <<<"$rules")"
  for chain in $chains; do iptables -w -t "$table" -F "$chain"; done
  for chain in $chains; do iptables -w -t "$table" -X "$chain"; done
done
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
