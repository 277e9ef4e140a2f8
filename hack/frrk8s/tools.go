//go:build tools

// Package frrk8s pins github.com/metallb/frr-k8s so that the Makefile can build
// its node daemon (cmd/frr-k8s-controller) and its status exporter
// (frr-tools/status) for the e2e suite without adding them to the main
// module's build graph.
package frrk8s

import (
	_ "github.com/metallb/frr-k8s/cmd/frr-k8s-controller"
	_ "github.com/metallb/frr-k8s/frr-tools/status"
)
