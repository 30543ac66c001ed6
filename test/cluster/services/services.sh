# What makes the local cluster useful to the e2e suite and the demo, started by ../up.sh after the
# control plane and the node agent (sourced there, so it reuses up.sh's start/fail_if_dead/
# wait_until/kubectl_admin and the binaries build.sh printed):
#   - kube-proxy (iptables mode) in the host network namespace: ClusterIPs reach ready endpoints
#     from pods and from the host;
#   - CoreDNS with the kubernetes plugin on the bridge address, behind the kube-dns Service that
#     the agent writes into every pod's resolv.conf;
#   - the loopback service proxy (service-proxy/): 127.0.0.1 addresses for Services, for tests
#     and the demo, and the bridge-side forward that lets pods reach Prometheus;
#   - Prometheus (built from its Go module: Debian's has no kubernetes_sd_configs) on 127.0.0.1
#     with pod discovery, and the PrometheusRule sync (prometheus-rules/);
#   - Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1, which Prometheus sends its
#     alerts to and which routes every alert to a webhook on 127.0.0.1 (the e2e suite's receiver);
#   - metrics-server, the resource metrics API for the HPA and kubectl top.
# Nothing here sends a packet off the machine: see guard_host_network.
# shellcheck shell=bash
# shellcheck source=lib.sh
source "$cluster_dir/services/lib.sh"

services_dir="$cluster_dir/services"
# Started in this order by start_services, each through its start_<name> function.
services=(kube-proxy coredns service-proxy alertmanager prometheus metrics-server)

bridge_has_ip() { ip -4 -o addr show dev "$bridge" 2>/dev/null | grep -q " $bridge_ip/"; }

# guard_host_network: a ClusterIP that kube-proxy DNATs to a pod on the bridge is routed by the
# host back onto the bridge, so forwarding is switched on for packets arriving on the bridge only
# (per-interface forwarding), and a mangle FORWARD rule drops anything that would enter or leave
# through another interface (a pod that added a default route of its own). Blackhole fallback
# routes keep the pod and service ranges off the default route when the bridge is gone.
guard_host_network() {
  echo 1 >"/proc/sys/net/ipv4/conf/$bridge/forwarding"
  iptables -w -t mangle -N "$guard_chain" 2>/dev/null || iptables -w -t mangle -F "$guard_chain"
  iptables -w -t mangle -A "$guard_chain" -i "$bridge" ! -o "$bridge" -j DROP
  iptables -w -t mangle -A "$guard_chain" ! -i "$bridge" -o "$bridge" -j DROP
  iptables -w -t mangle -C FORWARD -j "$guard_chain" 2>/dev/null ||
    iptables -w -t mangle -I FORWARD -j "$guard_chain"
  ip route replace blackhole "$service_cidr" metric "$fallback_metric"
  ip route replace blackhole "$cluster_cidr" metric "$fallback_metric"
  mkdir -p "$state_dir/down.d"
  ln -sf "$services_dir/down-hook.sh" "$state_dir/down.d/80-services"
}

# issue_identity <name> <user>: a client certificate and kubeconfig (<name>.kubeconfig) for a
# component; rbac.yaml grants each user what it needs.
issue_identity() {
  new_cert ca "$1" "/CN=$2" clientAuth
  write_kubeconfig "$state_dir/$1.kubeconfig" "$2" "$1"
}

# host_service <namespace> <name> <port name>:<port>:<protocol>...: a ClusterIP Service without a
# selector whose one EndpointSlice points at the host's bridge address, for what runs on the host
# but must be reachable from pods by the usual Service name.
host_service() {
  local namespace="$1" name="$2" cluster_ip="${CLUSTER_IP:-}" spec port_name port protocol
  shift 2
  local service_ports="" slice_ports=""
  for spec in "$@"; do
    IFS=: read -r port_name port protocol <<<"$spec"
    service_ports+="    - {name: $port_name, port: $port, targetPort: $port, protocol: $protocol}"$'\n'
    slice_ports+="  - {name: $port_name, port: $port, protocol: $protocol}"$'\n'
  done
  kubectl_admin apply --server-side --field-manager=tm-cluster -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $namespace}
---
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: $namespace, labels: {app.kubernetes.io/managed-by: tm-cluster}}
spec:
  ${cluster_ip:+clusterIP: $cluster_ip}
  ports:
$service_ports
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name-host
  namespace: $namespace
  labels: {kubernetes.io/service-name: $name, endpointslice.kubernetes.io/managed-by: tm-cluster}
addressType: IPv4
ports:
$slice_ports
endpoints:
  - addresses: [$bridge_ip]
    conditions: {ready: true}
EOF
}

start_kube_proxy() {
  issue_identity kube-proxy system:kube-proxy
  # conntrack limits and timeouts of 0 leave the host's sysctls alone; localhostNodePorts off
  # keeps route_localnet off; NodePorts only on the bridge address.
  cat >"$services_state_dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state_dir/kube-proxy.kubeconfig}
hostnameOverride: tm-node-1
mode: iptables
clusterCIDR: $cluster_cidr
detectLocalMode: ClusterCIDR
healthzBindAddress: 127.0.0.1:$kube_proxy_healthz_port
metricsBindAddress: 127.0.0.1:$kube_proxy_metrics_port
nodePortAddresses: ["$bridge_ip/32"]
iptables: {localhostNodePorts: false, minSyncPeriod: 100ms, syncPeriod: 30s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy "$K8S_BIN/kube-proxy" --config="$services_state_dir/kube-proxy.yaml"
  kube_proxy_healthy() {
    fail_if_dead kube-proxy
    curl -sf --max-time 2 "http://127.0.0.1:$kube_proxy_healthz_port/healthz"
  }
  wait_until 30 "kube-proxy /healthz" kube_proxy_healthy
}

start_coredns() {
  issue_identity coredns tm:coredns
  CLUSTER_IP="$dns_service_ip" host_service kube-system kube-dns dns:53:UDP dns-tcp:53:TCP
  # Names outside the cluster get NXDOMAIN here: there is no upstream to forward to, by design.
  cat >"$services_state_dir/Corefile" <<EOF
$cluster_domain:53 in-addr.arpa:53 {
    bind $bridge_ip
    errors
    ready 127.0.0.1:$coredns_ready_port
    prometheus 127.0.0.1:$coredns_metrics_port
    kubernetes $cluster_domain in-addr.arpa {
        kubeconfig $state_dir/coredns.kubeconfig
        pods insecure
        ttl 5
    }
}
.:53 {
    bind $bridge_ip
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
  start coredns "$COREDNS_BIN/coredns" -conf "$services_state_dir/Corefile"
  coredns_ready() {
    fail_if_dead coredns
    curl -sf --max-time 2 "http://127.0.0.1:$coredns_ready_port/ready"
  }
  wait_until 30 "CoreDNS /ready" coredns_ready
}

start_service_proxy() {
  issue_identity service-proxy tm:service-proxy
  CLUSTER_IP="" host_service monitoring prometheus "web:$prometheus_port:TCP"
  start service-proxy node "$services_dir/service-proxy/main.ts" \
    --kubeconfig="$state_dir/service-proxy.kubeconfig" \
    --listen="127.0.0.1:$service_proxy_port" \
    --forward="$bridge_ip:$prometheus_port=127.0.0.1:$prometheus_port"
  service_proxy_healthy() {
    fail_if_dead service-proxy
    curl -sf --max-time 2 "http://127.0.0.1:$service_proxy_port/healthz"
  }
  wait_until 30 "the service proxy /healthz" service_proxy_healthy
}

start_prometheus() {
  issue_identity prometheus tm:prometheus
  issue_identity prometheus-rules tm:prometheus-rules
  local dir="$services_state_dir/prometheus"
  mkdir -p "$dir/rules" "$dir/data"
  ln -sf "$PROMETHEUS_BIN/promtool" "$PROMETHEUS_BIN/prometheus" "$bin_dir/"
  sed -e "s|@APISERVER@|$apiserver_url|g" -e "s|@PKI@|$pki_dir|g" -e "s|@RULES@|$dir/rules|g" \
    -e "s|@ALERTMANAGER@|127.0.0.1:$alertmanager_port|g" \
    -e "s|@OPERATOR@|127.0.0.1:$operator_metrics_port|g" \
    "$services_dir/prometheus.yml" >"$dir/prometheus.yml"
  "$PROMETHEUS_BIN/promtool" check config "$dir/prometheus.yml" >/dev/null
  # New targets (a canary's pods) are scraped within a second of being discovered, not at the
  # scrape manager's next 5 s reload: a step's first measurement would often find too few samples.
  start prometheus "$PROMETHEUS_BIN/prometheus" --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=1d \
    --scrape.discovery-reload-interval=1s \
    --web.listen-address="127.0.0.1:$prometheus_port" --web.enable-lifecycle
  prometheus_ready() {
    fail_if_dead prometheus
    curl -sf --max-time 2 "http://127.0.0.1:$prometheus_port/-/ready"
  }
  wait_until 30 "Prometheus /-/ready" prometheus_ready
  start prometheus-rules node "$services_dir/prometheus-rules/main.ts" \
    --kubeconfig="$state_dir/prometheus-rules.kubeconfig" --rules-dir="$dir/rules" \
    --prometheus="http://127.0.0.1:$prometheus_port" --promtool="$PROMETHEUS_BIN/promtool"
}

# Alertmanager from Debian (scripts/apt-deps.sh), one instance (no gossip), grouping and sending
# within a second so tests see an alert soon after Prometheus fires it, resolved ones included.
start_alertmanager() {
  local dir="$services_state_dir/alertmanager"
  mkdir -p "$dir/data"
  command -v prometheus-alertmanager >/dev/null ||
    die "prometheus-alertmanager is not installed: run make apt-deps (scripts/apt-deps.sh)"
  cat >"$dir/alertmanager.yml" <<EOF
route:
  receiver: webhook
  group_by: [alertname, namespace, model]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:$alert_webhook_port/alerts
        send_resolved: true
EOF
  start alertmanager prometheus-alertmanager --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir/data" --web.listen-address="127.0.0.1:$alertmanager_port" \
    --cluster.listen-address=""
  alertmanager_ready() {
    fail_if_dead alertmanager
    curl -sf --max-time 2 "http://127.0.0.1:$alertmanager_port/-/ready"
  }
  wait_until 30 "Alertmanager /-/ready" alertmanager_ready
}

# assert_free <address:port>...: nothing listens there yet. Another cluster's services on this
# machine would otherwise answer our health checks and fight over the host's iptables chains.
assert_free() {
  local address
  for address in "$@"; do
    [[ -z "$(ss -Hltn "src $address")" ]] ||
      die "$address is in use: another cluster's services run on this machine (one set per machine; TM_SERVICES=0 leaves them out)"
  done
}

# metrics-server on the bridge address behind the kube-system/metrics-server Service: the
# aggregator reaches it through the ClusterIP (kube-proxy), and it scrapes each node agent's
# /metrics/resource on the node's InternalIP and kubelet port. Awaited until live, not ready: its
# API turns ready after its first scrape (one metric resolution), which `kubectl top` and the HPA
# wait for anyway.
start_metrics_server() {
  issue_identity metrics-server tm:metrics-server
  new_cert ca metrics-server-serving "/CN=metrics-server" serverAuth \
    "DNS:metrics-server.kube-system.svc,IP:$bridge_ip"
  CLUSTER_IP="" host_service kube-system metrics-server "https:$metrics_server_port:TCP"
  kubectl_admin apply --server-side --field-manager=tm-cluster -f - >/dev/null <<EOF
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: {namespace: kube-system, name: metrics-server, port: $metrics_server_port}
  caBundle: $(base64 -w0 "$pki_dir/ca.crt")
EOF
  local kubeconfig="$state_dir/metrics-server.kubeconfig"
  start metrics-server "$METRICS_SERVER_BIN/metrics-server" \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --bind-address="$bridge_ip" --secure-port="$metrics_server_port" \
    --tls-cert-file="$pki_dir/metrics-server-serving.crt" --tls-private-key-file="$pki_dir/metrics-server-serving.key" \
    --kubelet-preferred-address-types=InternalIP --kubelet-use-node-status-port \
    --kubelet-certificate-authority="$pki_dir/ca.crt" --metric-resolution=10s --kubelet-request-timeout=5s
  metrics_server_live() {
    fail_if_dead metrics-server
    curl -sf --max-time 2 --cacert "$pki_dir/ca.crt" "https://$bridge_ip:$metrics_server_port/livez"
  }
  wait_until 30 "metrics-server /livez" metrics_server_live
}

start_services() {
  mkdir -p "$services_state_dir"
  assert_free "127.0.0.1:$kube_proxy_healthz_port" "127.0.0.1:$coredns_ready_port" \
    "127.0.0.1:$service_proxy_port" "127.0.0.1:$prometheus_port" "$bridge_ip:$prometheus_port" \
    "127.0.0.1:$alertmanager_port" \
    "$bridge_ip:$metrics_server_port"
  stage host-network
  wait_until 30 "the node agent's bridge $bridge with $bridge_ip" bridge_has_ip
  guard_host_network
  kubectl_admin apply -f "$services_dir/rbac.yaml" >/dev/null
  local service
  for service in "${services[@]}"; do
    stage "$service"
    "start_${service//-/_}"
  done
}
