//go:build tools

// Package frrk8s pins github.com/metallb/frr-k8s so that the Makefile can build
// its node daemon (cmd/frr-k8s-controller) for the e2e suite without adding it
// to the main module's build graph.
package frrk8s

import (
	_ "github.com/metallb/frr-k8s/cmd/frr-k8s-controller"
)
