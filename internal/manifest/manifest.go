// Package manifest reads Kubernetes objects from YAML files, as kubectl
// apply would take them, into typed objects: the metallb.io kinds frrgen
// reads, core Nodes, Services, Secrets and Namespaces, EndpointSlices and
// frr-k8s FRRConfigurations. It also reads a MetalLB backup: the kinds such a
// backup holds that frrgen does not use are skipped and counted, and
// metallb.io/v1beta1 BGPPeers are converted to v1beta2 as MetalLB does.
package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

// skippedKinds are the kinds a MetalLB or frr-k8s installation's backup
// holds that frrgen does not read, in any version, with the reason the note
// gives. Anything else frrgen does not read is an error: a typo in a kind must
// not silently drop an input.
var skippedKinds = map[schema.GroupKind]string{
	{Group: metallbv1beta1.GroupVersion.Group, Kind: "L2Advertisement"}:    "frrgen announces over BGP only",
	{Group: metallbv1beta1.GroupVersion.Group, Kind: "ServiceL2Status"}:    "status written by MetalLB's speakers",
	{Group: metallbv1beta1.GroupVersion.Group, Kind: "ServiceBGPStatus"}:   "status written by MetalLB's speakers or frrgen",
	{Group: metallbv1beta1.GroupVersion.Group, Kind: "ConfigurationState"}: "status written by MetalLB",
	{Group: frrv1beta1.GroupVersion.Group, Kind: "FRRNodeState"}:           "status written by frr-k8s",
	{Group: frrv1beta1.GroupVersion.Group, Kind: "BGPSessionState"}:        "status written by frr-k8s",
	{Group: corev1.GroupName, Kind: "Endpoints"}:                           "frrgen reads EndpointSlices",
}

// Objects holds everything read, in file order.
type Objects struct {
	Pools             []metallbv1beta1.IPAddressPool
	Peers             []metallbv1beta2.BGPPeer
	Advertisements    []metallbv1beta1.BGPAdvertisement
	Communities       []metallbv1beta1.Community
	BFDProfiles       []metallbv1beta1.BFDProfile
	Nodes             []corev1.Node
	Services          []corev1.Service
	EndpointSlices    []discoveryv1.EndpointSlice
	Secrets           []corev1.Secret
	Namespaces        []corev1.Namespace
	FRRConfigurations []frrv1beta1.FRRConfiguration

	// Skipped counts the documents of skippedKinds, by "apiVersion kind".
	Skipped map[string]int
	// ConvertedPeers counts the metallb.io/v1beta1 BGPPeers read into Peers.
	ConvertedPeers int
}

// Notes says what was read differently from what the files say: one line per
// skipped kind, and one for the converted v1beta1 BGPPeers. They are not
// errors; render and merge print them on stderr.
func (o *Objects) Notes() []string {
	var notes []string
	for _, key := range slices.Sorted(maps.Keys(o.Skipped)) {
		apiVersion, kind, _ := strings.Cut(key, " ")
		gk := schema.FromAPIVersionAndKind(apiVersion, kind).GroupKind()
		notes = append(notes, fmt.Sprintf("skipped %d %s document(s): %s", o.Skipped[key], key, skippedKinds[gk]))
	}
	if o.ConvertedPeers > 0 {
		notes = append(notes, fmt.Sprintf("read %d metallb.io/v1beta1 BGPPeer document(s) as MetalLB converts them to v1beta2: an unset holdTime or keepaliveTime becomes 0s, which turns the BGP hold timer and keepalives off", o.ConvertedPeers))
	}
	return notes
}

// Snapshot returns the objects translate.Build reads.
func (o *Objects) Snapshot() translate.Snapshot {
	return translate.Snapshot{
		Pools:          o.Pools,
		Peers:          o.Peers,
		Advertisements: o.Advertisements,
		Communities:    o.Communities,
		BFDProfiles:    o.BFDProfiles,
		Nodes:          o.Nodes,
		Services:       o.Services,
		EndpointSlices: o.EndpointSlices,
		Secrets:        o.Secrets,
	}
}

// DefaultNamespaces gives a namespace to the namespaced objects written
// without one, as kubectl apply -n would: MetalLB objects and Secrets go to
// metallbNamespace, Services and EndpointSlices to "default",
// FRRConfigurations to frrk8sNamespace.
func (o *Objects) DefaultNamespaces(metallbNamespace, frrk8sNamespace string) {
	set := func(m *metav1.ObjectMeta, ns string) {
		if m.Namespace == "" {
			m.Namespace = ns
		}
	}
	for i := range o.Pools {
		set(&o.Pools[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.Peers {
		set(&o.Peers[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.Advertisements {
		set(&o.Advertisements[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.Communities {
		set(&o.Communities[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.BFDProfiles {
		set(&o.BFDProfiles[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.Secrets {
		set(&o.Secrets[i].ObjectMeta, metallbNamespace)
	}
	for i := range o.Services {
		set(&o.Services[i].ObjectMeta, metav1.NamespaceDefault)
	}
	for i := range o.EndpointSlices {
		set(&o.EndpointSlices[i].ObjectMeta, metav1.NamespaceDefault)
	}
	for i := range o.FRRConfigurations {
		set(&o.FRRConfigurations[i].ObjectMeta, frrk8sNamespace)
	}
}

// Load reads every path: a file, or a directory searched recursively for
// *.yaml and *.yml files (in lexical order). "-" reads standard input.
func Load(paths ...string) (*Objects, error) {
	o := &Objects{}
	for _, p := range paths {
		if p == "-" {
			if err := o.Read("<stdin>", os.Stdin); err != nil {
				return nil, err
			}
			continue
		}
		files, err := yamlFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := o.readFile(f); err != nil {
				return nil, err
			}
		}
	}
	return o, nil
}

func yamlFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

func (o *Objects) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return o.Read(path, f)
}

// Read adds the objects of a multi-document YAML stream; name is used in
// errors.
func (o *Objects) Read(name string, r io.Reader) error {
	return EachDocument(name, r, o.decode)
}

// EachDocument calls fn with every document of a multi-document YAML stream,
// in order; an error names the stream and the document's index.
func EachDocument(name string, r io.Reader, fn func(doc []byte) error) error {
	docs := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for index := 0; ; index++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			err = fn(doc)
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, index, err)
		}
	}
}

// decode adds one document (possibly a v1 List) to o.
func (o *Objects) decode(doc []byte) error {
	if len(bytes.TrimSpace(stripComments(doc))) == 0 {
		return nil // an empty document, e.g. after a trailing "---"
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	if tm.APIVersion == "v1" && tm.Kind == "List" {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		if err := yaml.Unmarshal(doc, &list); err != nil {
			return err
		}
		for i, item := range list.Items {
			raw, err := yaml.Marshal(item)
			if err == nil {
				err = o.decode(raw)
			}
			if err != nil {
				return fmt.Errorf("items[%d]: %w", i, err)
			}
		}
		return nil
	}
	gvk := tm.GroupVersionKind()
	if _, skip := skippedKinds[gvk.GroupKind()]; skip {
		if o.Skipped == nil {
			o.Skipped = map[string]int{}
		}
		o.Skipped[tm.APIVersion+" "+tm.Kind]++
		return nil
	}
	if gvk.Group == metallbv1beta1.GroupVersion.Group {
		// A backup holds the status MetalLB wrote, in MetalLB's schema; frrgen
		// reads no metallb.io status, so it is dropped before strict decoding.
		var err error
		if doc, err = withoutStatus(doc); err != nil {
			return err
		}
	}
	switch gvk.String() {
	case metallbv1beta1.GroupVersion.WithKind("BGPPeer").String():
		var old []metallbv1beta1.BGPPeer
		if err := decodeInto(doc, &old); err != nil {
			return err
		}
		o.Peers = append(o.Peers, metallbv1beta2.FromV1beta1(&old[0]))
		o.ConvertedPeers++
		return nil
	case metallbv1beta1.GroupVersion.WithKind("IPAddressPool").String():
		return decodeInto(doc, &o.Pools)
	case metallbv1beta2.GroupVersion.WithKind("BGPPeer").String():
		return decodeInto(doc, &o.Peers)
	case metallbv1beta1.GroupVersion.WithKind("BGPAdvertisement").String():
		return decodeInto(doc, &o.Advertisements)
	case metallbv1beta1.GroupVersion.WithKind("Community").String():
		return decodeInto(doc, &o.Communities)
	case metallbv1beta1.GroupVersion.WithKind("BFDProfile").String():
		return decodeInto(doc, &o.BFDProfiles)
	case corev1.SchemeGroupVersion.WithKind("Node").String():
		return decodeInto(doc, &o.Nodes)
	case corev1.SchemeGroupVersion.WithKind("Service").String():
		return decodeInto(doc, &o.Services)
	case corev1.SchemeGroupVersion.WithKind("Namespace").String():
		return decodeInto(doc, &o.Namespaces)
	case corev1.SchemeGroupVersion.WithKind("Secret").String():
		if err := decodeInto(doc, &o.Secrets); err != nil {
			return err
		}
		foldStringData(&o.Secrets[len(o.Secrets)-1])
		return nil
	case discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice").String():
		return decodeInto(doc, &o.EndpointSlices)
	case frrv1beta1.GroupVersion.WithKind("FRRConfiguration").String():
		return decodeInto(doc, &o.FRRConfigurations)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return fmt.Errorf("apiVersion and kind must be set")
	}
	return fmt.Errorf("unsupported kind %s %s; frrgen reads metallb.io IPAddressPool, BGPAdvertisement, Community, BFDProfile (v1beta1) and BGPPeer (v1beta1, v1beta2), v1 Node, Service, Secret, Namespace, discovery.k8s.io/v1 EndpointSlice and frrk8s.metallb.io/v1beta1 FRRConfiguration", tm.APIVersion, tm.Kind)
}

// withoutStatus returns doc without its top-level status.
func withoutStatus(doc []byte) ([]byte, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, err
	}
	if _, ok := obj["status"]; !ok {
		return doc, nil
	}
	delete(obj, "status")
	return yaml.Marshal(obj)
}

// decodeInto decodes strictly, so that a misspelt field is an error rather
// than silently ignored.
func decodeInto[T any](doc []byte, into *[]T) error {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return err
	}
	*into = append(*into, obj)
	return nil
}

// foldStringData does what the apiserver does on write: stringData entries
// become data entries.
func foldStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}
