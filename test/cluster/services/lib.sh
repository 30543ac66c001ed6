# Shared by the services scripts (sourced after ../lib.sh): the addresses and ports of what runs on
# top of the control plane and the node agent. Host-side listeners are on 127.0.0.1; what pods must
# reach sits on the bridge address behind a ClusterIP Service.
# shellcheck shell=bash

# The node agent's bridge (agent/start.sh) and the host's address on it: the first address of the
# cluster CIDR (the agent's gateway).
bridge="${TM_AGENT_BRIDGE:-tm0}"
bridge_ip="${cluster_cidr%.*/*}.1"
dns_service_ip="${service_cidr%.*/*}.10"

kube_proxy_metrics_port="${TM_KUBE_PROXY_METRICS_PORT:-10249}"
kube_proxy_healthz_port="${TM_KUBE_PROXY_HEALTHZ_PORT:-10256}"
coredns_ready_port="${TM_COREDNS_READY_PORT:-8181}"
coredns_metrics_port="${TM_COREDNS_METRICS_PORT:-9153}"
service_proxy_port="${TM_SERVICE_PROXY_PORT:-10300}"
prometheus_port="${TM_PROMETHEUS_PORT:-9090}"
alertmanager_port="${TM_ALERTMANAGER_PORT:-9093}"
# Where Alertmanager sends every alert: a webhook receiver the e2e suite runs on the host.
alert_webhook_port="${TM_ALERT_WEBHOOK_PORT:-9097}"
# Where an operator run on the host (test/e2e/local/dashboard.test.ts) serves /metrics: Prometheus
# scrapes it there, so the dashboard's rollout panels have the operator's series.
operator_metrics_port="${TM_OPERATOR_METRICS_PORT:-9098}"
metrics_server_port="${TM_METRICS_SERVER_PORT:-10350}"

services_state_dir="$state_dir/services"
# Routes that catch the pod and service ranges when the bridge's routes are gone (agent stopped):
# a high metric, so the bridge's own routes win while they exist.
fallback_metric=4000
# The mangle chain that keeps forwarded packets between the bridge's ports.
guard_chain=TM-BRIDGE-GUARD
