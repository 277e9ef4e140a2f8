package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	api "github.com/osrg/gobgp/v3/api"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	"github.com/frrgen/frrgen/internal/metallbbin"
)

// The migration from MetalLB's speakers to frrgen, on the wire: MetalLB
// v0.15.2's real speaker (frr-k8s mode, memberlist off) announces the seed's
// first example; frrgen starts beside it and frr-k8s merges the two
// configurations (same neighbor, same prefixes); the speaker stops and its
// FRRConfiguration is deleted. The peer must see no withdrawal and no new
// session at any point.
var _ = Describe("migration from MetalLB's speaker", Label("migration"), func() {
	var speaker *proc

	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		_, err := metallbbin.SpeakerBinary(repoRoot)
		Expect(err).NotTo(HaveOccurred())
		// Registered after cleanupSpec, so it runs first: the speaker's
		// configuration must be gone and frrgen running before cleanupSpec
		// waits for the node to lose its BGP configuration.
		DeferCleanup(func() {
			if speaker != nil {
				speaker.stop()
				speaker = nil
			}
			deleteMetalLBConfig()
			if frrgenProc.Exited() {
				resumeFRRGen()
			}
		})
	})

	It("MetalLB's speaker announces the seed's first example; frrgen takes over without a withdrawal or a session reset", func() {
		By("stopping frrgen: MetalLB's speaker comes first")
		frrgenProc.stop()
		deleteFRRGenConfig()

		By("starting MetalLB's speaker for the node")
		speaker = startMetalLBSpeaker()
		apply(bgpPeerA)
		apply(seedFirstExample())
		createService("svc-1", "198.51.100.10")
		want := []string{"198.51.100.0/24", "198.51.100.10/32"}
		Eventually(peerRoutes(peerA)).WithTimeout(90*time.Second).Should(SatisfyAll(
			WithTransform(keys, Equal(want)),
			HaveKeyWithValue("198.51.100.10/32", SatisfyAll(
				HaveField("LocalPref", HaveValue(BeEquivalentTo(100))),
				HaveField("Communities", Equal([]string{"65535:65282"})),
			)),
		), "MetalLB's speaker (log %s) should announce the seed's first example", speaker.logPath)
		Expect(configPrefixes(metallbConfigKey())).To(Equal(want))
		// Let frr-k8s and FRR settle before taking the reference point.
		Consistently(peerRoutes(peerA)).WithTimeout(5 * time.Second).Should(WithTransform(keys, Equal(want)))

		before := sessionCounters(peerA)
		fmt.Fprintf(GinkgoWriter, "under MetalLB's speaker: %s\n", before)
		watch := watchRoutes(peerA, want)

		By("starting frrgen beside it: frr-k8s merges both configurations")
		resumeFRRGen()
		Eventually(func() ([]string, error) { return configPrefixes(frrgenConfigKey()) }).Should(Equal(want))
		Expect(sameNeighbors(metallbConfigKey(), frrgenConfigKey())).To(Succeed())
		// frr-k8s renders after its 3 s debounce.
		Consistently(peerRoutes(peerA)).WithTimeout(8 * time.Second).Should(WithTransform(keys, Equal(want)))
		Expect(frrK8sAccepted()).To(Succeed())
		both := sessionCounters(peerA)
		fmt.Fprintf(GinkgoWriter, "MetalLB's speaker and frrgen: %s\n", both)

		By("stopping MetalLB's speaker and deleting its FRRConfiguration")
		speaker.stop()
		speaker = nil
		deleteMetalLBConfig()
		Consistently(peerRoutes(peerA)).WithTimeout(10 * time.Second).Should(WithTransform(keys, Equal(want)))
		Expect(frrK8sAccepted()).To(Succeed())
		after := sessionCounters(peerA)
		fmt.Fprintf(GinkgoWriter, "frrgen alone: %s\n", after)

		gaps := watch.stop()
		Expect(gaps).To(BeEmpty(), "the peer lacked a prefix during the migration")
		Expect(after.established).To(Equal(before.established), "the session was re-established (uptime changed)")
		Expect(after.flops).To(Equal(before.flops), "the session flapped")
		Expect(after.withdrawUpdates).To(Equal(before.withdrawUpdates), "the peer received a withdrawal")
		Expect(after.withdrawPrefixes).To(Equal(before.withdrawPrefixes), "the peer received a withdrawal")
		AddReportEntry("migration", fmt.Sprintf("before: %s\nboth: %s\nafter: %s\nroute samples: %d, gaps: 0", before, both, after, watch.samples))
	})
})

func metallbConfigKey() client.ObjectKey {
	return client.ObjectKey{Namespace: frrK8sNS, Name: "metallb-" + nodeName}
}

// startMetalLBSpeaker starts bin/metallb-speaker for the node, with the Pod
// (and the namespace's default ServiceAccount) it reads at start.
func startMetalLBSpeaker() *proc {
	GinkgoHelper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: metallbNS, Name: "default"}}
	if err := k8s.Create(ctx, sa); err == nil {
		track(sa)
	} else {
		Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "creating ServiceAccount default: %v", err)
	}
	// Not bound to the node: without a kubelet, a bound Pod's deletion would
	// wait forever for the kubelet to confirm it.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: metallbNS, Name: "speaker-" + nodeName},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "speaker", Image: "quay.io/metallb/speaker:v0.15.2"}}}}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	track(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: metallbNS, Name: pod.Name}})
	argv, env, err := metallbbin.SpeakerCommand(repoRoot, metallbbin.SpeakerOptions{
		Kubeconfig: filepath.Join(workDir, "kubeconfig"), Namespace: metallbNS, FRRK8sNamespace: frrK8sNS,
		NodeName: nodeName, PodName: pod.Name, LogPath: filepath.Join(workDir, "logs", "metallb-speaker.log")})
	Expect(err).NotTo(HaveOccurred())
	p, err := startProc("metallb-speaker", env, argv...)
	Expect(err).NotTo(HaveOccurred())
	return p
}

// resumeFRRGen starts the frrgen controller again as BeforeSuite does.
func resumeFRRGen() {
	GinkgoHelper()
	p, err := startFRRGen(false)
	Expect(err).NotTo(HaveOccurred())
	frrgenProc = p
}

func deleteMetalLBConfig() {
	deleteAndWait(&frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNS, Name: metallbConfigKey().Name}})
}

func deleteFRRGenConfig() {
	deleteAndWait(&frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNS, Name: frrgenConfigKey().Name}})
}

// configPrefixes lists, sorted, the prefixes of an FRRConfiguration's routers.
func configPrefixes(key client.ObjectKey) ([]string, error) {
	cfg := &frrv1beta1.FRRConfiguration{}
	if err := k8s.Get(context.Background(), key, cfg); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range cfg.Spec.BGP.Routers {
		out = append(out, r.Prefixes...)
	}
	return sortedCopy(out), nil
}

// sameNeighbors checks that two FRRConfigurations have the same neighbors
// (by address) in the same routers: the case where frr-k8s merges them
// into one session each.
func sameNeighbors(a, b client.ObjectKey) error {
	ids := func(key client.ObjectKey) ([]string, error) {
		cfg := &frrv1beta1.FRRConfiguration{}
		if err := k8s.Get(context.Background(), key, cfg); err != nil {
			return nil, err
		}
		var out []string
		for _, r := range cfg.Spec.BGP.Routers {
			for _, n := range r.Neighbors {
				out = append(out, fmt.Sprintf("asn %d vrf %q neighbor %s as %d", r.ASN, r.VRF, n.Address, n.ASN))
			}
		}
		return sortedCopy(out), nil
	}
	x, err := ids(a)
	if err != nil {
		return err
	}
	y, err := ids(b)
	if err != nil {
		return err
	}
	if strings.Join(x, "\n") != strings.Join(y, "\n") {
		return fmt.Errorf("%s has neighbors %v, %s has %v", a.Name, x, b.Name, y)
	}
	return nil
}

// frrK8sAccepted checks frr-k8s's FRRNodeState for the node: its last
// conversion succeeded (a configuration set that does not merge is
// reported there).
func frrK8sAccepted() error {
	st := &frrv1beta1.FRRNodeState{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: nodeName}, st); err != nil {
		return err
	}
	if st.Status.LastConversionResult != "success" {
		return fmt.Errorf("frr-k8s's last conversion: %q", st.Status.LastConversionResult)
	}
	return nil
}

// counters are what the peer knows about its session with the node.
type counters struct {
	established                       time.Time
	flops                             uint32
	updates                           uint64
	withdrawUpdates, withdrawPrefixes uint64
}

func (c counters) String() string {
	return fmt.Sprintf("session established %s, flops %d, updates received %d, withdrawals received %d (%d prefixes)",
		c.established.Format(time.RFC3339Nano), c.flops, c.updates, c.withdrawUpdates, c.withdrawPrefixes)
}

func sessionCounters(p *bgpPeer) counters {
	GinkgoHelper()
	n, err := p.neighbor()
	Expect(err).NotTo(HaveOccurred())
	Expect(n.State.SessionState).To(Equal(api.PeerState_ESTABLISHED))
	c := counters{flops: n.State.Flops}
	if m := n.State.Messages; m != nil && m.Received != nil {
		c.updates, c.withdrawUpdates, c.withdrawPrefixes = m.Received.Update, m.Received.WithdrawUpdate, m.Received.WithdrawPrefix
	}
	if n.Timers != nil && n.Timers.State != nil && n.Timers.State.Uptime != nil {
		c.established = n.Timers.State.Uptime.AsTime()
	}
	return c
}

// routeWatch samples a peer's routes every 100 ms and records every sample
// that lacks one of the wanted prefixes (or fails: the session is down).
type routeWatch struct {
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	gaps    []string
	samples int
}

func watchRoutes(p *bgpPeer, want []string) *routeWatch {
	w := &routeWatch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
			}
			routes, err := p.routes()
			w.mu.Lock()
			w.samples++
			switch {
			case err != nil:
				w.gaps = append(w.gaps, time.Now().Format(time.RFC3339Nano)+": "+err.Error())
			default:
				for _, prefix := range want {
					if _, ok := routes[prefix]; !ok {
						w.gaps = append(w.gaps, time.Now().Format(time.RFC3339Nano)+": no "+prefix)
					}
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *routeWatch) stop() []string {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gaps
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
