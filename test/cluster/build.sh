#!/usr/bin/env bash
# Builds the local cluster's binaries from their Go modules (test/cluster/{k8s,etcd,helm,...}) into
# a cache outside the work tree, one directory per component and version:
#   ${TM_CACHE:-~/.cache/tm-operator}/bin/{k8s-v1.36.3,etcd-v3.6.16,helm-v4.3.1,...}/
# A directory that holds every binary it should is reused as is, so a second run (or a fresh
# clone on the same machine) costs nothing. Go's module and build caches stay in their default
# places. Prints the directories as KEY=path lines for up.sh.
#
# Progress goes to stderr: a line per component built ([k/N], and how long its build took the last
# time on this machine or, the first time, on 2 cores), one for those cached, and a line every
# TM_BUILD_TICK_SECONDS (60) while one builds. Go's own output (module downloads, compiler errors)
# goes to build-logs/<component>-<version>.log beside bin/, which a failure names and quotes.
set -euo pipefail
cluster_dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$cluster_dir/versions.env"
cache_dir="${TM_CACHE:-$HOME/.cache/tm-operator}"
cache_bin="$cache_dir/bin"
build_logs="$cache_dir/build-logs"
# One "<component> <seconds>" line per component: how long its last build took here.
build_times="$cache_bin/.build-seconds"
export CGO_ENABLED=0

log() { echo "cluster-build: $*" >&2; }

# Concurrent builds (several cluster-ups at once) wait for the first instead of each compiling
# the same component; they then find it cached.
if [[ -z "${TM_BUILD_LOCKED:-}" ]]; then
  mkdir -p "$cache_bin"
  export TM_BUILD_LOCKED=1
  # -o: processes the build leaves behind do not hold the lock.
  exec flock -o "$cache_bin/.build.lock" "$0" "$@"
fi

command -v go >/dev/null || {
  log "error: no go on PATH: the cluster is built with Go >= 1.26 (https://go.dev/dl; Debian's golang-go is older)"
  exit 1
}

# duration <seconds>: "4 min 05 s", "42 s".
duration() {
  if (($1 >= 60)); then printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); else printf '%d s' "$1"; fi
}

# expected <component>: what its build is likely to take, for the progress line.
expected() {
  local last
  last="$(awk -v c="$1" '$1 == c { s = $2 } END { print s }' "$build_times" 2>/dev/null)"
  if [[ -n "$last" ]]; then
    echo "last build here: $(duration "$last")"
  else
    echo "first build: about $(duration "${first_build_seconds[$1]}") on 2 cores"
  fi
}

record_time() {
  local others
  others="$(awk -v c="$1" '$1 != c' "$build_times" 2>/dev/null || true)"
  printf '%s\n%s %s\n' "$others" "$1" "$2" | sed '/^$/d' >"$build_times.new"
  mv "$build_times.new" "$build_times"
}

# release_time <module@version>: the release's commit time, from the Go proxy's .info record.
release_time() {
  local info
  info="$(go mod download -json "$1" | sed -n 's/^\t"Info": "\(.*\)",$/\1/p')"
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info"
}

# build_into <component> <dest dir> <module dir> <ldflags function> <binary>=<package>... : builds
# each package into dest/<binary> unless every binary is already there. Builds into a scratch
# directory first and renames it, so an interrupted build never leaves a directory that looks
# complete.
build_into() {
  local component="$1" dest="$2" module_dir="$3" ldflags_fn="$4"
  shift 4
  step=$((step + 1))
  local progress="[$step/${#components[@]}] $component ${dest##*/$component-}"
  local target missing=0 packages=()
  for target in "$@"; do
    [[ -x "$dest/${target%%=*}" ]] || missing=1
    packages+=("${target#*=}")
  done
  if ((missing == 0)); then
    cached+=("$component ${dest##*/$component-}")
    return
  fi
  local scratch="$dest.partial-$$" build_log="$build_logs/${dest##*/}.log"
  # Scratch directories of builds that were killed (their pid is the suffix).
  local stale
  for stale in "$dest".partial-*; do
    [[ ! -e "$stale" ]] || kill -0 "${stale##*-}" 2>/dev/null || rm -rf "$stale"
  done
  mkdir -p "$scratch" "$build_logs"
  log "$progress: building ${*%%=*} ($(expected "$component"); go output: $build_log)"
  local started=$SECONDS ticker
  tick "$progress" "$started" &
  ticker=$!
  local ldflags status=0
  {
    ldflags="$("$ldflags_fn")" &&
      # One go build for all packages shares the compilation of their common dependencies.
      (cd "$module_dir" && go build -trimpath -ldflags "$ldflags" -o "$scratch/" "${packages[@]}")
  } >"$build_log" 2>&1 || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if ((status != 0)); then
    tail -n 20 "$build_log" | sed 's/^/  | /' >&2
    log "error: $progress failed after $(duration $((SECONDS - started))) (exit $status); go's output: $build_log"
    exit 1
  fi
  for target in "$@"; do
    # go build names a binary after the package path's last element, skipping a /vN suffix.
    local built="${target#*=}"
    [[ "${built##*/}" =~ ^v[0-9]+$ ]] && built="${built%/*}"
    built="${built##*/}"
    [[ "$built" == "${target%%=*}" ]] || mv "$scratch/$built" "$scratch/${target%%=*}"
  done
  rm -rf "$dest"
  mv "$scratch" "$dest"
  record_time "$component" $((SECONDS - started))
  log "$progress: built in $(duration $((SECONDS - started)))"
}

# tick <progress> <start>: a line every TM_BUILD_TICK_SECONDS while a build runs, so a long one
# is visibly alive. Stopped by SIGTERM, it ends its sleep too.
tick() {
  local every="${TM_BUILD_TICK_SECONDS:-60}" sleeper
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while :; do
    sleep "$every" &
    sleeper=$!
    wait "$sleeper"
    log "$1: still building, $(duration $((SECONDS - $2))) so far"
  done
}

k8s_ldflags() {
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  local build_date flags="-s -w" pkg
  build_date="$(release_time "k8s.io/kubernetes@$K8S_VERSION")"
  # gitCommit is set empty (not its "$Format:%H$" placeholder): the module proxy does not report
  # the tag's commit. gitTreeState "archive" is what Kubernetes' own scripts report for a build
  # from a source archive.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitCommit="
    flags+=" -X $pkg.gitTreeState=archive -X $pkg.buildDate=$build_date"
  done
  echo "$flags"
}

# etcd's version is a constant in its source; only the commit is settable.
etcd_ldflags() { echo "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"; }
helm_ldflags() { echo "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"; }
# metrics-server reports client-go's version variables as its own.
metrics_server_ldflags() {
  local pkg=k8s.io/client-go/pkg/version
  echo "-s -w -X $pkg.gitVersion=$METRICS_SERVER_VERSION -X $pkg.gitTreeState=archive"
}
coredns_ldflags() { echo "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"; }
# Prometheus's Go module v0.3XX.Y is release 3.XX.Y.
prometheus_ldflags() {
  local minor="${PROMETHEUS_VERSION#v0.}"
  minor="${minor%%.*}"
  local release="3.$((minor - 300)).${PROMETHEUS_VERSION##*.}"
  echo "-s -w -X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Branch=archive"
}

k8s_dir="$cache_bin/k8s-$K8S_VERSION"
etcd_dir="$cache_bin/etcd-$ETCD_VERSION"
helm_dir="$cache_bin/helm-$HELM_VERSION"
coredns_dir="$cache_bin/coredns-$COREDNS_VERSION"
metrics_server_dir="$cache_bin/metrics-server-$METRICS_SERVER_VERSION"
prometheus_dir="$cache_bin/prometheus-$PROMETHEUS_VERSION"

# Build order, and the first build's duration on 2 busy cores with empty Go caches (26 min 38 s
# in all on 2026-12-05), for the progress line before there is a time of this machine's own.
components=(k8s etcd helm coredns prometheus metrics-server)
declare -A first_build_seconds=([k8s]=446 [etcd]=111 [helm]=365 [coredns]=250 [prometheus]=292 [metrics-server]=131)
step=0
cached=()

k8s_targets=()
for cmd in $K8S_COMMANDS; do k8s_targets+=("$cmd=k8s.io/kubernetes/cmd/$cmd"); done
build_into k8s "$k8s_dir" "$cluster_dir/k8s" k8s_ldflags "${k8s_targets[@]}"
# The etcd server's main package is its module root (go.etcd.io/etcd/server/v3).
build_into etcd "$etcd_dir" "$cluster_dir/etcd" etcd_ldflags etcd=go.etcd.io/etcd/server/v3
build_into helm "$helm_dir" "$cluster_dir/helm" helm_ldflags helm=helm.sh/helm/v4/cmd/helm
# CoreDNS's main package is its module root; the cluster DNS (services/services.sh) runs it.
build_into coredns "$coredns_dir" "$cluster_dir/coredns" coredns_ldflags coredns=github.com/coredns/coredns
build_into prometheus "$prometheus_dir" "$cluster_dir/prometheus" prometheus_ldflags \
  prometheus=github.com/prometheus/prometheus/cmd/prometheus promtool=github.com/prometheus/prometheus/cmd/promtool
build_into metrics-server "$metrics_server_dir" "$cluster_dir/metrics-server" metrics_server_ldflags \
  metrics-server=sigs.k8s.io/metrics-server/cmd/metrics-server

((${#cached[@]} == 0)) || log "cached ${#cached[@]}/${#components[@]}: $(printf '%s, ' "${cached[@]}" | sed 's/, $//')"

echo "K8S_BIN=$k8s_dir"
echo "ETCD_BIN=$etcd_dir"
echo "HELM_BIN=$helm_dir"
echo "COREDNS_BIN=$coredns_dir"
echo "PROMETHEUS_BIN=$prometheus_dir"
echo "METRICS_SERVER_BIN=$metrics_server_dir"
