// Package release holds the tests of what a release ships: the OCI image
// that `make image` builds and the install overlay whose image tag is the
// version the Makefile stamps. It has no code of its own.
package release
