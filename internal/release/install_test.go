package release

import (
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestInstallOverlayDeploysTheImage: bin/install, written by `make image`,
// deploys the image tagged with the version the Makefile stamps, the same
// reference the OCI archive records; the committed base names no tag that
// could be pulled by mistake (no :latest).
func TestInstallOverlayDeploysTheImage(t *testing.T) {
	v := makeVersion(t)
	root := repoRoot(t)
	base := deploymentImages(t, filepath.Join(root, "config", "default"))
	if len(base) != 1 || base[0] != "ghcr.io/frrgen/frrgen:unstamped" {
		t.Errorf("config/default deploys %v, want only ghcr.io/frrgen/frrgen:unstamped", base)
	}
	images := deploymentImages(t, filepath.Join(root, "bin", "install"))
	if len(images) != 1 || !strings.HasSuffix(images[0], ":"+v.Version) {
		t.Fatalf("bin/install deploys %v, want one image tagged %s (run `make image`)", images, v.Version)
	}
	archive := readArchive(t, filepath.Join(root, "bin", "frrgen-"+v.Version+".oci.tar"))
	var index ociIndex
	decode(t, archive["index.json"], &index)
	if ref := index.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref != images[0] {
		t.Errorf("bin/install deploys %s, the archive holds %s", images[0], ref)
	}
}

// deploymentImages returns the container images of the Deployments that
// kustomize builds from dir.
func deploymentImages(t *testing.T, dir string) []string {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v (bin/install is written by `make image`)", dir, err)
	}
	var images []string
	for _, r := range resources.Resources() {
		if r.GetKind() != "Deployment" {
			continue
		}
		containers, err := r.GetSlice("spec.template.spec.containers")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range containers {
			images = append(images, c.(map[string]any)["image"].(string))
		}
	}
	return images
}
