package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/testenv"
	"github.com/frrgen/frrgen/internal/translate"
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "controllers")
}

var (
	env *testenv.Env
	k8s client.Client
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
	// quiet is how long a Consistently watches for unwanted writes.
	quiet = 4 * time.Second
)

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	env, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s = env.Client
	SetDefaultEventuallyTimeout(timeout)
	SetDefaultEventuallyPollingInterval(interval)
	SetDefaultConsistentlyDuration(quiet)
	SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
})

var _ = AfterSuite(func() {
	Expect(env.Stop()).To(Succeed())
})

// writeCounter counts the API writes of one manager's client, by verb and kind.
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
}

func (w *writeCounter) add(verb string, obj client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counts == nil {
		w.counts = map[string]int{}
	}
	w.counts[fmt.Sprintf("%s %T", verb, obj)]++
	w.total.Add(1)
}

// Total is the number of writes so far.
func (w *writeCounter) Total() int64 { return w.total.Load() }

func (w *writeCounter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for k, v := range w.counts {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// countingClient counts every write made through it (status included).
type countingClient struct {
	client.Client
	writes *writeCounter
}

func (c countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.writes.add("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.writes.add("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.writes.add("patch", obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.writes.add("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c countingClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	c.writes.add("deleteallof", obj)
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

func (c countingClient) Status() client.SubResourceWriter {
	return countingSubResource{SubResourceWriter: c.Client.Status(), writes: c.writes}
}

func (c countingClient) SubResource(name string) client.SubResourceClient {
	return countingSubResourceClient{SubResourceClient: c.Client.SubResource(name), writes: c.writes}
}

type countingSubResource struct {
	client.SubResourceWriter
	writes *writeCounter
}

func (c countingSubResource) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	c.writes.add("status-create", obj)
	return c.SubResourceWriter.Create(ctx, obj, sub, opts...)
}

func (c countingSubResource) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	c.writes.add("status-update", obj)
	return c.SubResourceWriter.Update(ctx, obj, opts...)
}

func (c countingSubResource) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	c.writes.add("status-patch", obj)
	return c.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

type countingSubResourceClient struct {
	client.SubResourceClient
	writes *writeCounter
}

func (c countingSubResourceClient) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	c.writes.add("subresource-update", obj)
	return c.SubResourceClient.Update(ctx, obj, opts...)
}

func (c countingSubResourceClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	c.writes.add("subresource-patch", obj)
	return c.SubResourceClient.Patch(ctx, obj, patch, opts...)
}

// runningManager is one frrgen manager started by a spec.
type runningManager struct {
	writes *writeCounter
	cancel context.CancelFunc
	done   chan struct{}
}

// startManager runs the real manager, as `frrgen controller` does, against
// the test apiserver, with a write-counting client. syncPeriod, when not 0,
// makes the informers resync that often. With allocation, the allocation
// controller runs too (`frrgen controller --allocate`); other specs set
// their Services' addresses themselves.
func startManager(options translate.Options, syncPeriod time.Duration, maxObjectBytes int, allocation ...bool) *runningManager {
	return startManagerAs(env.Config, options, syncPeriod, maxObjectBytes, allocation...)
}

// startManagerAs is startManager connecting with cfg (e.g. impersonating
// frrgen's ServiceAccount).
func startManagerAs(cfg *rest.Config, options translate.Options, syncPeriod time.Duration, maxObjectBytes int, allocation ...bool) *runningManager {
	setup := controllers.Config{Translate: options, OwnershipKeyNamespace: options.Namespace, NodeWorkers: 4, MaxObjectBytes: maxObjectBytes}
	return startManagerWith(cfg, setup, syncPeriod, slices.Contains(allocation, true))
}

// startManagerWith runs the manager with the given controllers.Config.
func startManagerWith(cfg *rest.Config, setup controllers.Config, syncPeriod time.Duration, allocation bool) *runningManager {
	options := setup.Translate
	writes := &writeCounter{}
	cacheOptions := controllers.CacheOptions(options)
	if syncPeriod > 0 {
		cacheOptions.SyncPeriod = &syncPeriod
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 controllers.Scheme(),
		Cache:                  cacheOptions,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Specs run one manager after another in one process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		NewClient: func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			c, err := client.New(cfg, opts)
			return countingClient{Client: c, writes: writes}, err
		},
	})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	Expect(controllers.Setup(ctx, mgr, setup)).To(Succeed())
	if allocation {
		Expect(controllers.SetupAllocation(mgr, options)).To(Succeed())
	}
	m := &runningManager{writes: writes, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(m.done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return m
}

func (m *runningManager) stop() {
	m.cancel()
	Eventually(m.done).Should(BeClosed())
}

// world isolates a spec: its own input and frr-k8s namespaces, its own
// speaker label (nodes are cluster-scoped) and its own loadBalancerClass
// (Services are read in every namespace).
type world struct {
	id      string
	in, out string
	options translate.Options
	mgr     *runningManager
	// maxObjectBytes, when set, splits node configurations past it.
	maxObjectBytes int
}

var worlds atomic.Int32

const worldLabel = "frrgen.test/world"

func newWorld() *world {
	id := fmt.Sprintf("w%d", worlds.Add(1))
	w := &world{id: id, in: id + "-metallb", out: id + "-frrk8s"}
	for _, ns := range []string{w.in, w.out} {
		Expect(k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	w.options = translate.Options{
		Namespace:           w.in,
		FRRK8sNamespace:     w.out,
		LoadBalancerClass:   "frrgen.test/" + id,
		SpeakerNodeSelector: labels.SelectorFromSet(labels.Set{worldLabel: id}),
		NamePrefix:          "frrgen-",
	}
	return w
}

// start runs the manager for the rest of the spec.
func (w *world) start() {
	w.mgr = startManager(w.options, 0, w.maxObjectBytes)
	DeferCleanup(func() { w.mgr.stop() })
}

// restart stops the manager and starts a new one.
func (w *world) restart(syncPeriod time.Duration) {
	w.mgr.stop()
	w.mgr = startManager(w.options, syncPeriod, w.maxObjectBytes)
}

// nodeName is the cluster-unique name of the world's node short.
func (w *world) nodeName(short string) string { return w.id + "-" + short }

// addNode creates a speaker node of this world with the hostname label
// frr-k8s selects on, plus extra labels.
func (w *world) addNode(short string, extra map[string]string) *corev1.Node {
	name := w.nodeName(short)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"kubernetes.io/hostname": name, worldLabel: w.id,
	}}}
	for k, v := range extra {
		node.Labels[k] = v
	}
	Expect(k8s.Create(context.Background(), node)).To(Succeed())
	DeferCleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(context.Background(), node)) })
	return node
}

// apply creates the objects of a multi-document YAML, moving metallb-system
// objects to the world's input namespace and frr-k8s-system ones to its
// frr-k8s namespace.
func (w *world) apply(yamlText string) []client.Object {
	decoder := serializer.NewCodecFactory(controllers.Scheme()).UniversalDeserializer()
	var created []client.Object
	for _, doc := range strings.Split(yamlText, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj, _, err := decoder.Decode([]byte(doc), nil, nil)
		Expect(err).NotTo(HaveOccurred(), doc)
		o := obj.(client.Object)
		switch o.GetNamespace() {
		case "metallb-system":
			o.SetNamespace(w.in)
		case "frr-k8s-system":
			o.SetNamespace(w.out)
		}
		Expect(k8s.Create(context.Background(), o)).To(Succeed(), doc)
		created = append(created, o)
	}
	return created
}

// addService creates a LoadBalancer Service of this world with ingress IP ip
// and one ready endpoint on each of the nodes (short names).
func (w *world) addService(name, ip string, policy corev1.ServiceExternalTrafficPolicy, nodes ...string) *corev1.Service {
	ctx := context.Background()
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeLoadBalancer,
			LoadBalancerClass:     ptr.To(w.options.LoadBalancerClass),
			ExternalTrafficPolicy: policy,
			Ports:                 []corev1.ServicePort{{Port: 80}},
		},
	}
	Expect(k8s.Create(ctx, service)).To(Succeed())
	// The controller may write the Service's condition meanwhile.
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(service), service); err != nil {
			return err
		}
		service.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		return k8s.Status().Update(ctx, service)
	})).To(Succeed())
	w.setEndpoints(name, nodes...)
	return service
}

// setEndpoints makes the service's only EndpointSlice have one ready
// endpoint on each of the nodes.
func (w *world) setEndpoints(service string, nodes ...string) {
	ctx := context.Background()
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: service}}
	err := k8s.Get(ctx, client.ObjectKeyFromObject(slice), slice)
	exists := err == nil
	if !exists {
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
	}
	slice.Labels = map[string]string{discoveryv1.LabelServiceName: service}
	slice.AddressType = discoveryv1.AddressTypeIPv4
	slice.Endpoints = nil
	for i, n := range nodes {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.244.0.%d", i+1)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(w.nodeName(n)),
		})
	}
	if exists {
		Expect(k8s.Update(ctx, slice)).To(Succeed())
	} else {
		Expect(k8s.Create(ctx, slice)).To(Succeed())
	}
}

// configKey is where frrgen writes the node's FRRConfiguration.
func (w *world) configKey(short string) client.ObjectKey {
	return client.ObjectKey{Namespace: w.out, Name: translate.ConfigName("frrgen-", w.nodeName(short))}
}

// config fetches the node's FRRConfiguration; nil when it does not exist.
func (w *world) config(short string) *frrv1beta1.FRRConfiguration {
	var c frrv1beta1.FRRConfiguration
	err := k8s.Get(context.Background(), w.configKey(short), &c)
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return &c
}

// view is a compact, comparable picture of one node's configuration.
type view struct {
	// Neighbors maps "address[@vrf]" to the neighbor's advertised prefixes.
	Neighbors map[string][]string
	// LocalPref maps "address/prefix" to the local preference.
	LocalPref map[string]uint32
	// Communities maps "address/prefix" to its communities, sorted.
	Communities map[string][]string
}

// viewOf returns the view of the node's configuration, or nil when absent.
func (w *world) viewOf(short string) *view {
	c := w.config(short)
	if c == nil {
		return nil
	}
	v := &view{Neighbors: map[string][]string{}, LocalPref: map[string]uint32{}, Communities: map[string][]string{}}
	for _, r := range c.Spec.BGP.Routers {
		for _, n := range r.Neighbors {
			id := n.Address + n.Interface
			if r.VRF != "" {
				id += "@" + r.VRF
			}
			v.Neighbors[id] = slices.Clone(n.ToAdvertise.Allowed.Prefixes)
			for _, lp := range n.ToAdvertise.PrefixesWithLocalPref {
				for _, p := range lp.Prefixes {
					v.LocalPref[id+" "+p] = lp.LocalPref
				}
			}
			for _, cm := range n.ToAdvertise.PrefixesWithCommunity {
				for _, p := range cm.Prefixes {
					v.Communities[id+" "+p] = append(v.Communities[id+" "+p], cm.Community)
				}
			}
		}
	}
	return v
}

// neighbors returns the advertised prefixes per neighbor of the node (nil map
// when the node has no configuration).
func (w *world) neighbors(short string) func() map[string][]string {
	return func() map[string][]string {
		v := w.viewOf(short)
		if v == nil {
			return nil
		}
		return v.Neighbors
	}
}

// eventsFor returns the notes of the events with reason recorded about the
// object kind/name in namespace.
func eventsFor(namespace, kind, name, reason string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8s.List(context.Background(), &list, client.InNamespace(namespace))).To(Succeed())
		var notes []string
		for _, e := range list.Items {
			if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason {
				notes = append(notes, e.Note)
			}
		}
		return notes
	}
}

// conditionOf reads a condition from obj's status after fetching it.
func conditionOf(obj client.Object, conditions func() []metav1.Condition, conditionType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		for _, c := range conditions() {
			if c.Type == conditionType {
				return &c
			}
		}
		return nil
	}
}

// edit reads obj afresh (its namespace and name must be set), applies change
// and updates it, retrying when the update races with a status write of the
// controller under test (BGPPeer, BGPAdvertisement) or with its own writes
// (frrgen's FRRConfigurations).
func edit(obj client.Object, change func()) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change()
		return k8s.Update(context.Background(), obj)
	})).To(Succeed())
}

// samples returns seed examples from config/samples as one YAML stream for
// world.apply, so the specs use the documents users apply, not copies.
func samples(files ...string) string {
	GinkgoHelper()
	yaml, err := testenv.Samples(files...)
	Expect(err).NotTo(HaveOccurred())
	return yaml
}

func metavOf(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func metavIn(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

func unstructuredFrom(object map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: object}
}
