package metallbbin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/procgroup"
	"github.com/frrgen/frrgen/internal/snapshotgen"
	"github.com/frrgen/frrgen/internal/testenv"
	"github.com/frrgen/frrgen/internal/translate"
)

// TestSpeakerAgreesWithMetalLB is the differential test of frrgen's
// translation against MetalLB v0.15.2's real speaker (frr-k8s mode): it
// applies generated cluster snapshots (internal/snapshotgen) to one
// apiserver with MetalLB's CRDs, runs one speaker per node, and compares
// every node's metallb-<node> FRRConfiguration with the one translate.Build
// gives, as frr-k8s would render them (internal/merge: order, defaults and
// names do not count). The only differences allowed are those of
// allowedDifferences; the count of agreeing snapshots and of every allowed
// difference is logged at the end.
//
// Snapshots run in parallel groups, each with its own MetalLB namespace,
// loadBalancerClass (group 0: none), node names and speakers; every
// speaker runs for the whole test. FRRGEN_SPEAKER_DIFF_SNAPSHOTS sets the
// number of snapshots (default 100).
func TestSpeakerAgreesWithMetalLB(t *testing.T) {
	snapshots := positiveFromEnv(t, "FRRGEN_SPEAKER_DIFF_SNAPSHOTS", 100)
	// The dry-run creates of asStored draw "unknown field" warnings by design.
	ctrllog.SetLogger(logr.Discard())
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metallbbin.SpeakerBinary(root); err != nil {
		t.Fatal(err)
	}
	c, kubeconfig := startMetalLBControlPlane(t, root, "10.0.0.0/16")
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: diffFRRK8sNS}})

	groups := make([]*speakerGroup, diffGroups)
	for g := range groups {
		groups[g] = startSpeakerGroup(t, c, root, kubeconfig, g)
	}
	var (
		mu      sync.Mutex
		tally   = map[string]int{}
		covered = map[string]int{}
		agreed  int
		skipped int
		wg      sync.WaitGroup
	)
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g.index; i < snapshots; i += diffGroups {
				ok, used, invalid, seen, err := g.run(i)
				mu.Lock()
				for k, v := range seen {
					covered[k] += v
				}
				skipped += invalid
				if ok {
					agreed++
				}
				for _, name := range used {
					tally[name]++
				}
				mu.Unlock()
				if err != nil {
					t.Errorf("snapshot %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	var report []string
	for _, d := range allowedDifferences {
		report = append(report, fmt.Sprintf("  %-26s %3d node configurations: %s", d.name, tally[d.name], d.reason))
	}
	t.Logf("%d of %d snapshots agree with MetalLB's speaker (%d generated inputs that frrgen finds invalid were replaced); compared: %v; allowed differences:\n%s",
		agreed, snapshots, skipped, covered, strings.Join(report, "\n"))
	if agreed != snapshots {
		t.Errorf("%d snapshots disagree", snapshots-agreed)
	}
	// Guard the test's usefulness: many node configurations must announce
	// something, or agreement would mostly be about empty configurations.
	if covered["nodes"] == 0 || covered["nodes announcing"]*3 < covered["nodes"] {
		t.Errorf("only %d of %d node configurations announce a prefix: the generator explores too little", covered["nodes announcing"], covered["nodes"])
	}
}

// allowedDifference is one documented way frrgen's output may differ from
// MetalLB's speaker's. apply rewrites MetalLB's effective configuration
// (and reads frrgen's) so that the difference disappears, and reports
// whether it changed anything.
type allowedDifference struct {
	name   string
	reason string
	apply  func(metallb, frrgen *merge.Effective) bool
}

// allowedDifferences is the one list of differences the differential
// accepts (README: "Differences from MetalLB's speaker").
var allowedDifferences = []allowedDifference{
	{
		name:   "unused BFD profiles",
		reason: "MetalLB writes every BFDProfile to every node; frrgen only those the node's neighbors use (DESIGN: better than MetalLB, 2)",
		apply: func(metallb, _ *merge.Effective) bool {
			used := map[string]bool{}
			for _, r := range metallb.Routers {
				for _, n := range r.Neighbors {
					used[n.BFDProfile] = true
				}
			}
			before := len(metallb.BFDProfiles)
			metallb.BFDProfiles = slices.DeleteFunc(metallb.BFDProfiles, func(p merge.BFDProfile) bool { return !used[p.Name] })
			return len(metallb.BFDProfiles) != before
		},
	},
}

const (
	diffGroups   = 5
	diffFRRK8sNS = "frr-k8s-system"
	diffNodes    = 3 // snapshotgen makes at most 3 nodes: one speaker each
	// The speaker writes its FRRConfiguration 3 s after the first change it
	// sees (its debouncer); agreement counts once it holds from
	// lastWrite+diffSettle for diffStable.
	diffSettle  = 3500 * time.Millisecond
	diffStable  = 1500 * time.Millisecond
	diffTimeout = 20 * time.Second
)

// speakerGroup is one MetalLB namespace with its speakers, running one
// snapshot at a time.
type speakerGroup struct {
	t        *testing.T
	c        client.Client
	index    int
	gen      snapshotgen.Config
	logs     map[string]string // node -> speaker log
	services []client.Object   // the current snapshot's Services and EndpointSlices
}

func startSpeakerGroup(t *testing.T, c client.Client, root, kubeconfig string, index int) *speakerGroup {
	g := &speakerGroup{t: t, c: c, index: index, logs: map[string]string{}, gen: snapshotgen.Config{
		Namespace: fmt.Sprintf("diff-%d", index),
		Prefix:    fmt.Sprintf("g%d-", index),
	}}
	if index > 0 {
		g.gen.LoadBalancerClass = fmt.Sprintf("example.com/diff-%d", index)
	}
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: g.gen.Namespace}})
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: g.scratchNS()}})
	mustCreate(t, c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: g.gen.Namespace, Name: "default"}})
	for i := range diffNodes {
		node := fmt.Sprintf("%snode-%d", g.gen.Prefix, i)
		pod := "speaker-" + node
		mustCreate(t, c, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: g.gen.Namespace, Name: pod},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "speaker", Image: "quay.io/metallb/speaker:v0.15.2"}}}})
		g.logs[node] = filepath.Join(filepath.Dir(kubeconfig), "speaker-"+node+".log")
		sp, err := metallbbin.StartSpeaker(root, metallbbin.SpeakerOptions{Kubeconfig: kubeconfig, Namespace: g.gen.Namespace,
			FRRK8sNamespace: diffFRRK8sNS, NodeName: node, PodName: pod, LBClass: g.gen.LoadBalancerClass, LogPath: g.logs[node]})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopSpeaker(t, sp, g.logs[node]) })
	}
	return g
}

func stopSpeaker(t *testing.T, sp *procgroup.Group, log string) {
	exited := sp.Exited()
	sp.Stop(5 * time.Second)
	if exited {
		t.Errorf("the speaker exited early; end of %s:\n%s", log, tail(log, 40))
	}
}

// run generates snapshot i (replacing inputs frrgen finds invalid, which
// MetalLB's speaker would refuse or take partly), applies it and compares.
// It returns whether every node agreed, the allowed differences used, the
// number of inputs replaced and what the expected configurations hold.
func (g *speakerGroup) run(i int) (bool, []string, int, map[string]int, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 14))
	opts := translate.Options{Namespace: g.gen.Namespace, FRRK8sNamespace: diffFRRK8sNS, LoadBalancerClass: g.gen.LoadBalancerClass, NamePrefix: "frrgen-"}
	var (
		snap    translate.Snapshot
		result  translate.Result
		invalid int
	)
	for {
		data := make([]byte, 256) // enough that no choice falls back to zero bytes
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		stored, err := g.asStored(snapshotgen.FromBytes(data, g.gen))
		if err != nil {
			return false, nil, invalid, nil, err
		}
		snap = stored
		if result = translate.Build(snap, opts); result.Valid {
			break
		}
		invalid++
	}
	lastWrite, err := g.apply(snap)
	if err != nil {
		return false, nil, invalid, nil, err
	}
	want := map[string]expected{}
	for _, n := range snap.Nodes {
		var ours []frrv1beta1.FRRConfiguration
		for _, cfg := range result.Configs {
			if cfg.Annotations[translate.AnnotationNode] == n.Name {
				ours = append(ours, cfg)
			}
		}
		eff, err := effective(ours, n.Labels)
		if err != nil {
			return false, nil, invalid, nil, fmt.Errorf("frrgen's configuration of %s: %v", n.Name, err)
		}
		want[n.Name] = expected{eff, ours}
	}
	seen := coverage(want)
	var agreeSince time.Time
	var used []string
	var problem string
	deadline := lastWrite.Add(diffTimeout)
	for {
		used, problem = g.compare(snap, want)
		now := time.Now()
		switch {
		case problem != "":
			agreeSince = time.Time{}
		case agreeSince.IsZero():
			agreeSince = now
		}
		if problem == "" && now.Sub(lastWrite) >= diffSettle && now.Sub(agreeSince) >= diffStable {
			return true, used, invalid, seen, nil
		}
		if now.After(deadline) {
			return false, nil, invalid, seen, fmt.Errorf("MetalLB's speaker and frrgen disagree:\n%s\nsnapshot:\n%s%s", problem, describeSnapshot(snap), g.speakerErrors())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// asStored is snap as the apiserver stores it with MetalLB v0.15.2's CRDs,
// which is what both MetalLB's speaker and frrgen's controller read: its
// MetalLB objects go through a dry-run create in the group's scratch
// namespace, which drops the fields MetalLB's schema lacks (v0.15.2's
// BGPAdvertisement has no serviceSelectors).
func (g *speakerGroup) asStored(snap translate.Snapshot) (translate.Snapshot, error) {
	ctx := context.Background()
	for _, k := range metallbKinds(&snap) {
		for _, obj := range k.objs {
			u, err := toUnstructured(obj, k.gvk.GroupVersion().String(), k.gvk.Kind)
			if err != nil {
				return snap, err
			}
			u.SetNamespace(g.scratchNS())
			if err := g.c.Create(ctx, u, client.DryRunAll); err != nil {
				return snap, fmt.Errorf("dry-run create of %s %s: %w", k.gvk.Kind, obj.GetName(), err)
			}
			data, err := json.Marshal(u.Object["spec"])
			if err != nil {
				return snap, err
			}
			if err := json.Unmarshal(data, specOf(obj)); err != nil {
				return snap, err
			}
		}
	}
	return snap, nil
}

func (g *speakerGroup) scratchNS() string { return g.gen.Namespace + "-scratch" }

// specOf returns a pointer to the spec of one of the MetalLB objects.
func specOf(obj client.Object) any {
	switch o := obj.(type) {
	case *metallbv1beta1.IPAddressPool:
		o.Spec = metallbv1beta1.IPAddressPoolSpec{}
		return &o.Spec
	case *metallbv1beta1.Community:
		o.Spec = metallbv1beta1.CommunitySpec{}
		return &o.Spec
	case *metallbv1beta1.BFDProfile:
		o.Spec = metallbv1beta1.BFDProfileSpec{}
		return &o.Spec
	case *metallbv1beta2.BGPPeer:
		o.Spec = metallbv1beta2.BGPPeerSpec{}
		return &o.Spec
	case *metallbv1beta1.BGPAdvertisement:
		o.Spec = metallbv1beta1.BGPAdvertisementSpec{}
		return &o.Spec
	}
	panic(fmt.Sprintf("specOf: %T is not a MetalLB object", obj))
}

type kindObjects struct {
	gvk  schema.GroupVersionKind
	objs []client.Object
}

// metallbKinds lists snap's MetalLB objects by kind, pointing into snap.
func metallbKinds(snap *translate.Snapshot) []kindObjects {
	return []kindObjects{
		{testenv.IPAddressPoolGVK, objects(snap.Pools)},
		{testenv.CommunityGVK, objects(snap.Communities)},
		{testenv.BFDProfileGVK, objects(snap.BFDProfiles)},
		{testenv.BGPPeerGVK, objects(snap.Peers)},
		{testenv.BGPAdvertisementGVK, objects(snap.Advertisements)},
	}
}

// expected is frrgen's output for one node: its objects and what frr-k8s
// renders from them.
type expected struct {
	effective *merge.Effective
	configs   []frrv1beta1.FRRConfiguration
}

// coverage counts what the expected configurations exercise.
func coverage(want map[string]expected) map[string]int {
	c := map[string]int{}
	for _, w := range want {
		eff := w.effective
		c["nodes"]++
		announcing := false
		for _, r := range eff.Routers {
			if r.VRF != "" {
				c["VRF routers"]++
			}
			for _, n := range r.Neighbors {
				c["neighbors"]++
				a := n.Advertise
				if len(a.PrefixesV4)+len(a.PrefixesV6) > 0 {
					announcing = true
				}
				if len(a.PrefixesV6) > 0 {
					c["neighbors announcing IPv6"]++
				}
				if len(a.LocalPrefs) > 0 {
					c["neighbors with localPref"]++
				}
				if len(a.Communities) > 0 {
					c["neighbors with communities"]++
				}
			}
		}
		if announcing {
			c["nodes announcing"]++
		}
	}
	return c
}

// compare reads every node's metallb-<node> configuration and compares it
// with want, after the allowed differences. The two must also merge, as
// frr-k8s merges them while both controllers run during a migration.
func (g *speakerGroup) compare(snap translate.Snapshot, want map[string]expected) ([]string, string) {
	var used, problems []string
	for _, n := range snap.Nodes {
		var theirs []frrv1beta1.FRRConfiguration
		var cfg frrv1beta1.FRRConfiguration
		err := g.c.Get(context.Background(), types.NamespacedName{Namespace: diffFRRK8sNS, Name: "metallb-" + n.Name}, &cfg)
		switch {
		case err == nil:
			theirs = append(theirs, cfg)
		case !apierrors.IsNotFound(err):
			return nil, err.Error()
		}
		got, err := effective(theirs, n.Labels)
		if err != nil {
			problems = append(problems, fmt.Sprintf("node %s: MetalLB's configuration does not merge: %v", n.Name, err))
			continue
		}
		if _, _, conflict := merge.ForNode(append(slices.Clone(theirs), want[n.Name].configs...), n.Labels, nil); conflict != nil {
			problems = append(problems, fmt.Sprintf("node %s: MetalLB's and frrgen's configurations do not merge: %v", n.Name, conflict))
			continue
		}
		ours := *want[n.Name].effective
		for _, d := range allowedDifferences {
			if d.apply(got, &ours) {
				used = append(used, d.name)
			}
		}
		normalize(got)
		normalize(&ours)
		if diff := cmp.Diff(got, &ours); diff != "" {
			problems = append(problems, fmt.Sprintf("node %s, MetalLB (-) frrgen (+):\n%s", n.Name, diff))
		}
	}
	return used, strings.Join(problems, "\n")
}

// effective is what frr-k8s renders from configs on a node with labels;
// no configuration is an empty one.
func effective(configs []frrv1beta1.FRRConfiguration, labels map[string]string) (*merge.Effective, error) {
	eff, _, conflict := merge.ForNode(configs, labels, nil)
	if conflict != nil {
		return nil, conflict
	}
	eff.Configs = nil
	normalize(eff)
	return eff, nil
}

// normalize drops what frr-k8s renders as nothing: routers without
// neighbors or prefixes, empty lists.
func normalize(eff *merge.Effective) {
	eff.Routers = slices.DeleteFunc(eff.Routers, func(r merge.Router) bool {
		return len(r.Neighbors) == 0 && len(r.PrefixesV4) == 0 && len(r.PrefixesV6) == 0
	})
	if len(eff.Routers) == 0 {
		eff.Routers = nil
	}
	if len(eff.BFDProfiles) == 0 {
		eff.BFDProfiles = nil
	}
}

// apply makes the apiserver hold snap for this group: MetalLB objects and
// Nodes are created, updated or deleted by name (the pools never change, so
// the speaker never sees a configuration that orphans a Service, which it
// would refuse); Services and EndpointSlices are replaced. It returns the
// time of the last write.
func (g *speakerGroup) apply(snap translate.Snapshot) (time.Time, error) {
	ctx := context.Background()
	for _, obj := range g.services {
		if err := g.c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			return time.Time{}, err
		}
	}
	g.services = nil
	kinds := append(metallbKinds(&snap), kindObjects{corev1.SchemeGroupVersion.WithKind("Node"), objects(snap.Nodes)})
	for _, k := range kinds {
		if err := g.sync(ctx, k.gvk, k.objs); err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", k.gvk.Kind, err)
		}
	}
	for i := range snap.Services {
		svc := snap.Services[i].DeepCopy()
		status := svc.Status
		if err := g.c.Create(ctx, svc); err != nil {
			return time.Time{}, fmt.Errorf("creating Service %s: %w", svc.Name, err)
		}
		g.services = append(g.services, svc)
		svc.Status = status
		if err := g.c.Status().Update(ctx, svc); err != nil {
			return time.Time{}, fmt.Errorf("Service %s status: %w", svc.Name, err)
		}
	}
	for i := range snap.EndpointSlices {
		es := snap.EndpointSlices[i].DeepCopy()
		if err := g.c.Create(ctx, es); err != nil {
			return time.Time{}, fmt.Errorf("creating EndpointSlice %s: %w", es.Name, err)
		}
		g.services = append(g.services, es)
	}
	return time.Now(), nil
}

// sync creates or updates want and deletes the group's other objects of
// kind (Nodes: those with the group's prefix).
func (g *speakerGroup) sync(ctx context.Context, gvk schema.GroupVersionKind, want []client.Object) error {
	kind := gvk.Kind
	var opts []client.ListOption
	if kind != "Node" {
		opts = append(opts, client.InNamespace(g.gen.Namespace))
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(kind + "List"))
	if err := g.c.List(ctx, list, opts...); err != nil {
		return err
	}
	existing := map[string]string{} // name -> resourceVersion
	for _, o := range list.Items {
		if kind != "Node" || strings.HasPrefix(o.GetName(), g.gen.Prefix) {
			existing[o.GetName()] = o.GetResourceVersion()
		}
	}
	for _, obj := range want {
		u, err := toUnstructured(obj, gvk.GroupVersion().String(), kind)
		if err != nil {
			return err
		}
		if rv, ok := existing[u.GetName()]; ok {
			delete(existing, u.GetName())
			u.SetResourceVersion(rv)
			err = g.c.Update(ctx, u)
		} else {
			err = g.c.Create(ctx, u)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", u.GetName(), err)
		}
	}
	for name := range existing {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(g.gen.Namespace)
		if kind == "Node" {
			u.SetNamespace("")
		}
		u.SetName(name)
		if err := g.c.Delete(ctx, u); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func objects[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}

// toUnstructured is obj as written to the apiserver: frrgen's types have
// MetalLB's JSON; status is left out.
func toUnstructured(obj client.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		return nil, err
	}
	delete(u.Object, "status")
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetResourceVersion("")
	return u, nil
}

// describeSnapshot prints the snapshot's specs, to reproduce a disagreement.
func describeSnapshot(s translate.Snapshot) string {
	var b strings.Builder
	line := func(kind, name string, v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(&b, "  %s %s %s\n", kind, name, data)
	}
	for _, n := range s.Nodes {
		line("Node", n.Name, n.Labels)
	}
	for _, p := range s.Peers {
		line("BGPPeer", p.Name, p.Spec)
	}
	for _, a := range s.Advertisements {
		line("BGPAdvertisement", a.Name, a.Spec)
	}
	for _, svc := range s.Services {
		line("Service", svc.Name, map[string]any{"labels": svc.Labels, "etp": svc.Spec.ExternalTrafficPolicy, "ingress": svc.Status.LoadBalancer.Ingress})
	}
	for _, es := range s.EndpointSlices {
		line("EndpointSlice", es.Name, es.Endpoints)
	}
	return b.String()
}

// speakerErrors quotes the distinct errors at the end of the group's
// speaker logs (what MetalLB refused, if anything).
func (g *speakerGroup) speakerErrors() string {
	var b strings.Builder
	for _, node := range slices.Sorted(maps.Keys(g.logs)) {
		seen := map[string]bool{}
		for _, l := range strings.Split(tail(g.logs[node], 200), "\n") {
			var entry struct{ Level, Error, Msg string }
			if json.Unmarshal([]byte(l), &entry) != nil || entry.Level != "error" || seen[entry.Error+entry.Msg] {
				continue
			}
			seen[entry.Error+entry.Msg] = true
			fmt.Fprintf(&b, "\n  speaker %s: %s: %s", node, entry.Msg, entry.Error)
		}
	}
	return b.String()
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
