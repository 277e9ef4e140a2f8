package controllers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// Translator runs translate.Build on the informer cache and keeps the last
// Result until an input changes (see the package documentation).
type Translator struct {
	reader  client.Reader
	options translate.Options
	// owner stamps the configurations with frrgen's ownership proof.
	owner owner

	// inputVersion counts the input events seen by the watch handlers.
	inputVersion atomic.Uint64

	// mu guards the fields below only; no API call or build runs under it.
	mu sync.Mutex
	// latest is the newest finished build, of input version latestVersion.
	latest        *Translation
	latestVersion uint64
	// building is the build in progress, if any.
	building *build
}

// build is one run of translate.Build; done is closed when it finished.
type build struct {
	version uint64
	done    chan struct{}
	result  *Translation
	err     error
}

// Translation is a translate.Result with the desired configurations indexed
// by node. It is shared between reconcilers: read it, never modify it.
type Translation struct {
	translate.Result
	// version is the input version it was built from; builds have
	// increasing versions.
	version      uint64
	configByNode map[string]*frrv1beta1.FRRConfiguration
}

// ConfigFor returns the desired FRRConfiguration of node, or nil when the node
// must have none (not a speaker, deleted) or the input is invalid.
func (t *Translation) ConfigFor(node string) *frrv1beta1.FRRConfiguration {
	return t.configByNode[node]
}

func newTranslation(result translate.Result, o owner) *Translation {
	t := &Translation{Result: result, configByNode: make(map[string]*frrv1beta1.FRRConfiguration, len(result.Configs))}
	for i := range result.Configs {
		config := &result.Configs[i]
		// The managed-by label is what lets us find, and ever delete, the
		// object again; never write one without it.
		config.Labels = nodeplan.WithEntries(config.Labels, map[string]string{translate.LabelManagedBy: translate.ManagedByValue})
		o.stampConfig(config)
		t.configByNode[config.Annotations[translate.AnnotationNode]] = config
	}
	return t
}

// newTranslator returns a Translator reading from reader (the manager's
// cache) whose configurations carry o's proof.
func newTranslator(reader client.Reader, options translate.Options, o owner) *Translator {
	return &Translator{reader: reader, options: options, owner: o}
}

// InputChanged invalidates the cached Result. Watch handlers call it before
// they enqueue the reconciles that must see the change.
func (t *Translator) InputChanged() { t.inputVersion.Add(1) }

// Result returns a translation of the cache at least as new as every input
// event seen so far. A caller that the last build satisfies does not wait;
// others share the build in progress when it is new enough, or start one.
func (t *Translator) Result(ctx context.Context) (*Translation, error) {
	for {
		// Read the version before listing: an event arriving while a build
		// lists bumps it again, so that build does not satisfy later callers.
		want := t.inputVersion.Load()
		t.mu.Lock()
		if t.latest != nil && t.latestVersion >= want {
			latest := t.latest
			t.mu.Unlock()
			return latest, nil
		}
		b := t.building
		if b == nil {
			b = &build{version: want, done: make(chan struct{})}
			t.building = b
			t.mu.Unlock()
			t.run(ctx, b)
		} else {
			t.mu.Unlock()
			select {
			case <-b.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if b.err != nil {
			return nil, b.err
		}
		if b.version >= want {
			return b.result, nil
		}
		// That build began before our event: go round for a newer one.
	}
}

// run lists the cache and builds, then publishes the result.
func (t *Translator) run(ctx context.Context, b *build) {
	defer close(b.done)
	snapshot, err := ReadSnapshot(ctx, t.reader, t.options)
	if err == nil {
		start := time.Now()
		result := translate.Build(snapshot, t.options)
		buildDuration.Observe(time.Since(start).Seconds())
		b.result = newTranslation(result, t.owner)
		b.result.version = b.version + 1 // never 0, a record's zero value
	}
	b.err = err
	t.mu.Lock()
	defer t.mu.Unlock()
	t.building = nil
	if err == nil && (t.latest == nil || b.version >= t.latestVersion) {
		t.latest, t.latestVersion = b.result, b.version
	}
}

// ReadSnapshot lists what translate.Build reads: the metallb.io objects and
// Secrets of options.Namespace, and every Node, Service and EndpointSlice.
// The controller reads its cache; `frrgen explain --kubeconfig` the cluster.
func ReadSnapshot(ctx context.Context, reader client.Reader, options translate.Options) (translate.Snapshot, error) {
	inNamespace := client.InNamespace(options.Namespace)
	var (
		pools          metallbv1beta1.IPAddressPoolList
		peers          metallbv1beta2.BGPPeerList
		advertisements metallbv1beta1.BGPAdvertisementList
		communities    metallbv1beta1.CommunityList
		bfdProfiles    metallbv1beta1.BFDProfileList
		nodes          corev1.NodeList
		services       corev1.ServiceList
		endpointSlices discoveryv1.EndpointSliceList
		secrets        corev1.SecretList
	)
	lists := []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&pools, []client.ListOption{inNamespace}},
		{&peers, []client.ListOption{inNamespace}},
		{&advertisements, []client.ListOption{inNamespace}},
		{&communities, []client.ListOption{inNamespace}},
		{&bfdProfiles, []client.ListOption{inNamespace}},
		{&secrets, []client.ListOption{inNamespace}},
		{&nodes, nil},
		{&services, nil},
		{&endpointSlices, nil},
	}
	for _, l := range lists {
		// translate.Build only reads its snapshot (TestBuildLeavesSnapshot
		// checks it), so the cache's objects need no copy: at 5000
		// Services the copies cost more than the build.
		if err := reader.List(ctx, l.list, append(l.opts, client.UnsafeDisableDeepCopy)...); err != nil {
			return translate.Snapshot{}, fmt.Errorf("listing %T: %w", l.list, err)
		}
	}
	return translate.Snapshot{
		Pools:          pools.Items,
		Peers:          peers.Items,
		Advertisements: advertisements.Items,
		Communities:    communities.Items,
		BFDProfiles:    bfdProfiles.Items,
		Nodes:          nodes.Items,
		Services:       services.Items,
		EndpointSlices: endpointSlices.Items,
		Secrets:        secrets.Items,
	}, nil
}

// ReadStoredConfigs lists the FRRConfigurations labelled as frrgen's in
// options.FRRK8sNamespace: what the nodes were last given.
func ReadStoredConfigs(ctx context.Context, reader client.Reader, options translate.Options) ([]frrv1beta1.FRRConfiguration, error) {
	var ours frrv1beta1.FRRConfigurationList
	if err := reader.List(ctx, &ours, client.InNamespace(options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}); err != nil {
		return nil, fmt.Errorf("listing frrgen's FRRConfigurations: %w", err)
	}
	return ours.Items, nil
}
