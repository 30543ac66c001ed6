# CRDs users of the operator really have, applied from the YAML their projects ship inside their
# own Go modules (sourced by up.sh).
# shellcheck shell=bash

# module_dir <module@version>: the module's directory in the Go module cache, downloaded once.
module_dir() {
  local dir
  dir="$(cd "$cluster_dir" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die "go mod download $1 gave no directory"
  echo "$dir"
}

# crd_dirs: the directories whose YAML cluster-up applies.
crd_dirs() {
  echo "$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
  echo "$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
}

install_crds() {
  local dir files=()
  for dir in $(crd_dirs); do files+=(--filename="$dir"); done
  # Server-side apply: the largest of these CRDs exceed the client-side apply annotation limit.
  "$K8S_BIN/kubectl" --kubeconfig="$admin_kubeconfig" apply --server-side --field-manager=tm-cluster-up \
    "${files[@]}" >"$log_dir/crds.log"
}
