// Package demo runs frrgen end to end on a throw-away control plane: a real
// kube-apiserver and etcd, the CRDs, three nodes, the seed examples from
// config/samples and two LoadBalancer services without addresses, with the
// controller running in-process (allocation included, as in standalone
// mode). It prints which address each service got from which pool and what
// frr-k8s would receive, then shows how a mistake is reported and recovered
// from. `frrgen demo` and `make demo` call Run.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/summary"
	"github.com/frrgen/frrgen/internal/testenv"
	"github.com/frrgen/frrgen/internal/translate"
)

const (
	metallbNamespace = "metallb-system"
	frrk8sNamespace  = "frr-k8s-system"
	fieldOwner       = "frrgen-demo"
	// shownNode is the node whose FRRConfiguration is printed as YAML.
	shownNode = "hosta"
	// mistakeAdvertisement is the BGPAdvertisement the demo breaks and fixes.
	mistakeAdvertisement = "local"
	mistakeAlias         = "no-advertize"
)

// samples are the seed examples the demo applies, from config/samples. They
// form one consistent configuration (the seed page reuses object names across
// examples, so not every sample can be applied together).
var samples = []string{
	"metallb.io_v1beta1_ipaddresspool_first-pool.yaml",
	"metallb.io_v1beta1_bgpadvertisement_local.yaml",
	"metallb.io_v1beta1_bgpadvertisement_external.yaml",
	"metallb.io_v1beta1_community_communities.yaml",
	"metallb.io_v1beta2_bgppeer_example-node-selectors.yaml",
}

//go:embed cluster.yaml
var clusterYAML []byte

// Options change what Run does.
type Options struct {
	// Keep leaves the control plane and the controller running after the tour,
	// writes a kubeconfig and waits for ctx to be cancelled (Ctrl-C).
	Keep bool
	// Timeout bounds each wait for the controller.
	Timeout time.Duration
}

// Run performs the tour, writing to out. It always stops what it started,
// also when ctx is cancelled.
func Run(ctx context.Context, out io.Writer, opts Options) (err error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	say(">> starting kube-apiserver and etcd on 127.0.0.1 (from bin/; first run after a build takes ~20s)")
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() {
		say(">> stopping the controller, kube-apiserver and etcd")
		if stopErr := env.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	c := env.Client

	say(">> creating namespaces, 3 nodes and 2 LoadBalancer services")
	for _, ns := range []string{metallbNamespace, frrk8sNamespace} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	if err := applyDocuments(ctx, c, "cluster.yaml", clusterYAML); err != nil {
		return err
	}

	ctrlCtx, stopController := context.WithCancel(ctx)
	controllerDone, err := startController(ctrlCtx, env)
	if err != nil {
		stopController()
		return err
	}
	defer func() {
		stopController()
		if ctrlErr := <-controllerDone; ctrlErr != nil && err == nil {
			err = fmt.Errorf("controller: %w", ctrlErr)
		}
	}()

	say(">> applying the seed examples from config/samples:")
	for _, name := range samples {
		say("     %s", name)
		data, err := os.ReadFile(filepath.Join(env.RepoRoot, "config", "samples", name))
		if err != nil {
			return err
		}
		if err := applyDocuments(ctx, c, name, data); err != nil {
			return err
		}
	}

	say(">> waiting for frrgen to give each LoadBalancer service an address")
	allocations, err := waitForAllocations(ctx, c, demoServices, opts.Timeout)
	if err != nil {
		return err
	}
	say("")
	say("== Addresses frrgen allocated ==")
	for _, a := range allocations {
		say("%s", a)
	}
	say("")
	say(">> waiting for frrgen to write one FRRConfiguration per node")
	configs, err := waitForConvergence(ctx, c, []string{"hosta", "hostb", "hostc"}, opts.Timeout)
	if err != nil {
		return err
	}
	say("")
	say("== What each node's frr-k8s receives ==")
	if err := summary.Table(out, configs); err != nil {
		return err
	}
	say("")
	say("== Why each Service is (not) announced: its %s condition ==", servicestatus.ConditionAnnounced)
	for _, name := range []string{"api", "web"} {
		cond, err := waitForAnnounced(ctx, c, client.ObjectKey{Namespace: "default", Name: name}, opts.Timeout)
		if err != nil {
			return err
		}
		say("default/%s  %s=%s reason=%s\n  %s", name, cond.Type, cond.Status, cond.Reason, cond.Message)
	}
	say("")
	say("== FRRConfiguration of %s ==", shownNode)
	if err := printConfigYAML(out, configs, shownNode); err != nil {
		return err
	}

	if err := showMistakeAndFix(ctx, c, out, configs, opts.Timeout); err != nil {
		return err
	}

	if opts.Keep {
		return keepRunning(ctx, env, out)
	}
	return nil
}

// startController runs frrgen's manager in-process, as `frrgen controller`
// would with default flags (allocation on) and without leader election.
func startController(ctx context.Context, env *testenv.Env) (<-chan error, error) {
	// The tour prints its own story; the controller's logs would drown it.
	log.SetLogger(logr.Discard())
	options := translate.Options{
		Namespace:           metallbNamespace,
		FRRK8sNamespace:     frrk8sNamespace,
		SpeakerNodeSelector: labels.Everything(),
		NamePrefix:          "frrgen-",
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 controllers.Scheme(),
		Cache:                  controllers.CacheOptions(options),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := controllers.Setup(ctx, mgr, controllers.Config{Translate: options, OwnershipKeyNamespace: metallbNamespace, NodeWorkers: 2}); err != nil {
		return nil, fmt.Errorf("setting up the controllers: %w", err)
	}
	if err := controllers.SetupAllocation(mgr, options); err != nil {
		return nil, fmt.Errorf("setting up the allocation controller: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}

// demoServices are the LoadBalancer services of cluster.yaml.
var demoServices = []client.ObjectKey{{Namespace: "default", Name: "web"}, {Namespace: "default", Name: "api"}}

// waitForAllocations waits until every service has an address in its
// status and an IPAllocated Event from frrgen saying from which pool, and
// returns one line per service: name, addresses, what the Event says.
func waitForAllocations(ctx context.Context, c client.Client, services []client.ObjectKey, timeout time.Duration) ([]string, error) {
	var lines []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		lines = lines[:0]
		for _, key := range services {
			var svc corev1.Service
			if err := c.Get(ctx, key, &svc); err != nil {
				return false, err
			}
			var ips []string
			for _, ing := range svc.Status.LoadBalancer.Ingress {
				ips = append(ips, ing.IP)
			}
			event, err := newestEvent(ctx, c, key, "Service", func(e *corev1.Event) bool { return e.Reason == controllers.ReasonIPAllocated })
			if err != nil || len(ips) == 0 || event == nil {
				return false, err
			}
			lines = append(lines, fmt.Sprintf("service %-12s %-15s  event %s: %s", key, strings.Join(ips, ","), event.Reason, event.Message))
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the services %v did not all get an address within %s: %w", services, timeout, err)
	}
	return lines, nil
}

// waitForConvergence waits until every node has its FRRConfiguration and two
// reads a second apart agree, then returns the configurations sorted by node.
func waitForConvergence(ctx context.Context, c client.Client, nodes []string, timeout time.Duration) ([]frrv1beta1.FRRConfiguration, error) {
	var last []frrv1beta1.FRRConfiguration
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		current, err := ourConfigs(ctx, c)
		if err != nil {
			return false, err
		}
		stable := len(current) == len(nodes) && sameSpecs(last, current)
		last = current
		return stable, nil
	})
	if err != nil {
		return nil, fmt.Errorf("frrgen did not write a stable FRRConfiguration for each of %v within %s (have %d): %w", nodes, timeout, len(last), err)
	}
	return last, nil
}

func ourConfigs(ctx context.Context, c client.Client) ([]frrv1beta1.FRRConfiguration, error) {
	var list frrv1beta1.FRRConfigurationList
	if err := c.List(ctx, &list, client.InNamespace(frrk8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}); err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return summary.NodeOf(&list.Items[i]) < summary.NodeOf(&list.Items[j])
	})
	return list.Items, nil
}

func sameSpecs(a, b []frrv1beta1.FRRConfiguration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !equality.Semantic.DeepEqual(a[i].Spec, b[i].Spec) {
			return false
		}
	}
	return true
}

func printConfigYAML(out io.Writer, configs []frrv1beta1.FRRConfiguration, node string) error {
	for i := range configs {
		if summary.NodeOf(&configs[i]) != node {
			continue
		}
		shown := configs[i].DeepCopy()
		// Server-managed metadata is noise for a reader.
		shown.ObjectMeta = metav1.ObjectMeta{
			Name: shown.Name, Namespace: shown.Namespace,
			Labels: shown.Labels, Annotations: shown.Annotations,
		}
		shown.APIVersion, shown.Kind = frrv1beta1.GroupVersion.String(), "FRRConfiguration"
		data, err := yaml.Marshal(struct {
			APIVersion string                          `json:"apiVersion"`
			Kind       string                          `json:"kind"`
			Metadata   metav1.ObjectMeta               `json:"metadata"`
			Spec       frrv1beta1.FRRConfigurationSpec `json:"spec"`
		}{shown.APIVersion, shown.Kind, shown.ObjectMeta, shown.Spec})
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	return fmt.Errorf("no FRRConfiguration for node %s", node)
}

// showMistakeAndFix breaks the "local" advertisement with an unknown
// community alias, shows the condition and Event frrgen produces and that no
// node configuration changed, then restores the advertisement.
func showMistakeAndFix(ctx context.Context, c client.Client, out io.Writer, before []frrv1beta1.FRRConfiguration, timeout time.Duration) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	key := client.ObjectKey{Namespace: metallbNamespace, Name: mistakeAdvertisement}

	var adv metallbv1beta1.BGPAdvertisement
	if err := c.Get(ctx, key, &adv); err != nil {
		return err
	}
	original := append([]metallbv1beta1.CommunityRef(nil), adv.Spec.Communities...)

	say("")
	say("== A mistake: BGPAdvertisement %s uses the unknown community alias %q ==", mistakeAdvertisement, mistakeAlias)
	if err := setCommunities(ctx, c, key, []metallbv1beta1.CommunityRef{mistakeAlias}); err != nil {
		return err
	}
	cond, err := waitForValid(ctx, c, key, metav1.ConditionFalse, timeout)
	if err != nil {
		return err
	}
	say("condition  Valid=%s reason=%s", cond.Status, cond.Reason)
	say("           %s", cond.Message)
	if event, err := latestEvent(ctx, c, key, timeout); err == nil {
		say("event      %s %s: %s", event.Type, event.Reason, event.Message)
	} else {
		say("event      (none found: %v)", err)
	}
	after, err := ourConfigs(ctx, c)
	if err != nil {
		return err
	}
	if sameSpecs(before, after) {
		say("FRRConfigurations: unchanged — the nodes it could change keep their last good configuration")
	} else {
		say("FRRConfigurations: CHANGED (unexpected: invalid input must not reach the nodes)")
	}

	say("")
	say("== The fix: restore the communities ==")
	if err := setCommunities(ctx, c, key, original); err != nil {
		return err
	}
	cond, err = waitForValid(ctx, c, key, metav1.ConditionTrue, timeout)
	if err != nil {
		return err
	}
	say("condition  Valid=%s reason=%s", cond.Status, cond.Reason)
	return nil
}

func setCommunities(ctx context.Context, c client.Client, key client.ObjectKey, communities []metallbv1beta1.CommunityRef) error {
	var adv metallbv1beta1.BGPAdvertisement
	if err := c.Get(ctx, key, &adv); err != nil {
		return err
	}
	patch := client.MergeFrom(adv.DeepCopy())
	adv.Spec.Communities = communities
	return c.Patch(ctx, &adv, patch)
}

// waitForValid waits until the object's Valid condition has the status and
// describes its current generation.
func waitForValid(ctx context.Context, c client.Client, key client.ObjectKey, status metav1.ConditionStatus, timeout time.Duration) (*metav1.Condition, error) {
	var found *metav1.Condition
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var adv metallbv1beta1.BGPAdvertisement
		if err := c.Get(ctx, key, &adv); err != nil {
			return false, err
		}
		cond := meta.FindStatusCondition(adv.Status.Conditions, metallbv1beta1.ConditionValid)
		if cond == nil || cond.Status != status || cond.ObservedGeneration != adv.Generation {
			return false, nil
		}
		found = cond
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("BGPAdvertisement %s never got Valid=%s: %w", key, status, err)
	}
	return found, nil
}

// waitForAnnounced returns the Service's frrgen.io/Announced condition once
// it has stayed the same for a second (the controller writes it when every
// node has acted on the input, so the first one may describe an earlier
// pass of the demo's setup).
func waitForAnnounced(ctx context.Context, c client.Client, key client.ObjectKey, timeout time.Duration) (*metav1.Condition, error) {
	var last *metav1.Condition
	var since time.Time
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var svc corev1.Service
		if err := c.Get(ctx, key, &svc); err != nil {
			return false, err
		}
		cond := meta.FindStatusCondition(svc.Status.Conditions, servicestatus.ConditionAnnounced)
		switch {
		case cond == nil:
			return false, nil
		case last == nil || cond.Message != last.Message || cond.Status != last.Status:
			last, since = cond, time.Now()
			return false, nil
		}
		return time.Since(since) >= time.Second, nil
	})
	if err != nil {
		return nil, fmt.Errorf("Service %s never got a steady %s condition: %w", key, servicestatus.ConditionAnnounced, err)
	}
	return last, nil
}

// latestEvent waits for a Warning Event about the BGPAdvertisement and
// returns the newest.
func latestEvent(ctx context.Context, c client.Client, key client.ObjectKey, timeout time.Duration) (*corev1.Event, error) {
	var found *corev1.Event
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		found, err = newestEvent(ctx, c, key, "BGPAdvertisement", func(e *corev1.Event) bool { return e.Type == corev1.EventTypeWarning })
		return found != nil, err
	})
	return found, err
}

// newestEvent returns the newest Event about the object of kind at key that
// match accepts, or nil.
func newestEvent(ctx context.Context, c client.Client, key client.ObjectKey, kind string, match func(*corev1.Event) bool) (*corev1.Event, error) {
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(key.Namespace)); err != nil {
		return nil, err
	}
	var found *corev1.Event
	for i := range events.Items {
		e := &events.Items[i]
		if e.InvolvedObject.Name != key.Name || e.InvolvedObject.Kind != kind || !match(e) {
			continue
		}
		if found == nil || eventTime(e).After(eventTime(found)) {
			found = e
		}
	}
	return found, nil
}

// eventTime is when the Event last happened: events.k8s.io Events (what
// frrgen's recorders write) set eventTime, not lastTimestamp.
func eventTime(e *corev1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.LastTimestamp.Time
}

// keepRunning writes a kubeconfig for the running control plane and waits
// for ctx to end.
func keepRunning(ctx context.Context, env *testenv.Env, out io.Writer) error {
	dir, err := os.MkdirTemp("", "frrgen-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env.Config, path); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n>> the control plane and frrgen keep running; explore with:\n     export KUBECONFIG=%s\n     kubectl get bgppeers,bgpadvertisements -A\n     kubectl get frrconfigurations -n %s -o yaml\n   press Ctrl-C to stop everything\n", path, frrk8sNamespace)
	<-ctx.Done()
	return nil
}

// applyDocuments server-side-applies every YAML document of data, the way
// `kubectl apply --server-side` would; a status in the document (Services'
// ingress IPs) is applied to the status subresource afterwards.
func applyDocuments(ctx context.Context, c client.Client, name string, data []byte) error {
	return manifest.EachDocument(name, bytes.NewReader(data), func(doc []byte) error {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return err
		}
		if len(obj.Object) == 0 {
			return nil // an empty document, e.g. after a trailing "---"
		}
		status, hasStatus := obj.Object["status"]
		delete(obj.Object, "status")
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), describeAPIError(err))
		}
		if !hasStatus {
			return nil
		}
		obj.Object["status"] = status
		obj.SetManagedFields(nil)
		obj.SetResourceVersion("")
		if err := c.Status().Patch(ctx, obj, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying the status of %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		return nil
	})
}

func describeAPIError(err error) error {
	if status, ok := err.(apierrors.APIStatus); ok {
		return errors.New(strings.TrimSpace(status.Status().Message))
	}
	return err
}

// writeKubeconfig writes a kubeconfig with the credentials of cfg, so that
// kubectl can reach the demo's apiserver.
func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["frrgen-demo"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["frrgen-demo"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["frrgen-demo"] = &clientcmdapi.Context{Cluster: "frrgen-demo", AuthInfo: "frrgen-demo"}
	kc.CurrentContext = "frrgen-demo"
	return clientcmd.WriteToFile(*kc, path)
}
