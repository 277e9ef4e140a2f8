package controllers_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/translate"
)

// observed is one watch event in the frr-k8s namespace, as frr-k8s sees it.
type observed struct {
	revision int64
	kind     string // Secret or FRRConfiguration
	event    watch.EventType
	name     string
	// references are the Secrets an FRRConfiguration's neighbors use.
	references []string
}

// recordNamespace watches Secrets and FRRConfigurations of namespace until
// the spec ends and returns a function giving the events so far in
// apiserver order. The two watches deliver independently; every write gets
// a resourceVersion from one etcd revision counter, which orders them (an
// implementation detail of etcd3 storage that envtest's apiserver has).
func recordNamespace(namespace string) func() []observed {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	watcher, err := client.NewWithWatch(env.Config, client.Options{Scheme: controllers.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	var (
		mu     sync.Mutex
		events []observed
	)
	record := func(list client.ObjectList, kind string) {
		w, err := watcher.Watch(ctx, list, client.InNamespace(namespace))
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			defer w.Stop()
			for e := range w.ResultChan() {
				obj, ok := e.Object.(client.Object)
				if !ok {
					continue
				}
				revision, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
				Expect(err).NotTo(HaveOccurred())
				o := observed{revision: revision, kind: kind, event: e.Type, name: obj.GetName()}
				if config, ok := obj.(*frrv1beta1.FRRConfiguration); ok {
					for _, r := range config.Spec.BGP.Routers {
						for _, n := range r.Neighbors {
							if n.PasswordSecret.Name != "" {
								o.references = append(o.references, n.PasswordSecret.Name)
							}
						}
					}
				}
				mu.Lock()
				events = append(events, o)
				mu.Unlock()
			}
		}()
	}
	record(&corev1.SecretList{}, "Secret")
	record(&frrv1beta1.FRRConfigurationList{}, "FRRConfiguration")
	return func() []observed {
		mu.Lock()
		defer mu.Unlock()
		out := append([]observed(nil), events...)
		sort.SliceStable(out, func(i, j int) bool { return out[i].revision < out[j].revision })
		return out
	}
}

// danglingReferences replays events in order and returns, for every state
// frr-k8s could have seen, each configuration referencing a Secret that did
// not exist then.
func danglingReferences(events []observed) []string {
	secrets := map[string]bool{}
	configs := map[string][]string{}
	var dangling []string
	for _, e := range events {
		switch {
		case e.kind == "Secret" && e.event == watch.Deleted:
			delete(secrets, e.name)
		case e.kind == "Secret":
			secrets[e.name] = true
		case e.event == watch.Deleted:
			delete(configs, e.name)
		default:
			configs[e.name] = e.references
		}
		for config, refs := range configs {
			for _, ref := range refs {
				if !secrets[ref] {
					dangling = append(dangling, fmt.Sprintf("at revision %d (%s %s %s): %s references missing Secret %s", e.revision, e.event, e.kind, e.name, config, ref))
				}
			}
		}
	}
	return dangling
}

var _ = Describe("Mirror ordering", func() {
	It("writes a mirror before the configuration that references it, and deletes the old one only after no configuration references it", func() {
		ctx := context.Background()
		w := newWorld()
		// Several nodes: their reconciles run one after the other, which
		// widens the window in which a mirror could be missing.
		nodes := []string{"a", "b", "c", "d"}
		for _, n := range nodes {
			w.addNode(n, nil)
		}
		events := recordNamespace(w.out)
		w.apply(`
apiVersion: v1
kind: Secret
metadata:
  name: auth-a
  namespace: metallb-system
  annotations: {frrgen.io/bgp-peers: "*"}
type: kubernetes.io/basic-auth
stringData: {password: first}
---
apiVersion: v1
kind: Secret
metadata:
  name: auth-b
  namespace: metallb-system
  annotations: {frrgen.io/bgp-peers: "*"}
type: kubernetes.io/basic-auth
stringData: {password: second}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.3
  passwordSecret: {name: auth-a}
`)
		w.start()
		mirrorA := translate.MirroredSecretName("frrgen-", "auth-a")
		mirrorB := translate.MirroredSecretName("frrgen-", "auth-b")
		references := func(short string) func() string {
			return func() string {
				c := w.config(short)
				if c == nil || len(c.Spec.BGP.Routers) == 0 {
					return ""
				}
				return c.Spec.BGP.Routers[0].Neighbors[0].PasswordSecret.Name
			}
		}
		for _, n := range nodes {
			Eventually(references(n)).Should(Equal(mirrorA), "node %s", n)
		}

		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "peer")}
		edit(peer, func() { peer.Spec.PasswordSecret.Name = "auth-b" })
		for _, n := range nodes {
			Eventually(references(n)).Should(Equal(mirrorB), "node %s", n)
		}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: w.out, Name: mirrorA}, &corev1.Secret{})
		}).Should(MatchError(ContainSubstring("not found")))

		// The recording saw the whole story: both mirrors created, A deleted,
		// every configuration written twice, and never a dangling reference.
		story := []string{"ADDED Secret " + mirrorA, "ADDED Secret " + mirrorB, "DELETED Secret " + mirrorA}
		for _, n := range nodes {
			story = append(story, "ADDED FRRConfiguration "+w.configKey(n).Name, "MODIFIED FRRConfiguration "+w.configKey(n).Name)
		}
		Eventually(func() []string {
			var seen []string
			for _, e := range events() {
				seen = append(seen, fmt.Sprintf("%s %s %s", e.event, e.kind, e.name))
			}
			return seen
		}).Should(ContainElements(story))
		Expect(danglingReferences(events())).To(BeEmpty())
	})
})
