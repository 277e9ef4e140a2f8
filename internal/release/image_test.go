package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The parts of the OCI image spec the test reads.
type (
	ociDescriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	}
	ociIndex struct {
		Manifests []ociDescriptor `json:"manifests"`
	}
	ociManifest struct {
		MediaType   string            `json:"mediaType"`
		Config      ociDescriptor     `json:"config"`
		Layers      []ociDescriptor   `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	ociConfig struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User       string            `json:"User"`
			Entrypoint []string          `json:"Entrypoint"`
			Cmd        []string          `json:"Cmd"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
)

// TestImage opens the OCI archive `make image` wrote for this checkout's
// version and checks what a cluster relies on: the entrypoint, a non-root
// user, the version/source/revision labels and annotations, a static
// binary, and that the binary in the image runs `frrgen version` and
// reports the same version and revision.
func TestImage(t *testing.T) {
	v := makeVersion(t)
	archive := filepath.Join(repoRoot(t), "bin", "frrgen-"+v.Version+".oci.tar")
	blobs := readArchive(t, archive)

	if got := string(blobs["oci-layout"]); !strings.Contains(got, `"imageLayoutVersion"`) {
		t.Errorf("oci-layout = %q", got)
	}
	var index ociIndex
	decode(t, blobs["index.json"], &index)
	if len(index.Manifests) != 1 {
		t.Fatalf("index.json has %d manifests, want 1", len(index.Manifests))
	}
	if ref := index.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; !strings.HasSuffix(ref, ":"+v.Version) {
		t.Errorf("image reference %q is not tagged with the version %s", ref, v.Version)
	}
	var manifest ociManifest
	decode(t, blob(t, blobs, index.Manifests[0]), &manifest)
	if manifest.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %q", manifest.MediaType)
	}
	var config ociConfig
	decode(t, blob(t, blobs, manifest.Config), &config)

	wantLabels := map[string]string{
		"org.opencontainers.image.version":  v.Version,
		"org.opencontainers.image.revision": v.Revision,
		"org.opencontainers.image.source":   "https://github.com/frrgen/frrgen",
	}
	for key, want := range wantLabels {
		if got := config.Config.Labels[key]; got != want {
			t.Errorf("label %s = %q, want %q", key, got, want)
		}
		if got := manifest.Annotations[key]; got != want {
			t.Errorf("manifest annotation %s = %q, want %q", key, got, want)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(v.Revision) {
		t.Errorf("revision %q is not a full commit hash", v.Revision)
	}
	if got := strings.Join(config.Config.Entrypoint, " "); got != "/frrgen" || len(config.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q; want /frrgen and no cmd", config.Config.Entrypoint, config.Config.Cmd)
	}
	// Numeric and not 0: runAsNonRoot can check it without /etc/passwd.
	if !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(config.Config.User) {
		t.Errorf("user %q is not a numeric non-root user", config.Config.User)
	}
	if config.OS != "linux" || config.Architecture == "" {
		t.Errorf("platform %s/%s", config.OS, config.Architecture)
	}

	if len(manifest.Layers) != 1 {
		t.Fatalf("%d layers, want 1 (the binary)", len(manifest.Layers))
	}
	layer := gunzip(t, blob(t, blobs, manifest.Layers[0]))
	if diffID := "sha256:" + sha256Hex(layer); len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != diffID {
		t.Errorf("rootfs diff_ids %v, want [%s]", config.RootFS.DiffIDs, diffID)
	}
	files := untar(t, layer)
	if _, ok := files["frrgen"]; len(files) != 1 || !ok {
		t.Fatalf("layer holds %v, want only frrgen", keys(files))
	}
	binary := filepath.Join(t.TempDir(), "frrgen")
	if err := os.WriteFile(binary, files["frrgen"].data, os.FileMode(files["frrgen"].mode)); err != nil {
		t.Fatal(err)
	}
	if files["frrgen"].mode&0o111 == 0 {
		t.Errorf("frrgen has mode %o, not executable", files["frrgen"].mode)
	}
	checkStatic(t, binary)

	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("frrgen version in the image: %v\n%s", err, out)
	}
	want := fmt.Sprintf("frrgen %s (revision %s, ", v.Version, v.Revision)
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("frrgen version in the image printed %q, want it to start with %q", out, want)
	}
}

// checkStatic fails unless the ELF file needs no dynamic loader and no
// shared library: it must run in a scratch image.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a PT_INTERP program header: it is dynamically linked", path)
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) > 0 {
		t.Errorf("%s needs shared libraries %v", path, needed)
	}
}

// readArchive returns the files of the tar archive by name, or fails with
// the command that builds it.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `make image` first (`make test` does)", err)
	}
	files := map[string][]byte{}
	for name, f := range untar(t, data) {
		files[name] = f.data
	}
	return files
}

type tarFile struct {
	data []byte
	mode int64
}

func untar(t *testing.T, data []byte) map[string]tarFile {
	t.Helper()
	files := map[string]tarFile{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		header, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if header.Typeflag != tar.TypeReg {
			continue
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[header.Name] = tarFile{data: content, mode: header.Mode}
	}
}

// blob returns the blob a descriptor points to, checking its size and digest.
func blob(t *testing.T, blobs map[string][]byte, d ociDescriptor) []byte {
	t.Helper()
	algorithm, hexDigest, _ := strings.Cut(d.Digest, ":")
	data, ok := blobs["blobs/"+algorithm+"/"+hexDigest]
	if !ok {
		t.Fatalf("blob %s is not in the archive", d.Digest)
	}
	if algorithm != "sha256" || sha256Hex(data) != hexDigest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: digest or size (%d, want %d) does not match", d.Digest, len(data), d.Size)
	}
	return data
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func decode(t *testing.T, data []byte, into any) {
	t.Helper()
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
