package alongside_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/configstate"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/testenv"
)

var pool = netip.MustParsePrefix("198.51.100.0/24") // the seed's first-pool

var _ = Describe("frrgen alongside MetalLB's controller, on MetalLB's CRDs", Ordered, func() {
	addresses := map[string]string{}

	It("is installed by config/alongside-metallb without CRDs or namespaces, with allocation off", func() {
		var args []string
		for _, u := range overlay {
			Expect(u.GetKind()).NotTo(BeElementOf("CustomResourceDefinition", "Namespace"))
			if u.GetKind() == "Deployment" {
				containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
				for _, a := range containers[0].(map[string]any)["args"].([]any) {
					args = append(args, a.(string))
				}
			}
		}
		// startFrrgen runs with these settings.
		Expect(args).To(ContainElements("--allocate=false", "--metallb-schemas=metallb", "--service-bgp-status=auto"))
	})

	It("announces the Services MetalLB's controller assigns addresses to, from the seed's objects", func() {
		applySamples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml", "metallb.io_v1beta2_bgppeer_peer.yaml",
			"metallb.io_v1beta1_community_communities.yaml", "metallb.io_v1beta1_bgpadvertisement_local-community-alias.yaml")
		addresses["web"] = createService("web")
		for _, node := range []string{"node-a", "node-b"} {
			Eventually(announced).WithArguments(node).Should(ContainElement(addresses["web"] + "/32"))
		}
	})

	It("writes MetalLB's ServiceBGPStatus for every node announcing a service, in MetalLB's schema", func() {
		Eventually(bgpStatuses).WithArguments("web").Should(Equal(map[string][]any{"node-a": {"peer"}, "node-b": {"peer"}}))
	})

	It("leaves the IPAddressPool's status to MetalLB and reports validity in its ConfigurationState", func() {
		Eventually(poolStatus).Should(HaveKeyWithValue("assignedIPv4", BeEquivalentTo(1)))
		Expect(statusManagers("ipaddresspools", "first-pool")).NotTo(ContainElement(controllers.FieldManager))
		Eventually(configState).Should(And(HaveKeyWithValue("result", configstate.ResultValid), Not(HaveKey("errorSummary"))))
	})

	It("reports an invalid object in ConfigurationState and with one Warning Event, however many passes follow", func() {
		patchCommunityValue("1234:x")
		Eventually(configState).Should(And(HaveKeyWithValue("result", configstate.ResultInvalid),
			HaveKeyWithValue("errorSummary", ContainSubstring("Community metallb-system/communities: "))))
		Eventually(warnings).WithArguments("communities").Should(HaveLen(1))
		versions := metallbVersions()
		// Each new Service is a pass of frrgen's cluster reconciler.
		for _, name := range []string{"api", "db", "cache"} {
			createService(name)
			time.Sleep(time.Second)
		}
		Consistently(warnings).WithArguments("communities").WithTimeout(3*time.Second).Should(
			ConsistOf(HaveField("Series", BeNil())), "the Event recorded once: a repeat makes it a series")
		Expect(metallbVersions()).To(Equal(versions), "frrgen changed a metallb.io object")
	})

	It("reports the fix in ConfigurationState", func() {
		patchCommunityValue("1234:1")
		Eventually(configState).Should(And(HaveKeyWithValue("result", configstate.ResultValid), Not(HaveKey("errorSummary"))))
	})

	It("keeps working when MetalLB's controller restarts", func() {
		controller.Stop(5 * time.Second)
		startMetalLB()
		addresses["after-restart"] = createService("after-restart")
		Expect(addresses["after-restart"]).NotTo(Equal(addresses["web"]))
		Eventually(announced).WithArguments("node-a").Should(ContainElements(addresses["web"]+"/32", addresses["after-restart"]+"/32"))
		Consistently(controller.Exited).WithTimeout(2 * time.Second).Should(BeFalse())
	})

	It("never wrote the status of a metallb.io object", func() {
		Expect(metallbStatusWrites()).To(BeZero())
		Expect(statusManagers("ipaddresspools", "first-pool")).NotTo(ContainElement(controllers.FieldManager))
	})

	It("stops when the CRDs change under it, and starts again on MetalLB's", func() {
		setMarker("ipaddresspools.metallb.io", true) // now a mixed set
		Eventually(frrgenDone).Should(BeClosed())
		Expect(frrgenErr).To(MatchError(ContainSubstring("the metallb.io CRDs changed since start; restarting: mixed metallb.io CRDs: ipaddresspools.metallb.io are frrgen's")))
		setMarker("ipaddresspools.metallb.io", false)
		startFrrgen()
		addresses["after-frrgen-restart"] = createService("after-frrgen-restart")
		Eventually(announced).WithArguments("node-b").Should(ContainElement(addresses["after-frrgen-restart"] + "/32"))
	})
})

// bgpStatuses maps each node with a ServiceBGPStatus of frrgen's for the
// Service default/name to its status.peers, checking MetalLB's labels and
// fields (read unstructured: as MetalLB's schema stores them).
func bgpStatuses(g Gomega, name string) map[string][]any {
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("metallb.io/v1beta1")
	list.SetKind("ServiceBGPStatusList")
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(metallbNS), client.MatchingLabels{
		"app.kubernetes.io/managed-by": "frrgen", "metallb.io/service-name": name, "metallb.io/service-namespace": "default"})).To(Succeed())
	out := map[string][]any{}
	for _, o := range list.Items {
		status, _, _ := unstructured.NestedMap(o.Object, "status")
		g.Expect(status).To(HaveKeyWithValue("serviceName", name))
		g.Expect(status).To(HaveKeyWithValue("serviceNamespace", "default"))
		g.Expect(o.GetLabels()).To(HaveKeyWithValue("metallb.io/node", status["node"]))
		out[status["node"].(string)], _ = status["peers"].([]any)
	}
	return out
}

// setMarker adds or removes frrgen's schema label on a CRD.
func setMarker(crd string, on bool) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	Expect(k8s.Get(context.Background(), types.NamespacedName{Name: crd}, u)).To(Succeed())
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	if on {
		labels[schemas.MarkerLabel] = schemas.MarkerValue
	} else {
		delete(labels, schemas.MarkerLabel)
	}
	u.SetLabels(labels)
	Expect(k8s.Update(context.Background(), u)).To(Succeed())
}

// applySamples creates the seed's documents as written.
func applySamples(files ...string) {
	stream, err := testenv.Samples(files...)
	Expect(err).NotTo(HaveOccurred())
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := decoder.Decode(&u.Object); err == io.EOF {
			break
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		if len(u.Object) > 0 {
			Expect(k8s.Create(context.Background(), u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
		}
	}
}

// createService creates a LoadBalancer Service with a ready endpoint on
// node-a and returns the address MetalLB's controller gives it.
func createService(name string) string {
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
	Expect(k8s.Create(ctx, svc)).To(Succeed())
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.1"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To("node-a")}},
	}
	Expect(k8s.Create(ctx, slice)).To(Succeed())
	var ip string
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
		g.Expect(svc.Status.LoadBalancer.Ingress).To(HaveLen(1))
		ip = svc.Status.LoadBalancer.Ingress[0].IP
	}).WithTimeout(time.Minute).Should(Succeed(), "MetalLB's controller assigns %s an address", name)
	Expect(pool.Contains(netip.MustParseAddr(ip))).To(BeTrue(), ip)
	return ip
}

// announced lists the prefixes of node's FRRConfiguration of frrgen's.
func announced(node string) ([]string, error) {
	var config frrv1beta1.FRRConfiguration
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: frrk8sNS, Name: "frrgen-" + node}, &config); err != nil {
		return nil, err
	}
	var prefixes []string
	for _, r := range config.Spec.BGP.Routers {
		prefixes = append(prefixes, r.Prefixes...)
	}
	return prefixes, nil
}

func get(resource, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("metallb.io/v1beta1")
	u.SetKind(resource)
	Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: metallbNS, Name: name}, u)).To(Succeed())
	return u
}

func poolStatus() map[string]any {
	status, _, _ := unstructured.NestedMap(get("IPAddressPool", "first-pool").Object, "status")
	return status
}

func configState() map[string]any {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("metallb.io/v1beta1")
	u.SetKind("ConfigurationState")
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: metallbNS, Name: configstate.Name}, u); err != nil {
		return nil
	}
	status, _, _ := unstructured.NestedMap(u.Object, "status")
	return status
}

// statusManagers are the field managers of the object's status subresource.
func statusManagers(resource, name string) []string {
	kind := map[string]string{"ipaddresspools": "IPAddressPool"}[resource]
	var managers []string
	for _, f := range get(kind, name).GetManagedFields() {
		if f.Subresource == "status" {
			managers = append(managers, f.Manager)
		}
	}
	return managers
}

func patchCommunityValue(value string) {
	u := get("Community", "communities")
	communities, _, _ := unstructured.NestedSlice(u.Object, "spec", "communities")
	communities[0].(map[string]any)["value"] = value
	Expect(unstructured.SetNestedSlice(u.Object, communities, "spec", "communities")).To(Succeed())
	Expect(k8s.Update(context.Background(), u)).To(Succeed())
}

// warnings are the Warning Events regarding the Community name.
func warnings(name string) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(metallbNS)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Type == corev1.EventTypeWarning && e.Regarding.Kind == "Community" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out, nil
}

// metallbVersions are the resourceVersions of the metallb.io objects frrgen
// reads, except the pool (MetalLB's controller writes its status).
func metallbVersions() map[string]string {
	versions := map[string]string{}
	for kind, name := range map[string]string{"Community": "communities", "BGPAdvertisement": "local"} {
		versions[kind] = get(kind, name).GetResourceVersion()
	}
	peer := &unstructured.Unstructured{}
	peer.SetAPIVersion("metallb.io/v1beta2")
	peer.SetKind("BGPPeer")
	Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: metallbNS, Name: "peer"}, peer)).To(Succeed())
	versions["BGPPeer"] = peer.GetResourceVersion()
	return versions
}

// metallbStatusWrites counts, from the apiserver's own metrics, the requests
// (of anyone) to the status of the four kinds whose status only frrgen would
// write: MetalLB's controller writes none of them.
func metallbStatusWrites() float64 {
	clientset, err := kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())
	body, err := clientset.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	seen := false
	scanner := bufio.NewScanner(bytes.NewReader(body))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		seen = true
		if !strings.Contains(line, `group="metallb.io"`) || !strings.Contains(line, `subresource="status"`) {
			continue
		}
		for _, r := range []string{"bgppeers", "bgpadvertisements", "communities", "bfdprofiles"} {
			if strings.Contains(line, `resource="`+r+`"`) {
				v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
				Expect(err).NotTo(HaveOccurred(), line)
				total += v
			}
		}
	}
	Expect(seen).To(BeTrue(), "the apiserver exports apiserver_request_total")
	return total
}
