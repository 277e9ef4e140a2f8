package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// layoutKey is the one request of the shared-layout reconciler: with objects
// selecting several nodes, the writes of one node are not independent of the
// others', so the whole layout is written in one ordered pass.
var layoutKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "frrgen-layout"}}

// SharedLayoutReconciler writes the shared layout (--layout shared): every
// object of internal/layout's Shared layout, in the order of
// nodeplan.LayoutWrites, after each node's merge check over all the objects
// selecting it. Per node it records the same outcomes, Events and metrics as
// the NodeReconciler, whose reporting it uses.
type SharedLayoutReconciler struct {
	nodes *NodeReconciler
	// Workers is how many writes of one phase run at once.
	Workers int

	// last is the layout of the previous pass, reused while its input is
	// the same: our own writes wake the reconciler once more each, and
	// laying out 100 nodes x 5000 services again costs about half a second.
	// (One key: passes never run concurrently.)
	last *cachedLayout
}

// cachedLayout is a layout and what it was computed from: a translation
// and the stored shard counts, with no node kept (a kept node's input is
// what is stored, which the key does not cover).
type cachedLayout struct {
	build  uint64
	shards map[string]int
	layout layout.Layout
}

// sharedState is what one pass reads from the cache.
type sharedState struct {
	translation *Translation
	// stored are our objects (per-node and shared) as stored; storedFor
	// indexes them by the nodes they select (see storedByNode).
	stored     []frrv1beta1.FRRConfiguration
	storedFor  map[string][]frrv1beta1.FRRConfiguration
	others     []frrv1beta1.FRRConfiguration
	secrets    []corev1.Secret
	nodeLabels map[string]map[string]string
}

// Reconcile lays out the newest translation, lets every node's plan judge
// the objects that select it, and writes the layout in phases.
func (r *SharedLayoutReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	st, err := r.currentState(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	l, keep, conflicts, err := r.decide(st)
	if err != nil {
		return ctrl.Result{}, err
	}
	failed, writeErr := r.apply(ctx, st, l)
	r.record(ctx, st, l, keep, conflicts, failed)
	if writeErr != nil {
		return ctrl.Result{}, fmt.Errorf("writing the shared layout: %w", writeErr)
	}
	return ctrl.Result{}, nil
}

func (r *SharedLayoutReconciler) currentState(ctx context.Context) (sharedState, error) {
	n := r.nodes
	var st sharedState
	var err error
	if st.translation, err = n.Translator.Result(ctx); err != nil {
		return st, fmt.Errorf("translating the input: %w", err)
	}
	stored, err := ReadStoredConfigs(ctx, n.Client, n.Options)
	if err != nil {
		return st, err
	}
	for i := range stored {
		if n.owner.ownsConfig(&stored[i]) {
			st.stored = append(st.stored, stored[i])
		}
	}
	st.storedFor = storedByNode(st.stored)
	if st.others, err = usersConfigs(ctx, n.Client, n.Options.FRRK8sNamespace); err != nil {
		return st, fmt.Errorf("listing users' FRRConfigurations: %w", err)
	}
	if st.secrets, err = n.mirrors.secretsAfterMirroring(ctx, n.Client, st.translation.PasswordSecrets); err != nil {
		return st, err
	}
	var nodes corev1.NodeList
	if err := n.Client.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return st, fmt.Errorf("listing Nodes: %w", err)
	}
	st.nodeLabels = make(map[string]map[string]string, len(nodes.Items))
	for i := range nodes.Items {
		st.nodeLabels[nodes.Items[i].Name] = nodes.Items[i].Labels
	}
	return st, nil
}

// decide computes the layout. Held nodes, and nodes whose merge check finds
// a conflict, keep their stored content: they enter the layout as the join
// of the stored objects selecting them (layout's package documentation says
// why), and the layout is computed again when a check finds a new conflict.
func (r *SharedLayoutReconciler) decide(st sharedState) (layout.Layout, map[string]bool, map[string]*merge.Conflict, error) {
	keep := map[string]bool{}
	for _, h := range st.translation.Held {
		keep[h.Node] = true
	}
	conflicts := map[string]*merge.Conflict{}
	options := r.nodes.Layout
	options.StoredShards = layout.ShardCounts(st.stored)
	for {
		configs := r.configs(st, keep)
		l, err := r.compute(st.translation.version, configs, options, len(keep) == 0)
		if err != nil {
			return layout.Layout{}, nil, nil, fmt.Errorf("laying out the configurations: %w", err)
		}
		found := false
		for _, c := range configs {
			node := c.Annotations[translate.AnnotationNode]
			if keep[node] {
				continue
			}
			in := nodeplan.Input{Node: node, NodeLabels: st.nodeLabels[node], Desired: l.ForNode(node),
				Stored: st.storedFor[node], Others: st.others, Secrets: st.secrets, VerdictOnly: true}
			if plan := r.nodes.decide(node, in); plan.Conflict != nil {
				conflicts[node], keep[node], found = plan.Conflict, true, true
			}
		}
		if !found {
			return l, keep, conflicts, nil
		}
	}
}

// compute lays out configs, or returns the last layout when it came from
// the same build and stored shard counts (and cacheable says no node is
// kept).
func (r *SharedLayoutReconciler) compute(build uint64, configs []frrv1beta1.FRRConfiguration, options layout.Options, cacheable bool) (layout.Layout, error) {
	if c := r.last; cacheable && c != nil && c.build == build && maps.Equal(c.shards, options.StoredShards) {
		return c.layout, nil
	}
	l, err := layout.Compute(configs, options)
	if err != nil {
		return l, err
	}
	r.stamp(&l)
	r.last = nil
	if cacheable {
		r.last = &cachedLayout{build: build, shards: options.StoredShards, layout: l}
	}
	return l, nil
}

// configs are the per-node configurations to lay out: the translation's,
// and for each kept node the join of what is stored for it.
func (r *SharedLayoutReconciler) configs(st sharedState, keep map[string]bool) []frrv1beta1.FRRConfiguration {
	var out []frrv1beta1.FRRConfiguration
	for _, c := range st.translation.Configs {
		if !keep[c.Annotations[translate.AnnotationNode]] {
			out = append(out, c)
		}
	}
	for _, node := range slicesSorted(keep) {
		parts := st.storedFor[node]
		i := slices.IndexFunc(parts, func(c frrv1beta1.FRRConfiguration) bool { return c.Annotations[translate.AnnotationNode] == node })
		if i < 0 {
			continue // nothing of its own stored: it keeps nothing
		}
		own := parts[i]
		shell := frrv1beta1.FRRConfiguration{
			TypeMeta: own.TypeMeta,
			ObjectMeta: metav1.ObjectMeta{
				Name: translate.ConfigName(r.nodes.Options.NamePrefix, node), Namespace: own.Namespace,
				Labels:          map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
				Annotations:     map[string]string{translate.AnnotationNode: node},
				OwnerReferences: own.OwnerReferences,
			},
			Spec: frrv1beta1.FRRConfigurationSpec{NodeSelector: own.Spec.NodeSelector},
		}
		out = append(out, layout.Join(shell, parts))
	}
	return out
}

// stamp adds the ownership proof to every object the layout named (shards,
// shared objects); the proof covers the name.
func (r *SharedLayoutReconciler) stamp(l *layout.Layout) {
	for node := range l.PerNode {
		for i := range l.PerNode[node] {
			r.nodes.owner.stampConfig(&l.PerNode[node][i])
		}
	}
	for g := range l.Shared {
		for i := range l.Shared[g].Configs {
			r.nodes.owner.stampConfig(&l.Shared[g].Configs[i])
		}
	}
}

// apply writes the layout's changes phase by phase, the writes of a phase
// concurrently; a phase runs only when every write before it succeeded. It
// returns the nodes selected by a failed write, with the error.
func (r *SharedLayoutReconciler) apply(ctx context.Context, st sharedState, l layout.Layout) (map[string]string, error) {
	desired := l.Objects()
	phases := nodeplan.LayoutWrites(desired, st.stored, isShared)
	referencing := make([]*frrv1beta1.FRRConfiguration, len(desired))
	for i := range desired {
		referencing[i] = &desired[i]
	}
	failed := map[string]string{}
	err := r.nodes.mirrors.writeConfigs(ctx, r.nodes.Client, st.translation.PasswordSecrets, referencing, func() error {
		for _, phase := range [][]nodeplan.Write{phases.Grow, phases.ShrinkPerNode, phases.ShrinkShared, phases.Delete} {
			if err := r.writeAll(ctx, phase, failed); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		r.awaitCache(ctx, phases.All())
	}
	if err != nil && len(failed) == 0 {
		for node := range st.nodeLabels { // the mirrors: every node may need them
			failed[node] = err.Error()
		}
	}
	return failed, err
}

// awaitCache waits, up to cacheWait, until the cache shows every write just
// made: the next pass lays out from the cache, and a stale one would
// re-create what exists or update an old resourceVersion, fail, and back
// off (seconds in the load benchmark).
func (r *SharedLayoutReconciler) awaitCache(ctx context.Context, writes []nodeplan.Write) {
	deadline := time.Now().Add(cacheWait)
	for _, w := range writes {
		for time.Now().Before(deadline) && !r.cacheShows(ctx, w) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// cacheWait bounds awaitCache; past it the next pass may fail and retry.
const cacheWait = 5 * time.Second

func (r *SharedLayoutReconciler) cacheShows(ctx context.Context, w nodeplan.Write) bool {
	var cached frrv1beta1.FRRConfiguration
	err := r.nodes.Client.Get(ctx, client.ObjectKeyFromObject(w.Config), &cached)
	if w.Verb == nodeplan.Delete {
		return apierrors.IsNotFound(err) || err == nil && cached.UID != w.Config.UID
	}
	return err == nil && cached.ResourceVersion == w.Config.ResourceVersion
}

func (r *SharedLayoutReconciler) writeAll(ctx context.Context, writes []nodeplan.Write, failed map[string]string) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	limit := make(chan struct{}, max(1, r.Workers))
	for _, w := range writes {
		wg.Go(func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			err := r.nodes.write(ctx, w)
			if err == nil {
				return
			}
			err = fmt.Errorf("%s FRRConfiguration %s/%s: %w", w.Verb, w.Config.Namespace, w.Config.Name, err)
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
			for _, node := range selectedNodes(w.Config) {
				failed[node] = err.Error()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// record keeps each node's outcome, Events and metrics, as the
// NodeReconciler does for its node.
func (r *SharedLayoutReconciler) record(ctx context.Context, st sharedState, l layout.Layout, keep map[string]bool, conflicts map[string]*merge.Conflict, failed map[string]string) {
	n := r.nodes
	nodes := map[string]bool{}
	for node := range l.PerNode {
		nodes[node] = true
	}
	for node := range keep {
		nodes[node] = true
	}
	for node := range st.storedFor {
		nodes[node] = true
	}
	for node := range nodes {
		held := st.translation.HeldBy(node)
		desired := l.ForNode(node)
		stored := st.storedFor[node]
		if len(desired) == 0 && len(stored) == 0 && held == nil && conflicts[node] == nil {
			n.forgetNode(node)
			continue
		}
		outcome := nodeOutcome{build: st.translation.version, held: held, conflict: conflicts[node], writeError: failed[node]}
		switch {
		case conflicts[node] != nil:
			n.reportConflict(ctx, node, nodeplan.Input{Node: node, Stored: stored}, conflicts[node])
			if len(stored) > 0 {
				staleConfig.WithLabelValues(node).Set(1)
			}
		case held != nil:
			if len(stored) > 0 {
				staleConfig.WithLabelValues(node).Set(1)
			}
		case failed[node] != "":
			staleConfig.WithLabelValues(node).Set(1)
			n.reportWriteFailure(ctx, node, errors.New(failed[node]))
		case len(desired) == 0:
			n.forgetNode(node)
			continue
		default:
			n.clearReported(node)
			staleConfig.WithLabelValues(node).Set(0)
			prefixesPerNode.WithLabelValues(node).Set(float64(countPrefixes(desired)))
		}
		count, bytes := l.NodeStats(node)
		objectsPerNode.WithLabelValues(node).Set(float64(count))
		bytesPerNode.WithLabelValues(node).Set(float64(bytes))
		n.outcomes.record(node, outcome)
	}
}

// isShared tells the objects selecting several nodes.
func isShared(c *frrv1beta1.FRRConfiguration) bool {
	return c.Annotations[layout.AnnotationNodes] != ""
}

// selectedNodes are the nodes an object of ours is for.
func selectedNodes(c *frrv1beta1.FRRConfiguration) []string {
	if node := c.Annotations[translate.AnnotationNode]; node != "" {
		return []string{node}
	}
	if nodes := c.Annotations[layout.AnnotationNodes]; nodes != "" {
		return strings.Split(nodes, ",")
	}
	return nil
}

// storedByNode maps each node to the objects of stored that are for it:
// its own first (the NodeReconciler's reports name the first), then the
// shared ones, each in stored's order. One pass over stored: per node it
// would split every shared object's node list again (a tenth of a pass at
// 100 nodes).
func storedByNode(stored []frrv1beta1.FRRConfiguration) map[string][]frrv1beta1.FRRConfiguration {
	out := map[string][]frrv1beta1.FRRConfiguration{}
	for _, shared := range []bool{false, true} {
		for i := range stored {
			if isShared(&stored[i]) != shared {
				continue
			}
			for _, node := range selectedNodes(&stored[i]) {
				out[node] = append(out[node], stored[i])
			}
		}
	}
	return out
}

func slicesSorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
