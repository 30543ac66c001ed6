# CRDs users of the operator really have, applied from the YAML their projects ship inside their
# own Go modules (sourced by up.sh).
# shellcheck shell=bash

# module_dir <module@version>: the module's directory in the Go module cache, downloaded once.
module_dir() {
  local dir
  # go's "downloading" lines go to the log; the first cluster-up fetches a few modules.
  dir="$(cd "$cluster_dir" && go mod download -json "$1" 2>>"$log_dir/crds.log" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die "go mod download $1 gave no directory (go's output: $log_dir/crds.log)"
  echo "$dir"
}

# The Prometheus Operator CRDs of the objects an application ships beside itself. Its workload
# CRDs (Prometheus, Alertmanager, ThanosRuler, PrometheusAgent, AlertmanagerConfig, ScrapeConfig;
# 4 MB of the 5.3 MB) only matter to a running Prometheus Operator, which this cluster does not
# run, and applying them doubled the warm start on a loaded machine.
prometheus_operator_crds="servicemonitors podmonitors probes prometheusrules"

# crd_files: the YAML files and directories cluster-up applies.
crd_files() {
  local dir name
  dir="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
  for name in $prometheus_operator_crds; do echo "$dir/monitoring.coreos.com_$name.yaml"; done
  echo "$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
}

install_crds() {
  local file files=()
  for file in $(crd_files); do files+=(--filename="$file"); done
  # Server-side apply: the largest of these CRDs exceed the client-side apply annotation limit.
  "$K8S_BIN/kubectl" --kubeconfig="$admin_kubeconfig" apply --server-side --field-manager=tm-cluster-up \
    "${files[@]}" >>"$log_dir/crds.log" 2>&1
}
