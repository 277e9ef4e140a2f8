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
build: $(BIN)/frrgen ## Build the frrgen binary into bin/.

.PHONY: $(BIN)/frrgen
$(BIN)/frrgen:
	go build -o $@ ./cmd/frrgen

# kube-apiserver and etcd built from the Go module proxy (no download of
# prebuilt binaries is possible here). A cold build takes 5-11 minutes; the
# files in bin/ and the Go build cache make later runs instant.
.PHONY: envtest-assets
envtest-assets: $(BIN)/kube-apiserver $(BIN)/etcd ## Build kube-apiserver and etcd into bin/ if missing.

$(BIN)/kube-apiserver: hack/envtest/go.mod
	@echo ">> building kube-apiserver $(KUBE_VERSION) from the Go module proxy (cold: 5-11 min)"
	cd hack/envtest && go build -o $@.tmp -ldflags '$(KUBE_LDFLAGS)' k8s.io/kubernetes/cmd/kube-apiserver && mv $@.tmp $@

$(BIN)/etcd: hack/envtest/go.mod
	@echo ">> building etcd from the Go module proxy"
	cd hack/envtest && go build -o $@.tmp -ldflags '-s -w' go.etcd.io/etcd/server/v3 && mv $@.tmp $@

##@ Test

.PHONY: test
test: envtest-assets ## Run unit and envtest suites (builds envtest binaries first if missing).
	go test ./... -count=1

.PHONY: help
help:
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
