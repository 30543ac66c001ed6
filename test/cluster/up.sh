#!/usr/bin/env bash
# make cluster-up: a Kubernetes control plane on 127.0.0.1 from the cached binaries (build.sh):
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler, each under its own identity,
# plus the Prometheus Operator and Gateway API CRDs. State lives in .cluster/ (see lib.sh);
# nodes are the node agent's business. Running it while the cluster is up changes nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_exclusively "$0" "$@"
source "$cluster_dir/pki.sh"
source "$cluster_dir/crds.sh"
source "$cluster_dir/services/services.sh"

# The stages of a start, in order; each logs its number and name as it begins. TM_FAIL_AT_STAGE=
# <name> makes the run fail there (its tests: a failed start at any stage is repaired by the next).
stages=(build pki etcd kube-apiserver kube-controller-manager kube-scheduler)
[[ "${TM_NODE_AGENT:-1}" == 0 ]] || stages+=(node-agent)
stages+=(crds)
if [[ "${TM_NODE_AGENT:-1}" != 0 && "${TM_SERVICES:-1}" != 0 ]]; then
  stages+=(host-network "${services[@]}")
fi
stages+=(ready)
stage_number=0
stage() {
  stage_number=$((stage_number + 1))
  log "[$stage_number/${#stages[@]}] $1"
  [[ "${TM_FAIL_AT_STAGE:-}" != "$1" ]] || die "failing at stage $1, as TM_FAIL_AT_STAGE asks"
}

# A start that got to its end leaves this file, with the settings it ran with; down.sh removes it
# first. Without it, or with a process of the cluster gone, the cluster is incomplete.
complete_marker="$state_dir/up-complete"
settings="node-agent=${TM_NODE_AGENT:-1} services=${TM_SERVICES:-1}"

# dead_components: the cluster's processes that no longer run (the node agent is restarted alone).
dead_components() {
  local pid_file name
  for pid_file in "$pid_dir"/*.pid; do
    [[ -e "$pid_file" ]] || continue
    name="$(basename "$pid_file" .pid)"
    [[ "$name" == node-agent ]] || is_running "$name" || echo "$name"
  done
}

if [[ -f "$complete_marker" && "$(<"$complete_marker")" == "$settings" ]]; then
  dead="$(dead_components)"
  if [[ -z "$dead" ]]; then
    # A node agent that died while the rest lives is started again (start.sh is a no-op when it runs).
    [[ "${TM_NODE_AGENT:-1}" == 0 ]] || "$cluster_dir/agent/start.sh"
    log "already up (kubeconfig: $admin_kubeconfig)"
    exit 0
  fi
  log "no longer running: $(echo $dead): starting the cluster again"
elif [[ -e "$state_dir" ]]; then
  log "a start that did not finish (or ran with other settings) left $state_dir: clearing it first"
fi
# Leftovers of a cluster that died, partly or wholly, or was half started are cleared first.
[[ ! -e "$state_dir" ]] || "$cluster_dir/down.sh"

# A failed start leaves its processes and logs for a look; the next cluster-up clears them.
trap 'status=$?; ((status == 0)) || log "cluster-up failed; logs in $log_dir/. make cluster-up again clears what it left and starts over; make cluster-down removes it"' EXIT

stage build
eval "$("$cluster_dir/build.sh")"
mkdir -p "$pid_dir" "$log_dir" "$bin_dir"
ln -sf "$K8S_BIN/kubectl" "$K8S_BIN/kube-proxy" "$HELM_BIN/helm" "$ETCD_BIN/etcd" "$bin_dir/"
stage pki
write_pki

# start <component> <binary> <args...>: runs it in a session of its own (so cluster-down can
# signal it with everything it spawned) with its log in logs/<component>.log.
start() {
  local component="$1" binary="$2"
  shift 2
  setsid "$binary" "$@" >"$log_dir/$component.log" 2>&1 </dev/null &
  echo "$!" >"$pid_dir/$component.pid"
}

# fail_if_dead <component>: a component that exited while we wait for it fails fast, with its log.
fail_if_dead() {
  is_running "$1" || {
    tail -n 20 "$log_dir/$1.log" >&2
    die "$1 exited during start-up (log: $log_dir/$1.log)"
  }
}

# https_ok <url> [curl args]: the component answers "ok" on a health path.
https_ok() {
  local url="$1"
  shift
  [[ "$(curl -sS --max-time 2 "$@" "$url")" == ok ]]
}
admin_curl_args=(--cacert "$pki_dir/ca.crt" --cert "$pki_dir/admin.crt" --key "$pki_dir/admin.key")

stage etcd
start etcd "$ETCD_BIN/etcd" \
  --name=tm-local --data-dir="$state_dir/etcd" \
  --listen-client-urls="http://127.0.0.1:$etcd_client_port" \
  --advertise-client-urls="http://127.0.0.1:$etcd_client_port" \
  --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster="tm-local=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync --log-level=warn
etcd_healthy() {
  fail_if_dead etcd
  curl -sS --max-time 2 "http://127.0.0.1:$etcd_client_port/health" | grep -q '"health":"true"'
}
wait_until 20 "etcd health" etcd_healthy

# The apiserver cannot publish its own endpoint: it listens on 127.0.0.1 only, and Endpoints
# validation rejects loopback addresses. With the reconciler off, whoever gives pods a route to the
# apiserver (the node agent) publishes the "kubernetes" Endpoints with that address.
stage kube-apiserver
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$etcd_client_port" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$apiserver_port" \
  --tls-cert-file="$pki_dir/apiserver.crt" --tls-private-key-file="$pki_dir/apiserver.key" \
  --client-ca-file="$pki_dir/ca.crt" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true \
  --service-cluster-ip-range="$service_cidr" \
  --endpoint-reconciler-type=none \
  --service-account-issuer="https://kubernetes.default.svc.$cluster_domain" \
  --service-account-key-file="$pki_dir/sa.pub" --service-account-signing-key-file="$pki_dir/sa.key" \
  --kubelet-client-certificate="$pki_dir/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$pki_dir/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$pki_dir/ca.crt" \
  --requestheader-client-ca-file="$pki_dir/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$pki_dir/front-proxy-client.crt" \
  --proxy-client-key-file="$pki_dir/front-proxy-client.key"
apiserver_ready() {
  fail_if_dead kube-apiserver
  https_ok "$apiserver_url/readyz" "${admin_curl_args[@]}"
}
wait_until 60 "kube-apiserver /readyz" apiserver_ready

# Single instances: leader election would only add its lease wait to every start.
stage kube-controller-manager
start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$state_dir/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$state_dir/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$state_dir/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$controller_manager_port" \
  --tls-cert-file="$pki_dir/controller-manager-serving.crt" \
  --tls-private-key-file="$pki_dir/controller-manager-serving.key" \
  --client-ca-file="$pki_dir/ca.crt" --requestheader-client-ca-file="$pki_dir/front-proxy-ca.crt" \
  --controllers='*' --use-service-account-credentials=true \
  --service-account-private-key-file="$pki_dir/sa.key" --root-ca-file="$pki_dir/ca.crt" \
  --cluster-signing-cert-file="$pki_dir/ca.crt" --cluster-signing-key-file="$pki_dir/ca.key" \
  --service-cluster-ip-range="$service_cidr" \
  --allocate-node-cidrs=true --cluster-cidr="$cluster_cidr" --node-cidr-mask-size=24 \
  --cluster-name=tm-local --leader-elect=false

stage kube-scheduler
cat >"$state_dir/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $state_dir/scheduler.kubeconfig
leaderElection:
  leaderElect: false
EOF
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --config="$state_dir/scheduler.yaml" \
  --authentication-kubeconfig="$state_dir/scheduler.kubeconfig" \
  --authorization-kubeconfig="$state_dir/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$scheduler_port" \
  --tls-cert-file="$pki_dir/scheduler-serving.crt" --tls-private-key-file="$pki_dir/scheduler-serving.key" \
  --client-ca-file="$pki_dir/ca.crt" --requestheader-client-ca-file="$pki_dir/front-proxy-ca.crt"

# The CRDs go in while the controllers and the node agent start (the largest part of a warm start).
install_crds &
crds_pid=$!

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig="$admin_kubeconfig" "$@"; }
controller_manager_healthy() {
  fail_if_dead kube-controller-manager
  https_ok "https://127.0.0.1:$controller_manager_port/healthz" --cacert "$pki_dir/ca.crt"
}
scheduler_healthy() {
  fail_if_dead kube-scheduler
  https_ok "https://127.0.0.1:$scheduler_port/healthz" --cacert "$pki_dir/ca.crt"
}
wait_until 30 "kube-controller-manager /healthz" controller_manager_healthy
wait_until 30 "kube-scheduler /healthz" scheduler_healthy
# The service-account controller creating "default" in namespace default shows the
# controller-manager reconciling under its own credentials.
wait_until 30 "the default ServiceAccount" kubectl_admin get serviceaccount default --namespace=default
# Nodes: the TypeScript node agent runs the pods (README: Local cluster, Node agent).
# TM_NODE_AGENT=0 starts the control plane alone (its own tests run one beside a live cluster).
if [[ "${TM_NODE_AGENT:-1}" != 0 ]]; then
  stage node-agent
  "$cluster_dir/agent/start.sh"
fi
stage crds
wait "$crds_pid" || die "applying the CRDs failed (log: $log_dir/crds.log)"
wait_until 60 "CRDs to be established" kubectl_admin wait --for=condition=Established --timeout=5s crd --all
if [[ "${TM_NODE_AGENT:-1}" != 0 ]]; then
  # On the nodes: kube-proxy, CoreDNS, the loopback service proxy, Prometheus (services/services.sh).
  # One set per machine (kube-proxy owns the host's KUBE-* chains): TM_SERVICES=0 leaves them out,
  # for a second cluster beside the first.
  [[ "${TM_SERVICES:-1}" == 0 ]] || start_services
fi

stage ready
echo "$settings" >"$complete_marker"
log "up in ${SECONDS} s: export KUBECONFIG=$admin_kubeconfig PATH=$bin_dir:\$PATH"
