package e2e

import (
	"github.com/frrgen/frrgen/internal/testenv"

	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// Objects shared by several specs. connectTime 5s: FRR retries a refused
// connection after 5 s instead of 120 s, so a spec does not wait for a session
// that a previous spec's cleanup took down.
const (
	bgpPeerA = `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-a
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 192.0.2.2
  connectTime: 5s
`
	bgpPeerB = `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-b
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 192.0.2.3
  connectTime: 5s
`
)

// seedFirstExample is the seed's first example, read from config/samples.
func seedFirstExample() string {
	GinkgoHelper()
	yaml, err := testenv.Samples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml",
		"metallb.io_v1beta1_bgpadvertisement_local.yaml", "metallb.io_v1beta1_bgpadvertisement_external.yaml")
	Expect(err).NotTo(HaveOccurred())
	return yaml
}

func frrgenConfigKey() client.ObjectKey {
	return client.ObjectKey{Namespace: frrK8sNS, Name: "frrgen-" + nodeName}
}

// keys returns the sorted prefixes of a route table.
func keys(routes map[string]receivedRoute) []string {
	out := prefixes(routes)
	sort.Strings(out)
	return out
}

var _ = Describe("frrgen → frr-k8s → FRR → peer", Label("frrgen"), func() {
	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		Expect(frrgenProc.Exited()).To(BeFalse(), "the frrgen controller exited; see %s", frrgenProc.logPath)
	})

	It("seed example 1: the /32 with localPref and no-advertise, the /24 without; a second service adds its /32 only", func() {
		apply(bgpPeerA)
		apply(seedFirstExample())
		createService("svc-1", "198.51.100.10")

		Eventually(peerRoutes(peerA)).Should(SatisfyAll(
			WithTransform(keys, Equal([]string{"198.51.100.0/24", "198.51.100.10/32"})),
			HaveKeyWithValue("198.51.100.10/32", SatisfyAll(
				HaveField("LocalPref", HaveValue(BeEquivalentTo(100))),
				HaveField("Communities", Equal([]string{"65535:65282"})),
				HaveField("NextHop", Equal(nodeIPv4)),
			)),
			HaveKeyWithValue("198.51.100.0/24", SatisfyAll(
				HaveField("Communities", BeEmpty()),
				HaveField("Large", BeEmpty()),
			)),
		))

		createService("svc-2", "198.51.100.20")
		Eventually(peerRoutes(peerA)).Should(SatisfyAll(
			WithTransform(keys, Equal([]string{"198.51.100.0/24", "198.51.100.10/32", "198.51.100.20/32"})),
			HaveKeyWithValue("198.51.100.20/32", HaveField("Communities", Equal([]string{"65535:65282"}))),
			HaveKeyWithValue("198.51.100.0/24", HaveField("Paths", Equal(1))),
		))
		routes, err := peerA.routes()
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "peer 192.0.2.2 received:\n%s", describeRoutes(routes))
	})

	It("BGPAdvertisement.peers: a pool's prefixes reach only the named peer", func() {
		apply(bgpPeerA)
		apply(bgpPeerB)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: only-a
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.32/28
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: everyone
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.48/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: only-a
  namespace: metallb-system
spec:
  ipAddressPools: [only-a]
  peers: [peer-a]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: everyone
  namespace: metallb-system
spec:
  ipAddressPools: [everyone]
`)
		createService("svc-only-a", "198.51.100.33")
		createService("svc-everyone", "198.51.100.49")

		Eventually(peerRoutes(peerA)).Should(WithTransform(keys, Equal([]string{"198.51.100.33/32", "198.51.100.49/32"})))
		Eventually(peerRoutes(peerB)).Should(WithTransform(keys, Equal([]string{"198.51.100.49/32"})))
		Consistently(peerRoutes(peerB)).WithTimeout(5 * time.Second).Should(WithTransform(keys, Equal([]string{"198.51.100.49/32"})))
	})

	It("community aliases resolve to their values on the wire; large communities and localPref arrive intact", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: aliases
  namespace: metallb-system
spec:
  communities:
  - name: no-advertise
    value: 65535:65282
  - name: big
    value: large:64512:1:2
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: tagged
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.64/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: tagged
  namespace: metallb-system
spec:
  ipAddressPools: [tagged]
  localPref: 150
  communities:
  - no-advertise
  - big
  - 65000:300
  - large:4200000000:4200000001:4200000002
`)
		createService("svc-tagged", "198.51.100.65")
		Eventually(peerRoutes(peerA)).Should(HaveKeyWithValue("198.51.100.65/32", SatisfyAll(
			HaveField("LocalPref", HaveValue(BeEquivalentTo(150))),
			HaveField("Communities", Equal([]string{"65000:300", "65535:65282"})),
			HaveField("Large", Equal([]string{"4200000000:4200000001:4200000002", "64512:1:2"})),
		)))
	})

	It("a user FRRConfiguration receiving all routes from our neighbor: the peer's route reaches bgpd, our advertisements stay", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: recv
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.80/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: recv
  namespace: metallb-system
spec:
  ipAddressPools: [recv]
`)
		createService("svc-recv", "198.51.100.81")
		Eventually(peerRoutes(peerA)).Should(WithTransform(keys, Equal([]string{"198.51.100.81/32"})))
		before, err := peerA.routes()
		Expect(err).NotTo(HaveOccurred())

		Expect(peerA.announce("203.0.113.0/24")).To(Succeed()) // withdrawn by cleanupSpec
		// frrgen's own configuration accepts nothing from the peer.
		Consistently(nodeRIB).WithTimeout(5 * time.Second).ShouldNot(HaveKey("203.0.113.0/24"))

		apply(`
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: receive-all
  namespace: frr-k8s-system
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: frrgen-e2e-node
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 192.0.2.2
        asn: 64512
        connectTime: 5s
        toReceive:
          allowed:
            mode: all
`)
		Eventually(nodeRIB).Should(HaveKeyWithValue("203.0.113.0/24", ContainElement(peerAIPv4)))
		Expect(peerA.routes()).To(Equal(before))
	})

	It("graceful restart on the peer: the node's OPEN carries the graceful-restart capability for IPv4 unicast", func() {
		// enableGracefulRestart is immutable, so the contrast is between two
		// peers: A with it, B without. Without it FRR still sends the
		// capability, as a helper only, with no address family listed.
		apply(strings.Replace(bgpPeerA, "connectTime: 5s", "connectTime: 5s\n  enableGracefulRestart: true", 1))
		apply(bgpPeerB)
		Eventually(peerA.remoteCapabilities).Should(ContainElement(grCapWithIPv4()))
		Eventually(peerB.remoteCapabilities).Should(Not(ContainElement(grCapWithIPv4())))
		Expect(renderedConfig()).To(ContainSubstring("neighbor 192.0.2.2 graceful-restart\n"))
	})

	It("service deleted: the peer sees the /32 withdrawn", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: gone
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.96/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: gone
  namespace: metallb-system
spec:
  ipAddressPools: [gone]
`)
		createService("svc-stays", "198.51.100.97")
		gone := createService("svc-gone", "198.51.100.98")
		Eventually(peerRoutes(peerA)).Should(WithTransform(keys, Equal([]string{"198.51.100.97/32", "198.51.100.98/32"})))
		deleteAndWait(gone)
		Eventually(peerRoutes(peerA)).Should(WithTransform(keys, Equal([]string{"198.51.100.97/32"})))
	})

	It("invalid input: the node keeps its last good configuration and the peer keeps the routes", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: static
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.112/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: static
  namespace: metallb-system
spec:
  ipAddressPools: [static]
  communities: [65000:1]
`)
		createService("svc-static", "198.51.100.113")
		Eventually(peerRoutes(peerA)).Should(HaveKeyWithValue("198.51.100.113/32", HaveField("Communities", Equal([]string{"65000:1"}))))
		good := &frrv1beta1.FRRConfiguration{}
		Expect(k8s.Get(context.Background(), frrgenConfigKey(), good)).To(Succeed())
		before, err := peerA.routes()
		Expect(err).NotTo(HaveOccurred())

		// An alias nobody defined.
		update(`
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: static
  namespace: metallb-system
spec:
  ipAddressPools: [static]
  communities: [no-such-alias]
`)
		adv := &unstructured.Unstructured{}
		adv.SetAPIVersion("metallb.io/v1beta1")
		adv.SetKind("BGPAdvertisement")
		Eventually(func() ([]metav1.Condition, error) {
			err := k8s.Get(context.Background(), client.ObjectKey{Namespace: metallbNS, Name: "static"}, adv)
			return conditions(adv), err
		}).Should(ContainElement(SatisfyAll(
			HaveField("Type", "Valid"), HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring("no-such-alias")),
		)))
		Consistently(func() (string, error) {
			cur := &frrv1beta1.FRRConfiguration{}
			err := k8s.Get(context.Background(), frrgenConfigKey(), cur)
			return cur.ResourceVersion, err
		}).Should(Equal(good.ResourceVersion))
		Expect(peerA.routes()).To(Equal(before))
	})

	It("IPv6: a service IPv6 address reaches the peer over an IPv6 session, with its community", func() {
		apply(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-a-v6
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 2001:db8::2
  connectTime: 5s
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: v6
  namespace: metallb-system
spec:
  addresses:
  - 2001:db8:1::/120
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: v6
  namespace: metallb-system
spec:
  ipAddressPools: [v6]
  communities: [65000:6]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: v6-aggregate
  namespace: metallb-system
spec:
  ipAddressPools: [v6]
  aggregationLengthV6: 120
`)
		createService("svc-v6", "2001:db8:1::10")
		Eventually(func() (map[string]receivedRoute, error) { return peerA.routesFrom(nodeIPv6) }).Should(SatisfyAll(
			WithTransform(keys, Equal([]string{"2001:db8:1::/120", "2001:db8:1::10/128"})),
			HaveKeyWithValue("2001:db8:1::10/128", SatisfyAll(
				HaveField("Communities", Equal([]string{"65000:6"})),
				HaveField("NextHop", Equal(nodeIPv6)),
			)),
			HaveKeyWithValue("2001:db8:1::/120", HaveField("Communities", BeEmpty())),
		))
	})

	It("BFD profile on the peer: the node's BFD session with the peer comes up", func() {
		apply(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: fast
  namespace: metallb-system
spec:
  receiveInterval: 300
  transmitInterval: 300
  detectMultiplier: 3
`)
		apply(strings.Replace(bgpPeerA, "connectTime: 5s", "connectTime: 5s\n  bfdProfile: fast", 1))
		Eventually(renderedConfig).Should(SatisfyAll(
			ContainSubstring("neighbor 192.0.2.2 bfd profile fast"),
			MatchRegexp(`(?m)^\s*profile fast\n(\s+.*\n)*?\s+receive-interval 300`),
		))
		Eventually(func() (map[string]string, error) { return bfdPeers(nodeName) }).Should(HaveKeyWithValue(peerAIPv4, "up"))
		Eventually(peerA.sessionState).Should(Equal(api.PeerState_ESTABLISHED))
	})
})

// grCapWithIPv4 matches a graceful-restart capability that lists IPv4 unicast.
func grCapWithIPv4() OmegaMatcher {
	return WithTransform(func(c bgp.ParameterCapabilityInterface) bool {
		gr, ok := c.(*bgp.CapGracefulRestart)
		if !ok {
			return false
		}
		for _, t := range gr.Tuples {
			if t.AFI == bgp.AFI_IP && t.SAFI == bgp.SAFI_UNICAST {
				return true
			}
		}
		return false
	}, BeTrue())
}

// conditions reads status.conditions of an unstructured object.
func conditions(u *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []metav1.Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		c := metav1.Condition{}
		c.Type, _ = m["type"].(string)
		s, _ := m["status"].(string)
		c.Status = metav1.ConditionStatus(s)
		c.Reason, _ = m["reason"].(string)
		c.Message, _ = m["message"].(string)
		out = append(out, c)
	}
	return out
}
