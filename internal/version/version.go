// Package version is frrgen's build information: the release version and
// git revision stamped by the Makefile (`-ldflags -X`), and the Go version
// that built the binary.
package version

import (
	"fmt"
	"runtime"
)

// Stamped at link time by the Makefile:
//
//	-X github.com/frrgen/frrgen/internal/version.version=$(VERSION)
//	-X github.com/frrgen/frrgen/internal/version.revision=$(REVISION)
//
// A plain `go build` leaves the defaults, which say so.
var (
	version  = "unknown"
	revision = "unknown"
)

// Info describes the running binary.
type Info struct {
	// Version is `git describe --tags --always --dirty` of the build.
	Version string
	// Revision is the full git commit hash of the build.
	Revision string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Get returns the running binary's build information.
func Get() Info {
	return Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
}

// String is the one-line form printed by `frrgen version`.
func (i Info) String() string {
	return fmt.Sprintf("frrgen %s (revision %s, %s)", i.Version, i.Revision, i.GoVersion)
}
