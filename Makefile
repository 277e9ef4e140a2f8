# frrgen — see README.md. Every target skips work that is already done.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

ROOT        := $(abspath .)
BIN         := $(ROOT)/bin
KUBE_VERSION := v1.35.4
# Flags that stamp the apiserver's version (kubectl and client-go parse it).
KUBE_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=35 \
	-X k8s.io/client-go/pkg/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=35
CONTROLLER_GEN := go tool controller-gen

# The version every artifact carries: `frrgen version`, the image's tag and
# labels, the install overlay's image tag. A checkout without tags (CI's
# fresh clone) gives the abbreviated commit hash; uncommitted changes add
# -dirty.
VERSION  := $(shell git describe --tags --always --dirty --match 'v*' 2>/dev/null || echo unknown)
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit time: the image's creation time, so one commit gives one digest.
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# Where the image is pushed; override for your registry (IMG=registry.example/frrgen).
IMG      ?= ghcr.io/frrgen/frrgen
IMAGE_ARCHIVE := $(BIN)/frrgen-$(VERSION).oci.tar
VERSION_LDFLAGS := -X github.com/frrgen/frrgen/internal/version.version=$(VERSION) \
	-X github.com/frrgen/frrgen/internal/version.revision=$(REVISION)

export KUBEBUILDER_ASSETS := $(BIN)

.PHONY: all
all: build

##@ Development

.PHONY: generate
generate: ## Write deepcopy functions for api/.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: ## Write CRDs and RBAC under config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=frrgen-manager paths=./controllers/... output:rbac:artifacts:config=config/rbac

.PHONY: fmt
fmt:
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet:
	go vet ./...

##@ Build

.PHONY: build
build: $(BIN)/frrgen ## Build the frrgen binary into bin/ (static, version-stamped).

.PHONY: version
version: ## Print the version `make build` stamps.
	@echo $(VERSION)

# Static (no cgo: it runs in a scratch image), stamped, and reproducible
# (-trimpath): the file is replaced only when its bytes change, so the image
# below is rebuilt only when the binary (or the version) changed.
$(BIN)/frrgen: FORCE
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w $(VERSION_LDFLAGS)' -o $@.tmp ./cmd/frrgen
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

.PHONY: image
image: $(IMAGE_ARCHIVE) $(BIN)/install/kustomization.yaml ## Build the image as an OCI archive, bin/frrgen-<version>.oci.tar (no container engine), and bin/install, the overlay that deploys it.

# config/default with the image just built: its tag is the version.
$(BIN)/install/kustomization.yaml: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '# Written by `make image`: config/default deploying $(IMG):$(VERSION).' \
		'resources:' '- ../../config/default' \
		'images:' '- name: ghcr.io/frrgen/frrgen' '  newName: $(IMG)' '  newTag: $(VERSION)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo ">> wrote $@"; fi

# hack/image reads the Containerfile and writes the same image an engine
# would build from it (see README, "The image").
$(IMAGE_ARCHIVE): $(BIN)/frrgen Containerfile $(wildcard hack/image/*.go) hack/image/go.mod
	cd hack/image && go run . -f $(ROOT)/Containerfile -context $(ROOT) -created $(SOURCE_DATE_EPOCH) \
		-tag $(IMG):$(VERSION) -o $@ \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION)
	@echo ">> wrote $@ ($(IMG):$(VERSION))"

# kube-apiserver and etcd built from the Go module proxy (no download of
# prebuilt binaries is possible here). A cold build takes 5-11 minutes; the
# files in bin/ and the Go build cache make later runs instant.
.PHONY: envtest-assets
envtest-assets: $(BIN)/kube-apiserver $(BIN)/etcd ## Build kube-apiserver and etcd into bin/ if missing.

$(BIN)/kube-apiserver: hack/envtest/go.mod
	@echo ">> building kube-apiserver $(KUBE_VERSION) from the Go module proxy (cold: 5-11 min)"
	cd hack/envtest && ../with-progress.sh "building kube-apiserver" go build -o $@.tmp -ldflags '$(KUBE_LDFLAGS)' k8s.io/kubernetes/cmd/kube-apiserver && mv $@.tmp $@

$(BIN)/etcd: hack/envtest/go.mod
	@echo ">> building etcd from the Go module proxy"
	cd hack/envtest && ../with-progress.sh "building etcd" go build -o $@.tmp -ldflags '-s -w' go.etcd.io/etcd/server/v3 && mv $@.tmp $@

##@ Demo

.PHONY: demo
demo: envtest-assets $(BIN)/frrgen-demo ## Run frrgen on a local control plane with the seed examples (no cluster needed).
	$(BIN)/frrgen-demo demo

# frrgen with the demo subcommand, which links envtest: a binary of its own,
# so that bin/frrgen (the image's) stays lean.
.PHONY: $(BIN)/frrgen-demo
$(BIN)/frrgen-demo:
	go build -tags demo -o $@ ./cmd/frrgen

##@ Test

.PHONY: test
test: envtest-assets $(BIN)/frr-k8s-controller $(BIN)/metallb-controller $(BIN)/metallb-speaker image ## Run unit and envtest suites (builds envtest binaries, the frr-k8s daemon, MetalLB's controller and speaker and the image first if missing).
	go test -tags daemon ./... -count=1 -timeout 30m
	cd hack/image && go test ./... -count=1

# frrgen's allocator against MetalLB v0.15.2's real controller on 100
# generated sequences, alone (part of make test too; about 2.5 minutes;
# FRRGEN_DIFF_SEQUENCES=N for more).
.PHONY: test-metallb-diff
test-metallb-diff: envtest-assets $(BIN)/metallb-controller ## Differential test of the allocator against MetalLB's real controller.
	go test ./internal/metallbbin/ -run 'TestAllocationAgreesWithMetalLB|TestReprocessOutcomes' -count=1 -v -timeout 30m

.PHONY: FORCE
FORCE:

##@ Benchmark

# Cluster sizes of `make bench-controller`, NODESxSERVICES (issue 11's table).
BENCH_SIZES ?= 10x1000 100x5000
# Flags for the driver, e.g. BENCH_FLAGS='-new-services 50 -rate 10 -timeout 45m'.
# By default the controller runs the layout for large clusters (issue 11's
# targets need it); BENCH_FLAGS= measures the per-node layout.
BENCH_FLAGS ?= -controller-args=--layout=shared

# The envtest binaries are built only when missing (their file targets would
# also rebuild them after a checkout touches hack/envtest/go.mod).
.PHONY: bench-controller
bench-controller: build ## Load benchmark: the real controller process on envtest, per size of BENCH_SIZES (see README, Performance).
	@[ -x $(BIN)/kube-apiserver ] && [ -x $(BIN)/etcd ] || $(MAKE) --no-print-directory envtest-assets
	go build -o $(BIN)/loadbench ./hack/loadbench
	@for size in $(BENCH_SIZES); do \
		nodes=$${size%x*}; services=$${size#*x}; \
		echo ">> $(BIN)/loadbench -nodes $$nodes -services $$services $(BENCH_FLAGS)"; \
		$(BIN)/loadbench -nodes $$nodes -services $$services $(BENCH_FLAGS) || exit 1; \
	done

# 5,000 LoadBalancer Services created at once, allocated by MetalLB v0.15.2's
# controller and then by frrgen's, on one envtest apiserver: time until all
# have an address, and API writes (README, Performance). Sizes:
# FRRGEN_BENCH_SERVICES=N; order: FRRGEN_BENCH_ORDER=frrgen,metallb.
.PHONY: bench-allocation
bench-allocation: build ## End-to-end allocation benchmark: frrgen's controller vs MetalLB's on envtest.
	@[ -x $(BIN)/kube-apiserver ] && [ -x $(BIN)/etcd ] || $(MAKE) --no-print-directory envtest-assets
	@[ -x $(BIN)/metallb-controller ] || $(MAKE) --no-print-directory $(BIN)/metallb-controller
	uptime
	go test -tags allocbench ./internal/metallbbin/ -run TestAllocationBenchmark -count=1 -v -timeout 60m
	go test ./internal/allocate/ -run '^$$' -bench BenchmarkAssign50k -benchtime 5x
	uptime

.PHONY: help
help:
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ End-to-end

# Where the e2e suite keeps logs, pid files, the kubeconfig and frr.conf.
E2E_WORKDIR ?= /tmp/frrgen-e2e
# Extra arguments for the suite, e.g. E2E_FLAGS='-ginkgo.focus=seed'.
E2E_FLAGS ?=
# Which specs run, by label. The `large` spec (one node with thousands of
# service IPs: FRR's reload of that configuration takes minutes) runs only
# with `make e2e-large` (FRRGEN_E2E_LARGE_IPS sets the number, default 2000).
E2E_LABELS ?= !large
E2E_TIMEOUT ?= 60m

# The frr-k8s node daemon, built from the Go module proxy by the tools module
# in hack/frrk8s (cold: about 4.5 minutes on 2 cores; skipped when present).
$(BIN)/frr-k8s-controller: hack/frrk8s/go.mod
	@echo ">> building frr-k8s-controller from the Go module proxy (cold: ~4.5 min)"
	cd hack/frrk8s && go build -o $@.tmp github.com/metallb/frr-k8s/cmd/frr-k8s-controller && mv $@.tmp $@

.PHONY: frr-k8s-controller
frr-k8s-controller: $(BIN)/frr-k8s-controller ## Build the frr-k8s node daemon into bin/ if missing.

# frr-k8s's status exporter (frr-tools/status, the frr-status container of
# its DaemonSet): it writes BGPSessionState from `vtysh`. The e2e suite runs
# it next to the daemon (about 30 s once the daemon is built).
$(BIN)/frr-k8s-status: hack/frrk8s/go.mod
	@echo ">> building frr-k8s's status exporter from the Go module proxy"
	cd hack/frrk8s && go build -o $@.tmp github.com/metallb/frr-k8s/frr-tools/status && mv $@.tmp $@

# MetalLB v0.15.2's controller and speaker, built from the Go module proxy by
# the tools module in hack/metallb, for the tests that run MetalLB's real
# binaries (alongside mode, differential allocation). Cold: about 4.5 minutes
# for both on 2 busy cores; skipped when present.
$(BIN)/metallb-controller: hack/metallb/go.mod
	@echo ">> building MetalLB's controller from the Go module proxy (cold: ~3 min)"
	cd hack/metallb && go build -o $@.tmp go.universe.tf/metallb/controller && mv $@.tmp $@

$(BIN)/metallb-speaker: hack/metallb/go.mod
	@echo ">> building MetalLB's speaker from the Go module proxy (cold: ~2 min)"
	cd hack/metallb && go build -o $@.tmp go.universe.tf/metallb/speaker && mv $@.tmp $@

.PHONY: metallb
metallb: $(BIN)/metallb-controller $(BIN)/metallb-speaker ## Build MetalLB's controller and speaker into bin/ if missing.

.PHONY: e2e-deps
e2e-deps: ## Install frr, frr-pythontools and iproute2 with apt-get when missing (root).
	@missing=""; \
	for p in frr frr-pythontools iproute2; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo ">> apt-get install$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# The suite's network namespaces, links and FRR paths have fixed names, so two
# runs on one machine (two checkouts) would tear each other down: e2e and
# e2e-clean hold this lock, and a second run waits for the first.
E2E_LOCK ?= /tmp/frrgen-e2e.lock

.PHONY: e2e
e2e: e2e-deps envtest-assets $(BIN)/frrgen $(BIN)/frr-k8s-controller $(BIN)/frr-k8s-status $(BIN)/metallb-speaker ## Run the end-to-end suite (root; see README).
	@[ "$$(id -u)" = 0 ] || { echo "make e2e must run as root: it creates network namespaces"; exit 1; }
	@flock -n $(E2E_LOCK) true || echo ">> another e2e run holds $(E2E_LOCK); waiting"
	@flock $(E2E_LOCK) $(MAKE) --no-print-directory e2e-locked

.PHONY: e2e-large
e2e-large: ## Run the e2e spec of one node with many service IPs (FRRGEN_E2E_LARGE_IPS; long; not in make e2e).
	@$(MAKE) --no-print-directory e2e E2E_LABELS=large E2E_TIMEOUT=8h

.PHONY: e2e-locked
e2e-locked:
	@# The suite stops everything itself (AfterSuite, and checks nothing is
	@# left); e2e-clean afterwards also covers a suite killed outright.
	@# -mod=mod: e2e/go.mod follows frrgen's requirements (replace ../) even
	@# when a change to the root go.mod has not been copied into it yet.
	rc=0; cd e2e && FRRGEN_E2E_WORKDIR=$(E2E_WORKDIR) go test -mod=mod . -count=1 -timeout $(E2E_TIMEOUT) -v -ginkgo.v '-ginkgo.label-filter=$(E2E_LABELS)' $(E2E_FLAGS) || rc=$$?; \
	cd $(ROOT) && $(MAKE) --no-print-directory e2e-clean-locked; exit $$rc

.PHONY: e2e-clean
e2e-clean: ## Stop processes and remove namespaces and links an interrupted e2e run left behind.
	@flock $(E2E_LOCK) $(MAKE) --no-print-directory e2e-clean-locked

.PHONY: e2e-clean-locked
e2e-clean-locked:
	@for f in $(E2E_WORKDIR)/pids/*.pid; do \
		[ -e "$$f" ] || continue; pid=$$(cat "$$f"); \
		if [ "$$pid" -gt 1 ] && { kill -0 -- -$$pid || kill -0 $$pid; } 2>/dev/null; then \
			echo "stopping $$(basename $$f .pid) (process group $$pid)"; \
			kill -TERM -- -$$pid 2>/dev/null || kill -TERM $$pid 2>/dev/null || true; sleep 2; \
			kill -KILL -- -$$pid 2>/dev/null || true; \
		fi; \
		rm -f "$$f"; \
	done
	@for ns in $$(ip netns list | awk '{print $$1}' | grep '^frrgen-e2e-' || true); do \
		for pid in $$(ip netns pids $$ns); do echo "stopping pid $$pid in netns $$ns"; kill -KILL $$pid || true; done; \
		ip netns del $$ns && echo "deleted netns $$ns"; \
	done
	@for l in $$(ip -o link show | awk -F': ' '{print $$2}' | cut -d@ -f1 | grep '^fge2e-' || true); do \
		ip link del $$l && echo "deleted link $$l"; \
	done
	@rm -rf /var/run/frr/frrgen-e2e-node /var/run/frr/frrgen-e2e-peer
	@if [ -e $(E2E_WORKDIR)/created-etc-frr_reloader ]; then \
		rmdir /etc/frr_reloader 2>/dev/null; rm -f $(E2E_WORKDIR)/created-etc-frr_reloader && echo "removed /etc/frr_reloader (created by the suite)"; \
	fi
	@if [ -e $(E2E_WORKDIR)/created-etc-frr-frr.log ]; then \
		rm -f /etc/frr/frr.log $(E2E_WORKDIR)/created-etc-frr-frr.log && echo "removed /etc/frr/frr.log (created by the suite)"; \
	fi
