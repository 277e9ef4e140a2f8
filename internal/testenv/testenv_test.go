package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootFindsFrrgenModule(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !isRepoRoot(root) {
		t.Fatalf("RepoRoot() = %s, which does not hold the go.mod of %s", root, modulePath)
	}
	if _, err := os.Stat(filepath.Join(root, "config", "crd", "bases")); err != nil {
		t.Fatalf("RepoRoot() = %s has no config/crd/bases: %v", root, err)
	}
}

func TestIsRepoRootRejectsOtherModules(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/frrgen/frrgen/hack/envtest\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if isRepoRoot(dir) {
		t.Fatalf("a go.mod of another module was taken as frrgen's")
	}
}

func TestAssetsDirNamesMakeTargetWhenBinariesMissing(t *testing.T) {
	empty := t.TempDir()
	t.Setenv(assetsEnvVar, empty)
	_, err := AssetsDir(t.TempDir())
	if err == nil {
		t.Fatal("AssetsDir succeeded on an empty directory")
	}
	for _, want := range []string{"make envtest-assets", filepath.Join(empty, "kube-apiserver"), filepath.Join(empty, "etcd")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestAssetsDirAcceptsExecutables(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(assetsEnvVar, dir)
	got, err := AssetsDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Fatalf("AssetsDir() = %s, want %s", got, dir)
	}
}

func TestAssetsDirDefaultsToRepoBin(t *testing.T) {
	root := t.TempDir()
	t.Setenv(assetsEnvVar, "")
	_, err := AssetsDir(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "bin", "kube-apiserver")) {
		t.Fatalf("AssetsDir(%s) error = %v, want one naming %s/bin/kube-apiserver", root, err, root)
	}
}

func TestFRRK8sCRDDir(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := FRRK8sCRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, "frr-k8s@v0.0.21") {
		t.Errorf("FRRK8sCRDDir() = %s, want the v0.0.21 module directory", dir)
	}
}
