#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and local cluster use; idempotent.
set -euo pipefail
pkgs=(prometheus prometheus-alertmanager wrk python3-flask python3-sklearn python3-pandas python3-venv gunicorn iproute2 iptables)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
