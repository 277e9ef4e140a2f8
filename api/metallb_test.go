package api_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/procgroup"
)

// readCRDs reads every CustomResourceDefinition file of dir, by name.
func readCRDs(dir string) map[string]*apiextensionsv1.CustomResourceDefinition {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	crds := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(yaml.Unmarshal(data, crd)).To(Succeed(), f)
		crds[crd.Name] = crd
	}
	return crds
}

// metallbCRDs are MetalLB v0.15.2's CRDs and the ConfigurationState CRD
// v0.15.3 adds (its controller watches that kind too).
func metallbCRDs() map[string]*apiextensionsv1.CustomResourceDefinition {
	dir, err := metallbbin.CRDDir(env.RepoRoot)
	Expect(err).NotTo(HaveOccurred())
	crds := readCRDs(dir)
	file, err := metallbbin.ConfigurationStateCRD()
	Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(file)
	Expect(err).NotTo(HaveOccurred())
	configState := &apiextensionsv1.CustomResourceDefinition{}
	Expect(yaml.Unmarshal(data, configState)).To(Succeed(), file)
	crds[configState.Name] = configState
	return crds
}

func specSchema(crd *apiextensionsv1.CustomResourceDefinition, version string) apiextensionsv1.JSONSchemaProps {
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			return v.Schema.OpenAPIV3Schema.Properties["spec"]
		}
	}
	Fail(fmt.Sprintf("%s has no version %s", crd.Name, version))
	return apiextensionsv1.JSONSchemaProps{}
}

// shape is a schema's structure alone: types and property names, nested,
// without validation. Two versions whose fields have the same shape hold the
// same JSON, so the apiserver may convert between them by renaming the
// apiVersion (conversion strategy None).
func shape(s apiextensionsv1.JSONSchemaProps) string {
	var b strings.Builder
	b.WriteString(s.Type)
	if s.Items != nil && s.Items.Schema != nil {
		b.WriteString("[" + shape(*s.Items.Schema) + "]")
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		b.WriteString("{*:" + shape(*s.AdditionalProperties.Schema) + "}")
	}
	if len(s.Properties) > 0 {
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("{")
		for _, n := range names {
			b.WriteString(n + ":" + shape(s.Properties[n]) + ";")
		}
		b.WriteString("}")
	}
	return b.String()
}

var _ = Describe("beside MetalLB v0.15.2's controller", func() {
	It("serves every kind and version that MetalLB's CRDs serve", func() {
		for _, crd := range metallbCRDs() {
			for _, v := range crd.Spec.Versions {
				if !v.Served {
					continue
				}
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
				namespaced, err := k8s.IsObjectNamespaced(&unstructured.Unstructured{Object: map[string]any{
					"apiVersion": gvk.GroupVersion().String(), "kind": gvk.Kind}})
				Expect(err).NotTo(HaveOccurred(), "mapping %s, as MetalLB's controller does at start", gvk)
				Expect(namespaced).To(BeTrue(), gvk.String())
				list := &unstructured.UnstructuredList{}
				list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
				Expect(k8s.List(ctx, list, client.InNamespace(samplesNamespace))).To(Succeed(), "listing %s", gvk)
			}
		}
	})

	It("serves BGPPeer v1beta1 with MetalLB's v1beta1 fields, each the same JSON as in v1beta2 (so conversion None is exact)", func() {
		ours := readCRDs(filepath.Join(env.RepoRoot, "config", "crd", "bases"))["bgppeers.metallb.io"]
		Expect(ours.Spec.Conversion == nil || ours.Spec.Conversion.Strategy == apiextensionsv1.NoneConverter).To(BeTrue())
		theirs := metallbCRDs()["bgppeers.metallb.io"]
		v1beta1 := specSchema(ours, "v1beta1")
		Expect(shape(v1beta1)).To(Equal(shape(specSchema(theirs, "v1beta1"))), "frrgen's v1beta1 BGPPeer against MetalLB's")
		v1beta2 := specSchema(ours, "v1beta2")
		for name, field := range v1beta1.Properties {
			Expect(v1beta2.Properties).To(HaveKey(name), "v1beta1 field %s", name)
			Expect(shape(v1beta2.Properties[name])).To(Equal(shape(field)), "v1beta1 field %s in v1beta2", name)
		}
	})

	DescribeTable("the apiserver stores a v1beta1 BGPPeer as v1beta2.FromV1beta1 (render) reads it",
		func(name, spec string) {
			doc := "apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: " + name + ", namespace: " + samplesNamespace + "}\nspec: " + spec + "\n"
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
			Expect(k8s.Create(ctx, u)).To(Succeed())
			DeferCleanup(func() { Expect(k8s.Delete(ctx, u)).To(Succeed()) })

			var old metallbv1beta1.BGPPeer
			Expect(yaml.UnmarshalStrict([]byte(doc), &old)).To(Succeed())
			want := metallbv1beta2.FromV1beta1(&old).Spec
			if want.Port == 0 {
				want.Port = 179 // v1beta2's schema default, which render's translate applies too
			}
			var stored metallbv1beta2.BGPPeer
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(u), &stored)).To(Succeed())
			got, _ := json.Marshal(stored.Spec)
			wantJSON, _ := json.Marshal(want)
			Expect(string(got)).To(Equal(string(wantJSON)))
		},
		Entry("unset timers become 0s, as MetalLB's webhook makes them", "v1beta1-minimal", `{myASN: 64512, peerASN: 64501, peerAddress: 192.0.2.1}`),
		Entry("every v1beta1 field", "v1beta1-full", `{myASN: 64512, peerASN: 64501, peerAddress: 192.0.2.1, sourceAddress: 192.0.2.10, peerPort: 1179,
			holdTime: 90s, keepaliveTime: 30s, routerID: 10.0.0.1, password: secret, bfdProfile: fast, ebgpMultiHop: true,
			nodeSelectors: [{matchLabels: {rack: a}, matchExpressions: [{key: zone, operator: In, values: [z1]}]}]}`),
	)

	It("lets MetalLB's real controller start, assign IPs and restart", func() {
		bin := filepath.Join(env.RepoRoot, "bin", "metallb-controller")
		_, err := os.Stat(bin)
		Expect(err).NotTo(HaveOccurred(), "MetalLB v0.15.2's controller is built into bin/ by `make metallb`")
		const ns = "metallb-controller-test"
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		pool := &metallbv1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Name: "pool", Namespace: ns},
			Spec:       metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"203.0.113.0/30"}},
		}
		Expect(k8s.Create(ctx, pool)).To(Succeed())

		dir := GinkgoT().TempDir()
		kubeconfig := filepath.Join(dir, "kubeconfig")
		Expect(env.WriteKubeconfig(kubeconfig)).To(Succeed())
		logPath := filepath.Join(dir, "metallb-controller.log")
		start := func() *procgroup.Group {
			l, err := net.Listen("tcp", "127.0.0.1:0") // a free port for its metrics listener
			Expect(err).NotTo(HaveOccurred())
			port := l.Addr().(*net.TCPAddr).Port
			Expect(l.Close()).To(Succeed())
			g, err := procgroup.Start(logPath, nil, bin, "-kubeconfig", kubeconfig, "-namespace", ns,
				"-webhook-mode", "disabled", "-disable-cert-rotation", "-port", strconv.Itoa(port))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { g.Stop(10 * time.Second) })
			return g
		}
		log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
		ingressIP := func(name string) func() string {
			return func() string {
				svc := &corev1.Service{}
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil || len(svc.Status.LoadBalancer.Ingress) == 0 {
					return ""
				}
				return svc.Status.LoadBalancer.Ingress[0].IP
			}
		}
		createService := func(name string) {
			Expect(k8s.Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
					Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
			})).To(Succeed())
		}
		inPool := func(ip string) bool {
			a, err := netip.ParseAddr(ip)
			return err == nil && netip.MustParsePrefix("203.0.113.0/30").Contains(a)
		}

		first := start()
		createService("web")
		Eventually(ingressIP("web"), 30*time.Second, 200*time.Millisecond).Should(Satisfy(inPool), func() string { return log() })
		Consistently(first.Exited, 3*time.Second, 200*time.Millisecond).Should(BeFalse(), func() string { return log() })

		// A v1beta1 peer and an L2Advertisement, which MetalLB's controller
		// reads into its configuration; then the restart, where the issue saw
		// MetalLB's controller fail.
		for _, doc := range []string{
			"apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: old, namespace: " + ns + "}\nspec: {myASN: 64512, peerASN: 64501, peerAddress: 192.0.2.1}\n",
			"apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: " + ns + "}\nspec: {ipAddressPools: [pool]}\n",
		} {
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
			Expect(k8s.Create(ctx, u)).To(Succeed())
		}
		first.Stop(10 * time.Second)
		second := start()
		createService("api")
		Eventually(ingressIP("api"), 30*time.Second, 200*time.Millisecond).Should(Satisfy(inPool), func() string { return log() })
		Expect(ingressIP("api")()).NotTo(Equal(ingressIP("web")()))
		Consistently(second.Exited, 3*time.Second, 200*time.Millisecond).Should(BeFalse(), func() string { return log() })
		Expect(log()).NotTo(ContainSubstring("no matches for kind"))
	})
})
