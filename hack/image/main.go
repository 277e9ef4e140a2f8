// Command image builds frrgen's container image from the Containerfile at
// the repository root without a container engine: no daemon, no base image
// (FROM scratch), no root. It writes an OCI image layout as a tar archive
// (what `skopeo copy oci-archive:FILE ...` or `crane push FILE ...` read).
//
// The output is reproducible: file times and the image's creation time are
// -created (the commit time, from the Makefile), so one commit gives one
// digest.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// buildArgs collects repeated --build-arg NAME=VALUE flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b buildArgs) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("--build-arg %q: want NAME=VALUE", s)
	}
	b[name] = value
	return nil
}

func main() {
	args := buildArgs{}
	containerfile := flag.String("f", "Containerfile", "the Containerfile")
	contextDir := flag.String("context", ".", "directory COPY sources are relative to")
	ref := flag.String("tag", "", "image reference recorded in the archive (org.opencontainers.image.ref.name), e.g. ghcr.io/frrgen/frrgen:v0.1.0")
	created := flag.Int64("created", 0, "creation time of the image and its files, in Unix seconds")
	arch := flag.String("arch", runtime.GOARCH, "architecture of the binaries copied in")
	output := flag.String("o", "", "the OCI archive to write")
	flag.Var(args, "build-arg", "NAME=VALUE for an ARG of the Containerfile (repeatable)")
	flag.Parse()
	if *output == "" || *ref == "" {
		fmt.Fprintln(os.Stderr, "image: -o and -tag are required")
		os.Exit(2)
	}
	if err := build(*containerfile, *contextDir, args, *ref, time.Unix(*created, 0).UTC(), *arch, *output); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func build(containerfile, contextDir string, args buildArgs, ref string, created time.Time, arch, output string) error {
	r, err := readContainerfile(containerfile, args)
	if err != nil {
		return err
	}
	layerTar, err := filesLayer(r.Copies, contextDir, created)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: mustDiffIDs(layer)},
		Config:       v1.Config{Entrypoint: r.Entrypoint, User: r.User, Labels: r.Labels},
	})
	if err != nil {
		return err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	// The labels are also the manifest's annotations, where OCI tools
	// (and registries' UIs) look for version, source and revision.
	img = mutate.Annotations(img, r.Labels).(v1.Image)
	return writeArchive(img, ref, created, output)
}

func mustDiffIDs(layer v1.Layer) []v1.Hash {
	id, err := layer.DiffID()
	if err != nil {
		panic(err) // an in-memory layer cannot fail to hash
	}
	return []v1.Hash{id}
}

// filesLayer is an uncompressed tar of the COPY steps: files owned by root,
// keeping their permission bits, with time created.
func filesLayer(copies []copyStep, contextDir string, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, c := range copies {
		source := filepath.Join(contextDir, c.Source)
		info, err := os.Stat(source)
		if err != nil {
			return nil, fmt.Errorf("COPY %s: %w", c.Source, err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("COPY %s: only regular files are supported", c.Source)
		}
		data, err := os.ReadFile(source)
		if err != nil {
			return nil, err
		}
		header := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     strings.TrimPrefix(c.Destination, "/"),
			Mode:     int64(info.Mode().Perm()),
			Size:     int64(len(data)),
			ModTime:  created,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(header); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes img as an OCI image layout, tarred with sorted
// entries and fixed times, to output (atomically).
func writeArchive(img v1.Image, ref string, created time.Time, output string) error {
	dir, err := os.MkdirTemp(filepath.Dir(output), ".oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := path.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref,
	})); err != nil {
		return err
	}
	tmp := output + ".tmp"
	if err := tarDirectory(dir, tmp, created); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, output)
}

func tarDirectory(dir, output string, created time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		names = append(names, path)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	file, err := os.Create(output)
	if err != nil {
		return err
	}
	defer file.Close()
	tw := tar.NewWriter(file)
	for _, name := range names {
		info, err := os.Stat(name)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, name)
		header := &tar.Header{Name: filepath.ToSlash(rel), ModTime: created, Mode: 0o644, Format: tar.FormatPAX}
		if info.IsDir() {
			header.Typeflag, header.Name, header.Mode = tar.TypeDir, header.Name+"/", 0o755
			if err := tw.WriteHeader(header); err != nil {
				return err
			}
			continue
		}
		header.Typeflag, header.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(header); err != nil {
			return err
		}
		if err := copyFile(tw, name); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return file.Close()
}

func copyFile(w io.Writer, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
