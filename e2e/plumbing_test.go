package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The chain below frrgen: an FRRConfiguration written by hand reaches the
// peer through the frr-k8s daemon, the reloader and bgpd. When this fails,
// the specs that go through frrgen cannot pass either.
var _ = Describe("frr-k8s → FRR → peer (hand-written FRRConfiguration)", Label("plumbing"), func() {
	It("announces the configured prefix to the peer with its community and local preference", func() {
		apply(`
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: e2e-plumbing
  namespace: frr-k8s-system
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: frrgen-e2e-node
  bgp:
    routers:
    - asn: 64512
      prefixes: ["203.0.113.7/32"]
      neighbors:
      - address: 192.0.2.2
        asn: 64512
        connectTime: 5s
        toAdvertise:
          allowed:
            prefixes: ["203.0.113.7/32"]
          withLocalPref:
          - localPref: 250
            prefixes: ["203.0.113.7/32"]
          withCommunity:
          - community: "65535:65282"
            prefixes: ["203.0.113.7/32"]
`)
		Eventually(peerRoutes(peerA)).WithTimeout(60 * time.Second).Should(HaveKeyWithValue("203.0.113.7/32", And(
			HaveField("LocalPref", HaveValue(BeEquivalentTo(250))),
			HaveField("Communities", ConsistOf("65535:65282")),
		)))
		Expect(reloaderStatus()).To(Equal("success"))
	})
})
