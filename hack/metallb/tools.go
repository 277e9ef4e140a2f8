//go:build tools

// Package metallb pins go.universe.tf/metallb v0.15.2 so that the Makefile can
// build MetalLB's controller and speaker for differential and alongside tests
// without adding MetalLB to the main module's build graph.
package metallb

import (
	_ "go.universe.tf/metallb/controller"
	_ "go.universe.tf/metallb/speaker"
)
