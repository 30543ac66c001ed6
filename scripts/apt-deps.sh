#!/usr/bin/env bash
# Usage: scripts/apt-deps.sh [cluster|test|bench]...   (no argument: every group)
# Installs the Debian packages a make target needs; idempotent, and one dpkg-query (a few ms) when
# everything is there. The package lists are refreshed (apt-get update) only when one is missing.
#   cluster: what the local cluster's scripts call (test/cluster/): iptables and conntrack for
#            kube-proxy and the bridge guard, iproute2 (ip, ss), Alertmanager, curl, openssl, procps
#   test:    promtool (the rule tests), the scikit-learn agreement tests, python3-venv (python-deps)
#   bench:   wrk and the Flask + scikit-learn + pandas baseline under gunicorn
set -euo pipefail
declare -A groups=(
  [cluster]="iptables conntrack iproute2 prometheus-alertmanager curl openssl procps"
  [test]="prometheus python3-sklearn python3-pandas python3-venv"
  [bench]="wrk python3-flask python3-sklearn python3-pandas python3-venv gunicorn"
)
selected=("$@")
((${#selected[@]})) || selected=(cluster test bench)
wanted=()
for group in "${selected[@]}"; do
  [[ -n "${groups[$group]:-}" ]] || {
    echo "apt-deps: unknown group \"$group\" (groups: ${!groups[*]})" >&2
    exit 2
  }
  read -ra packages <<<"${groups[$group]}"
  wanted+=("${packages[@]}")
done
declare -A installed=()
while read -r package status; do
  [[ "$status" != ii ]] || installed[$package]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for package in $(printf '%s\n' "${wanted[@]}" | sort -u); do
  [[ -n "${installed[$package]:-}" ]] || missing+=("$package")
done
((${#missing[@]})) || exit 0
echo "apt-deps: installing Debian packages: ${missing[*]}" >&2
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Several make targets may install at once; apt waits for the other's lock instead of failing.
apt_options=(-o DPkg::Lock::Timeout=300 -qq)
"${sudo[@]}" apt-get "${apt_options[@]}" update
"${sudo[@]}" apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
