SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node.js 24 comes first on PATH: installed into .tools/node from the npm package node@24 when the
# machine's node is older (about 5 s, once).
NODE_BIN := $(shell scripts/ensure-node.sh || echo FAILED)
ifneq ($(filter FAILED,$(NODE_BIN)),)
$(error scripts/ensure-node.sh could not install Node.js 24 into .tools/node: see its message above)
endif
export PATH := $(if $(NODE_BIN),$(NODE_BIN):)$(CURDIR)/node_modules/.bin:$(PATH)

REPORTS := .reports

.PHONY: help deps apt-deps lint typecheck unit test bench bench-rollout demo demo-local fmt clean crds dashboard dashboard-snapshot
.PHONY: cluster-build cluster-up cluster-down cluster-status cluster-test e2e
.PHONY: deploy docker-build kind-up kind-load

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

deps: node_modules/.installed ## Install Node.js 24 and the npm dependencies

apt-deps: ## Install the Debian packages of every target (scripts/apt-deps.sh: cluster, test and bench groups)
	scripts/apt-deps.sh

# apt-deps-<group>: one group's packages, for the targets that need only those.
.PHONY: apt-deps-cluster apt-deps-test apt-deps-bench
apt-deps-cluster apt-deps-test apt-deps-bench: apt-deps-%:
	@scripts/apt-deps.sh $*

.PHONY: python-deps
python-deps: apt-deps-test ## Python packages the tests use, from PyPI into .tools/python (test/python/requirements.txt)
	scripts/python-venv.sh .tools/python test/python/requirements.txt

lint: deps ## Biome lint and format check
	biome check .

typecheck: deps ## TypeScript strict type check
	tsc -p tsconfig.json --noEmit

unit: deps apt-deps-test python-deps ## Unit tests (the scikit-learn agreement tests need the Debian packages, the OIP client test its PyPI client)
	@mkdir -p $(REPORTS)
	vitest run --project unit --reporter=default --reporter=json --outputFile.json=$(REPORTS)/vitest-unit.json

# Every stage runs even when an earlier one failed, so one CI run shows everything that is wrong.
test: deps apt-deps python-deps ## Everything CI runs: lint, type check, unit, end-to-end on the local cluster, the cluster's own tests
	@failed=""; for stage in lint typecheck unit e2e cluster-test; do \
	  $(MAKE) --no-print-directory $$stage || failed="$$failed $$stage"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed"; exit 1; fi

bench: deps apt-deps-bench ## Benchmarks vs Flask+sklearn, MLServer, bare node:http, sklearn, pandas (bench/results/, a few minutes; MLServer is installed into .tools/mlserver once)
	node bench/main.ts

bench-rollout: deps apt-deps-cluster apt-deps-bench cluster-build ## Canary and rollback timings under load on the local cluster (bench/results/rollout.json, ~3 min with the cluster built)
	vitest run --project rollout-bench

CHART := helm/tradingmodel-operator

crds: deps ## Generate crds/*.yaml from the schema in operator/src/api/ (and the chart's copy)
	node operator/scripts/generate-crds.ts
	rm -f $(CHART)/crds/*.yaml && cp crds/*.yaml $(CHART)/crds/

dashboard: deps ## Generate the chart's Grafana dashboard JSON from operator/src/dashboard/ (typed builders)
	node operator/scripts/generate-dashboard.ts

dashboard-snapshot: deps ## The dashboard without Grafana: MODEL=… NAMESPACE=… [VERSION= RANGE_MINUTES= OUT= PROMETHEUS_URL=] into one SVG
	node operator/scripts/dashboard-snapshot.ts --model "$(MODEL)" --namespace "$(or $(NAMESPACE),default)" \
	  --version "$(or $(VERSION),.*)" --range-minutes "$(or $(RANGE_MINUTES),60)" --out "$(OUT)" \
	  --prometheus "$(or $(PROMETHEUS_URL),http://127.0.0.1:$(or $(TM_PROMETHEUS_PORT),9090))"

cluster-build: ## Build the local cluster's binaries from their Go modules (cached per version)
	test/cluster/build.sh >/dev/null

cluster-up: deps apt-deps-cluster ## Start the local control plane (admin kubeconfig: .cluster/kubeconfig)
	test/cluster/up.sh

cluster-down: ## Stop every process of the local cluster and remove .cluster/
	test/cluster/down.sh

cluster-status: ## Show the local cluster's processes and health
	test/cluster/status.sh

cluster-test: deps apt-deps-cluster cluster-build ## Tests of the local cluster itself (starts a cluster of its own)
	@mkdir -p $(REPORTS)
	vitest run --project cluster --reporter=default --reporter=json --outputFile.json=$(REPORTS)/vitest-cluster.json

e2e: deps apt-deps ## End-to-end suite on the local cluster, up and down around it (E2E_KUBECONFIG=other cluster, E2E_KEEP_CLUSTER=1)
	@mkdir -p $(REPORTS)
	vitest run --project e2e --reporter=default --reporter=json --outputFile.json=$(REPORTS)/vitest-e2e.json

demo: deps apt-deps-cluster ## Everything locally: cluster, operator by its chart, examples trained and served, predictions (scripts/demo.sh)
	scripts/demo.sh

demo-local: deps ## The model runtime alone: train the demo model and serve it on loopback
	scripts/demo-local.sh

fmt: deps ## Format the tree
	biome check --write .

clean: ## Remove local build state
	rm -rf $(REPORTS) node_modules .tools

# --- The operator on a cluster -------------------------------------------------------------------
# deploy uses the cluster of $$KUBECONFIG when set, else the local cluster (brought up first by
# make cluster-up, a no-op when it runs); the local cluster's helm when there is one, else the one
# on PATH, else the one cluster-build made. HELM_ARGS passes more, e.g. HELM_ARGS="--set workers=4".
DEPLOY_KUBECONFIG := $(or $(KUBECONFIG),$(CURDIR)/.cluster/kubeconfig)
BUILT_HELM = $(wildcard $(or $(TM_CACHE),$(HOME)/.cache/tm-operator)/bin/helm-*/helm)
IMAGE_TAG := $(shell sed -n 's/^appVersion: "\(.*\)"/\1/p' $(CHART)/Chart.yaml)
KIND_CLUSTER := tradingmodel

deploy: ## Install or upgrade the operator's Helm chart (CRDs included) into the cluster of $KUBECONFIG, the local one by default
	$(if $(KUBECONFIG),,$(MAKE) --no-print-directory cluster-up)
	@helm=$$({ command -v $(CURDIR)/.cluster/bin/helm helm $(BUILT_HELM) || true; } | head -n 1); \
	KUBECONFIG=$(DEPLOY_KUBECONFIG) $${helm:?no helm on PATH and none built (make cluster-build)} \
	  upgrade --install tradingmodel-operator $(CHART) \
	  --namespace tradingmodel-system --create-namespace --wait --timeout 5m $(HELM_ARGS)

docker-build: ## With Docker: build tradingmodel/operator and tradingmodel/predictor images
	docker build -t tradingmodel/operator:$(IMAGE_TAG) -f operator/Dockerfile .
	docker build -t tradingmodel/predictor:$(IMAGE_TAG) -f predictor/Dockerfile \
	  --build-arg CODE_VERSION=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) .

kind-up: ## With Docker and kind: create the kind cluster "tradingmodel" (then: make docker-build kind-load deploy)
	kind get clusters | grep -qx $(KIND_CLUSTER) || kind create cluster --name $(KIND_CLUSTER) --wait 120s

kind-load: ## With Docker and kind: load the two images into the kind cluster
	kind load docker-image --name $(KIND_CLUSTER) tradingmodel/operator:$(IMAGE_TAG) tradingmodel/predictor:$(IMAGE_TAG)
