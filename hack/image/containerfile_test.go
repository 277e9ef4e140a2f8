package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReadContainerfile reads the repository's Containerfile as `make
// image` does.
func TestReadContainerfile(t *testing.T) {
	r, err := readContainerfile("../../Containerfile", map[string]string{"VERSION": "v1.2.3", "REVISION": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	want := &recipe{
		Copies:     []copyStep{{Source: "bin/frrgen", Destination: "/frrgen"}},
		User:       "65532:65532",
		Entrypoint: []string{"/frrgen"},
	}
	if !reflect.DeepEqual(r.Copies, want.Copies) || r.User != want.User || !reflect.DeepEqual(r.Entrypoint, want.Entrypoint) {
		t.Errorf("recipe = %+v, want %+v", r, want)
	}
	for key, value := range map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "abc",
		"org.opencontainers.image.source":   "https://github.com/frrgen/frrgen",
	} {
		if r.Labels[key] != value {
			t.Errorf("label %s = %q, want %q", key, r.Labels[key], value)
		}
	}
}

// TestReadContainerfileRefuses: an instruction the builder does not
// implement would make its image differ from an engine's.
func TestReadContainerfileRefuses(t *testing.T) {
	for name, c := range map[string]struct{ text, args, want string }{
		"RUN":            {"FROM scratch\nRUN true\n", "", "RUN is not supported"},
		"a base image":   {"FROM debian\n", "", "only one FROM scratch"},
		"shell form":     {"FROM scratch\nENTRYPOINT /frrgen\n", "", "JSON array"},
		"COPY --chown":   {"FROM scratch\nCOPY --chown=1 a /a\n", "", "COPY takes exactly"},
		"unquoted label": {"FROM scratch\nLABEL a=b\n", "", `key="value"`},
		"undeclared ARG": {"FROM scratch\n", "VERSION", "not declared"},
		"before FROM":    {"ARG X\nFROM scratch\n", "", "before FROM"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Containerfile")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			args := map[string]string{}
			if c.args != "" {
				args[c.args] = "x"
			}
			if _, err := readContainerfile(path, args); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}
