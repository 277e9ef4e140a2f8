package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/frrk8sdaemon"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/translate"
)

// The boundary proof of issue 10 (Deliver 1). For every field that reaches
// frr.conf, the smallest and largest value admission accepts go through
// admission (a real kube-apiserver with frrgen's CRDs), translate.Build and
// the real frr-k8s v0.0.21 daemon, and FRR 8.4 must accept the frr.conf the
// daemon renders. Then the values just outside each range are written into
// the line frr-k8s renders for the field, and FRR must refuse them (while
// accepting the same line with the edge value), so the accepted range ends
// where FRR's does. Where the limit is not FRR's own (peerPort: frr-k8s's
// API; vrf and interface names: Linux), the spec shows that limit instead.

// fieldBoundaries is, per field that reaches frr.conf, the values at the
// edges of the range admission accepts (smallest first) and the values just
// outside it (issue 10, Deliver 1). It is the e2e suite's own copy until a
// shared boundary table exists.
//
// Outside values that no stage refuses today are left out, because this spec
// must pass on every commit; they belong to admission's own table:
// fractional seconds (holdTime 3.5s is truncated to 3 by frr-k8s, not
// refused), control characters (a newline in a password starts a new FRR
// command, which FRR accepts), and a 16-character vrf (FRR takes it; Linux
// refuses the VRF device, see the vrf spec below).
var fieldBoundaries = []fieldBoundary{
	{field: "BGPPeer spec.myASN", accepted: []string{"1", "4294967295"}, outside: []string{"0", "4294967296"},
		set: peerField("myASN"), rendered: line("router bgp %s")},
	{field: "BGPPeer spec.peerASN", accepted: []string{"1", "4294967295"}, outside: []string{"4294967296"},
		set: peerField("peerASN"), rendered: line("neighbor 192.0.2.2 remote-as %s")},
	{field: "BGPPeer spec.peerPort", accepted: []string{"1", "16384"}, outside: []string{"0", "16385"},
		set: peerField("peerPort"), rendered: line("neighbor 192.0.2.2 port %s")},
	// keepaliveTime is derived as holdTime/3, as MetalLB does.
	{field: "BGPPeer spec.holdTime", accepted: []string{"0s", "3s", "65535s"}, outside: []string{"1s", "2s", "65536s", "3.5s"},
		set: peerField("holdTime"), rendered: func(v string) string {
			return fmt.Sprintf("neighbor 192.0.2.2 timers %d %d", seconds(v)/3, seconds(v))
		}},
	{field: "BGPPeer spec.keepaliveTime", what: "holdTime 65535s", accepted: []string{"0s", "1s", "65535s"}, outside: []string{"65536s"},
		set: func(in *boundaryInput, v string) {
			in.peer["holdTime"] = "65535s"
			in.peer["keepaliveTime"] = v
		}, rendered: func(v string) string { return fmt.Sprintf("neighbor 192.0.2.2 timers %d 65535", seconds(v)) }},
	// Without holdTime, holdTime is 3 × keepaliveTime, so keepaliveTime
	// stops at 21845s.
	{field: "BGPPeer spec.keepaliveTime", what: "no holdTime", accepted: []string{"1s", "21845s"}, outside: []string{"21846s"},
		set: peerField("keepaliveTime"), rendered: func(v string) string {
			return fmt.Sprintf("neighbor 192.0.2.2 timers %d %d", seconds(v), 3*seconds(v))
		}},
	{field: "BGPPeer spec.connectTime", accepted: []string{"1s", "65535s"}, outside: []string{"0s", "65536s"},
		set: peerField("connectTime"), rendered: func(v string) string {
			return fmt.Sprintf("neighbor 192.0.2.2 timers connect %d", seconds(v))
		}},
	{field: "BGPPeer spec.password", accepted: []string{"x", longestPassword}, outside: []string{longestPassword + "q", "a b", "abc\n neighbor 6.6.6.6 remote-as 666\n"},
		set:      func(in *boundaryInput, v string) { in.peer["password"] = strconv.Quote(v) },
		rendered: line("neighbor 192.0.2.2 password %s")},
	{field: "BGPPeer spec.vrf", accepted: []string{"v", "vrf-0123456789a"}, outside: []string{"vrf-0123456789ab", `"r\nexit"`},
		set: peerField("vrf"), rendered: line("router bgp 64512 vrf %s")},
	{field: "BGPPeer spec.interface", accepted: []string{"e", "eth-0123456789a"}, outside: []string{"eth-0123456789ab"},
		set: func(in *boundaryInput, v string) {
			delete(in.peer, "peerAddress")
			in.peer["interface"] = v
		}, rendered: line("neighbor %s interface remote-as 64513")},
	{field: "BFDProfile spec.receiveInterval", accepted: []string{"10", "60000"}, outside: []string{"9", "60001"},
		set: bfdField("receiveInterval"), rendered: line("receive-interval %s")},
	{field: "BFDProfile spec.transmitInterval", accepted: []string{"10", "60000"}, outside: []string{"9", "60001"},
		set: bfdField("transmitInterval"), rendered: line("transmit-interval %s")},
	{field: "BFDProfile spec.echoInterval", accepted: []string{"10", "60000"}, outside: []string{"9", "60001"},
		set: bfdField("echoInterval"), rendered: line("echo receive-interval %s")},
	{field: "BFDProfile spec.detectMultiplier", accepted: []string{"2", "255"}, outside: []string{"1", "256"},
		set: bfdField("detectMultiplier"), rendered: line("detect-multiplier %s")},
	{field: "BFDProfile spec.minimumTtl", accepted: []string{"1", "254"}, outside: []string{"0", "255"},
		set: bfdField("minimumTtl"), rendered: line("minimum-ttl %s")},
	// localPref 0 is MetalLB's "not set": no set local-preference line.
	{field: "BGPAdvertisement spec.localPref", accepted: []string{"0", "1", "4294967295"}, outside: []string{"4294967296"},
		set: advertisementField("localPref"), rendered: func(v string) string {
			if v == "0" {
				return ""
			}
			return "set local-preference " + v
		}},
	{field: "BGPAdvertisement spec.communities", accepted: []string{"0:0", "65535:65535"}, outside: []string{"65536:0", "0:65536"},
		set: communityField, rendered: line("set community %s additive")},
	{field: "BGPAdvertisement spec.communities", what: "large", accepted: []string{"large:0:0:0", "large:4294967295:4294967295:4294967295"},
		outside: []string{"large:4294967296:0:0", "large:0:4294967296:0", "large:0:0:4294967296"},
		set:     communityField, rendered: func(v string) string { return "set large-community " + strings.TrimPrefix(v, "large:") + " additive" }},
	// Admission's smallest aggregation is 1 (0 would be FRR's); it needs a
	// pool no longer than /1.
	{field: "BGPAdvertisement spec.aggregationLength", accepted: []string{"1", "32"}, outside: []string{"0", "33"},
		set: func(in *boundaryInput, v string) {
			if v == "1" {
				in.pool[0] = "128.0.0.0/1"
			}
			in.advertisement["aggregationLength"] = v
		}, rendered: func(v string) string {
			if v == "1" {
				return "permit 128.0.0.0/1"
			}
			return "permit 198.51.100.10/32"
		}},
	{field: "BGPAdvertisement spec.aggregationLengthV6", accepted: []string{"1", "128"}, outside: []string{"0", "129"},
		set: func(in *boundaryInput, v string) {
			if v == "1" {
				in.pool[1] = "::/1"
			}
			in.advertisement["aggregationLengthV6"] = v
		}, rendered: func(v string) string {
			if v == "1" {
				return "permit ::/1"
			}
			return "permit 2001:db8:5::10/128"
		}},
}

// reachesFRRToday lists the outside values that admission and translate let
// through on this commit, so that FRR is the first to refuse them: defects
// that issue 10 (Deliver 1) fixes. Every other outside value must be refused
// by admission or translate naming the field; a listed value that is refused
// there must leave the list (the spec says so).
var reachesFRRToday = map[string][]string{}

// longestPassword is 80 bytes (the TCP-MD5 key limit) of every printable
// ASCII character but space, so FRR must take each character class too.
const longestPassword = `!"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_` + "`" + `abcdefghijklmnop`

// frrLineBoundaries is, per field, the frr.conf text frr-k8s renders for it
// (one %s), the edge values FRR must accept in it and the values just
// outside that FRR itself must refuse.
var frrLineBoundaries = []frrLineBoundary{
	// For AS 4294967295 (and 65535) bgpd prints "Reserved AS used" (RFC
	// 7300) and takes it.
	{"BGPPeer spec.myASN", "router bgp %s\nexit\n", []string{"1", "4294967295"}, []string{"0", "4294967296"}},
	{"BGPPeer spec.peerASN", neighborConf("neighbor 192.0.2.2 remote-as %s"), []string{"1", "4294967295"}, []string{"0", "4294967296"}},
	// frr-k8s renders keepalive then hold; hold is 0 or 3-65535.
	{"BGPPeer spec.holdTime", neighborConf("neighbor 192.0.2.2 timers 0 %s"), []string{"0", "3", "65535"}, []string{"1", "2", "65536"}},
	{"BGPPeer spec.keepaliveTime", neighborConf("neighbor 192.0.2.2 timers %s 65535"), []string{"0", "65535"}, []string{"65536"}},
	{"BGPPeer spec.connectTime", neighborConf("neighbor 192.0.2.2 timers connect %s"), []string{"1", "65535"}, []string{"0", "65536"}},
	// FRR limits the password to 80 bytes itself (bgpd: "% Invalid value"),
	// the TCP-MD5 key size of Linux; whitespace ends the word FRR reads. A
	// newline is not refused: it starts a new command (issue 10's config
	// injection), which is why admission refuses control characters.
	{"BGPPeer spec.password", neighborConf("neighbor 192.0.2.2 password %s"), []string{"x", longestPassword}, []string{longestPassword + "q", "a b", "a\tb"}},
	{"BFDProfile spec.receiveInterval", bfdConf("receive-interval %s"), []string{"10", "60000"}, []string{"9", "60001"}},
	{"BFDProfile spec.transmitInterval", bfdConf("transmit-interval %s"), []string{"10", "60000"}, []string{"9", "60001"}},
	{"BFDProfile spec.echoInterval", bfdConf("echo transmit-interval %s\n  echo receive-interval %[1]s"), []string{"10", "60000"}, []string{"9", "60001"}},
	{"BFDProfile spec.detectMultiplier", bfdConf("detect-multiplier %s"), []string{"2", "255"}, []string{"1", "256"}},
	{"BFDProfile spec.minimumTtl", bfdConf("minimum-ttl %s"), []string{"1", "254"}, []string{"0", "255"}},
	{"BGPAdvertisement spec.localPref", routeMapConf("set local-preference %s"), []string{"0", "4294967295"}, []string{"4294967296"}},
	{"BGPAdvertisement spec.communities", routeMapConf("set community %s additive"), []string{"0:0", "65535:65535"}, []string{"65536:0", "0:65536"}},
	{"BGPAdvertisement spec.communities (large)", routeMapConf("set large-community %s additive"),
		[]string{"0:0:0", "4294967295:4294967295:4294967295"}, []string{"4294967296:0:0", "0:4294967296:0", "0:0:4294967296"}},
	{"BGPAdvertisement spec.aggregationLength", "ip prefix-list b seq 1 permit 128.0.0.0/%s\n", []string{"1", "32"}, []string{"33"}},
	{"BGPAdvertisement spec.aggregationLengthV6", "ipv6 prefix-list b seq 1 permit ::/%s\n", []string{"1", "128"}, []string{"129"}},
}

type fieldBoundary struct {
	field string // "<Kind> <JSON path>": refusals must name the path
	what  string // what else the case sets, if anything
	// accepted and outside are YAML scalars.
	accepted, outside []string
	set               func(in *boundaryInput, v string)
	// rendered is a line frr.conf must contain for an accepted v, proof that
	// the value reached FRR; "" when frr-k8s renders nothing for it.
	rendered func(v string) string
}

// path is the field's JSON path, e.g. spec.holdTime.
func (b fieldBoundary) path() string { return b.field[strings.IndexByte(b.field, ' ')+1:] }

func (b fieldBoundary) String() string {
	if b.what == "" {
		return b.field
	}
	return b.field + " (" + b.what + ")"
}

type frrLineBoundary struct {
	field          string
	conf           string // frr.conf text with one %s
	edges, outside []string
}

// boundaryInput is one case's MetalLB objects: a BGPPeer, an optional
// BFDProfile, one BGPAdvertisement of one dual-stack pool, and a service
// with an IPv4 and an IPv6 address and an endpoint on the node.
type boundaryInput struct {
	peer, bfdProfile, advertisement map[string]string // spec field → YAML value
	pool                            []string
}

func newBoundaryInput() *boundaryInput {
	return &boundaryInput{
		peer: map[string]string{"myASN": "64512", "peerASN": "64513", "peerAddress": "192.0.2.2",
			"dualStackAddressFamily": "true"},
		advertisement: map[string]string{"ipAddressPools": "[boundary]"},
		pool:          []string{"198.51.100.0/24", "2001:db8:5::/64"},
	}
}

const boundaryNode = "boundary-node"

// yaml renders the objects; keys sorted, so a case reads the same each time.
func (in *boundaryInput) yaml() string {
	spec := func(fields map[string]string) string {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			fmt.Fprintf(&b, "  %s: %s\n", k, fields[k])
		}
		return b.String()
	}
	var pool []string
	for _, cidr := range in.pool {
		pool = append(pool, strconv.Quote(cidr))
	}
	docs := []string{
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: boundary, namespace: metallb-system}\nspec:\n  addresses: [" + strings.Join(pool, ", ") + "]\n",
		"apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: boundary, namespace: metallb-system}\nspec:\n" + spec(in.advertisement),
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: boundary, namespace: metallb-system}\nspec:\n" + spec(in.peer),
	}
	if in.bfdProfile != nil {
		docs = append(docs, "apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: boundary, namespace: metallb-system}\nspec:\n"+spec(in.bfdProfile))
	}
	docs = append(docs, `apiVersion: v1
kind: Node
metadata:
  name: `+boundaryNode+`
  labels: {kubernetes.io/hostname: `+boundaryNode+`}
`, `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
status:
  loadBalancer:
    ingress: [{ip: 198.51.100.10}, {ip: "2001:db8:5::10"}]
`)
	for _, family := range []string{"IPv4", "IPv6"} {
		addr := map[string]string{"IPv4": "10.244.0.3", "IPv6": "fd00:10:244::3"}[family]
		docs = append(docs, `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-`+strings.ToLower(family)+`
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: `+family+`
endpoints:
- addresses: ["`+addr+`"]
  nodeName: `+boundaryNode+`
`)
	}
	return strings.Join(docs, "---\n")
}

func peerField(name string) func(*boundaryInput, string) {
	return func(in *boundaryInput, v string) { in.peer[name] = v }
}

func bfdField(name string) func(*boundaryInput, string) {
	return func(in *boundaryInput, v string) {
		in.peer["bfdProfile"] = "boundary"
		in.bfdProfile = map[string]string{name: v}
	}
}

func communityField(in *boundaryInput, v string) {
	in.advertisement["communities"] = "[" + strconv.Quote(v) + "]"
}

func advertisementField(name string) func(*boundaryInput, string) {
	return func(in *boundaryInput, v string) { in.advertisement[name] = v }
}

func line(format string) func(string) string {
	return func(v string) string { return fmt.Sprintf(format, v) }
}

func neighborConf(neighborLine string) string {
	return "router bgp 64512\n neighbor 192.0.2.2 remote-as 64513\n " + neighborLine + "\nexit\n"
}

func bfdConf(profileLine string) string {
	return "bfd\n profile b\n  " + profileLine + "\n exit\nexit\n"
}

func routeMapConf(setLine string) string {
	return "route-map b permit 1\n " + setLine + "\nexit\n"
}

// seconds reads a duration written in whole seconds.
func seconds(v string) int64 {
	d, err := time.ParseDuration(v)
	Expect(err).NotTo(HaveOccurred())
	return int64(d / time.Second)
}

// boundaryCase is one value of one field, through every stage.
type boundaryCase struct {
	boundary fieldBoundary
	value    string
	input    string
}

func newBoundaryCase(b fieldBoundary, v string) boundaryCase {
	in := newBoundaryInput()
	b.set(in, v)
	return boundaryCase{boundary: b, value: v, input: in.yaml()}
}

func (c boundaryCase) String() string { return fmt.Sprintf("%s = %q", c.boundary, c.value) }

func daemonCase(name string, configs []frrv1beta1.FRRConfiguration) frrk8sdaemon.Case {
	return frrk8sdaemon.Case{
		Name:       name,
		NodeLabels: map[string]string{"kubernetes.io/hostname": boundaryNode},
		Namespace:  frrK8sNS,
		Configs:    configs,
	}
}

var _ = Describe("boundaries: what admission accepts, FRR 8.4 accepts; just outside, FRR refuses", Label("boundary"), Ordered, func() {
	var (
		runner *frrk8sdaemon.Runner
		dryRun *frrDryRun
	)
	BeforeAll(func() {
		runner = frrk8sdaemon.Start(GinkgoTB())
		for _, ns := range []string{metallbNS, "default"} {
			err := runner.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
		}
		var err error
		dryRun, err = newFRRDryRun(filepath.Join(workDir, "boundary"))
		Expect(err).NotTo(HaveOccurred())
	})

	It("every accepted edge value is admitted, translated, converted by frr-k8s, and the rendered frr.conf passes FRR's checks", func() {
		var cases []boundaryCase
		for _, b := range fieldBoundaries {
			for _, v := range b.accepted {
				cases = append(cases, newBoundaryCase(b, v))
			}
		}

		By(fmt.Sprintf("admitting the MetalLB objects of %d cases", len(cases)))
		for i, c := range cases {
			Expect(admit(runner, fmt.Sprintf("a%03d", i), c.input)).To(Succeed(), "%s is an accepted edge value: admission must take it", c)
		}

		By("translating every case with translate.Build")
		daemonCases := make([]frrk8sdaemon.Case, len(cases))
		for i, c := range cases {
			configs, refused := translateBoundaryCase(c)
			Expect(refused).To(BeEmpty(), "%s is an accepted edge value: translate must take it", c)
			Expect(configs).To(HaveLen(1), "%s", c)
			daemonCases[i] = daemonCase(fmt.Sprintf("a%03d", i), configs)
		}

		By("rendering every case with the real frr-k8s daemon")
		started := time.Now()
		outcomes := runner.RunAll(daemonCases)
		fmt.Fprintf(GinkgoWriter, "%d cases rendered by frr-k8s in %s\n", len(cases), time.Since(started).Round(time.Second))

		By("checking each frr.conf with vtysh -C and the bgpd and bfdd dry runs")
		for i, c := range cases {
			o := outcomes[i]
			Expect(o.Rejected).To(BeEmpty(), "%s: the apiserver refused our FRRConfiguration", c)
			Expect(o.Err).NotTo(HaveOccurred(), "%s: harness\n%s", c, o.Log)
			Expect(o.Verdict).To(Equal("success"), "%s: frr-k8s refused our configuration\n%s", c, o.Log)
			if want := c.boundary.rendered(c.value); want != "" {
				Expect(o.FRRConf).To(ContainSubstring(want), "%s: the value did not reach frr.conf", c)
			}
			Expect(dryRun.check(fmt.Sprintf("a%03d", i), o.FRRConf)).To(Succeed(), "%s: FRR refuses the frr.conf frr-k8s rendered:\n%s", c, o.FRRConf)
		}
	})

	It("every value just outside a range is refused by admission or translate naming the field (or, for reachesFRRToday, by FRR)", func() {
		var cases []boundaryCase
		for _, b := range fieldBoundaries {
			for _, v := range b.outside {
				cases = append(cases, newBoundaryCase(b, v))
			}
		}
		refusedBy := make([]string, len(cases))
		var daemonCases []frrk8sdaemon.Case
		var daemonCaseOf []int // index in cases
		reachesFRR := func(c boundaryCase) bool { return slices.Contains(reachesFRRToday[c.boundary.String()], c.value) }
		for i, c := range cases {
			path := c.boundary.path()
			if err := admit(runner, fmt.Sprintf("o%03d", i), c.input); err != nil {
				Expect(err.Error()).To(ContainSubstring(path), "%s: refused at admission without naming %s", c, path)
				Expect(reachesFRR(c)).To(BeFalse(), "%s is refused at admission now: remove it from reachesFRRToday", c)
				refusedBy[i] = "admission: " + err.Error()
				continue
			}
			configs, refused := translateBoundaryCase(c)
			if len(refused) > 0 {
				Expect(refused).To(ContainElement(HaveField("Field", HavePrefix(path))), "%s: refused by translate without naming %s", c, path)
				Expect(reachesFRR(c)).To(BeFalse(), "%s is refused by translate now: remove it from reachesFRRToday", c)
				var messages []string
				for _, p := range refused {
					messages = append(messages, p.Message)
				}
				refusedBy[i] = "translate: " + strings.Join(messages, "; ")
				continue
			}
			daemonCases = append(daemonCases, daemonCase(fmt.Sprintf("o%03d", i), configs))
			daemonCaseOf = append(daemonCaseOf, i)
		}
		for j, o := range runner.RunAll(daemonCases) {
			i, c := daemonCaseOf[j], cases[daemonCaseOf[j]]
			Expect(o.Err).NotTo(HaveOccurred(), "%s: harness\n%s", c, o.Log)
			switch {
			case o.Rejected != "":
				refusedBy[i] = "passes admission and translate; frr-k8s's API: " + o.Rejected
			case o.Verdict != "success":
				refusedBy[i] = "passes admission and translate; frr-k8s: " + o.Verdict
			default:
				err := dryRun.check(fmt.Sprintf("o%03d", i), o.FRRConf)
				Expect(err).To(HaveOccurred(), "%s is outside the accepted range, and admission, translate, frr-k8s and FRR all take it:\n%s", c, o.FRRConf)
				refusedBy[i] = "passes admission and translate; FRR: " + err.Error()
			}
			Expect(reachesFRR(c)).To(BeTrue(), "%s %s: admission or translate must refuse it, naming %s", c, refusedBy[i], c.boundary.path())
		}
		for i, c := range cases {
			fmt.Fprintf(GinkgoWriter, "%s: %s\n", c, refusedBy[i])
		}
	})

	It("FRR refuses each value just outside a range, in the line frr-k8s renders for it, and accepts the edge values there", func() {
		for i, b := range frrLineBoundaries {
			for j, v := range b.edges {
				Expect(dryRun.check(fmt.Sprintf("edge%02d-%d", i, j), fmt.Sprintf(b.conf, v))).To(Succeed(), "%s = %q is an edge value: FRR must accept it", b.field, v)
			}
			for j, v := range b.outside {
				err := dryRun.check(fmt.Sprintf("outside%02d-%d", i, j), fmt.Sprintf(b.conf, v))
				Expect(err).To(HaveOccurred(), "%s = %q is outside the accepted range, yet FRR accepts:\n%s", b.field, v, fmt.Sprintf(b.conf, v))
				fmt.Fprintf(GinkgoWriter, "%s = %q: %v\n", b.field, v, err)
			}
		}
	})

	It("peerPort ends where frr-k8s's API does: an FRRConfiguration with port 16385 is refused", func() {
		// FRR itself takes ports up to 65535; frr-k8s v0.0.21's CRD stops at 16384.
		for port, ok := range map[uint16]bool{16384: true, 16385: false} {
			c := frrv1beta1.FRRConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("port-%d", port), Namespace: metallbNS},
				Spec: frrv1beta1.FRRConfigurationSpec{BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{
					ASN: 64512, Neighbors: []frrv1beta1.Neighbor{{Address: "192.0.2.2", ASN: 64513, Port: ptr.To(port)}},
				}}}},
			}
			err := runner.Client.Create(context.Background(), &c)
			if ok {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(ContainSubstring("port")), "port %d", port)
			}
		}
	})

	It("vrf and interface names end where Linux's do: 15 characters", func() {
		// FRR takes longer VRF and interface names (VRF_NAMSIZ 36), but both
		// are Linux interface names, which the kernel caps at IFNAMSIZ-1 = 15
		// bytes ("Attribute failed policy validation"). Shown with a veth
		// pair in a namespace of its own: this kernel has no vrf or dummy
		// module, and the limit is the same for every kind of link.
		ns := "frrgen-e2e-boundary"
		Expect(runAll([]string{"ip", "netns", "add", ns})).To(Succeed())
		DeferCleanup(func() { Expect(runAll([]string{"ip", "netns", "del", ns})).To(Succeed()) })
		for name, ok := range map[string]bool{"vrf-0123456789a": true, "vrf-0123456789ab": false} {
			_, err := run("ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", "boundary-peer")
			if ok {
				Expect(err).NotTo(HaveOccurred())
				Expect(runAll([]string{"ip", "-n", ns, "link", "del", name})).To(Succeed())
			} else {
				Expect(err).To(MatchError(ContainSubstring("Attribute failed policy validation")), "Linux accepted the %d-character interface name %s", len(name), name)
			}
		}
	})
})

// admit creates a case's metallb.io objects, renamed after the case, in the
// runner's apiserver: admission (schema and CEL rules) must take them.
func admit(runner *frrk8sdaemon.Runner, prefix string, input string) error {
	for _, doc := range strings.Split(input, "---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			return err
		}
		if u.GroupVersionKind().Group != "metallb.io" {
			continue
		}
		u.SetName(prefix + "-" + u.GetName())
		if err := runner.Client.Create(context.Background(), u); err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// translateBoundaryCase runs translate.Build on a case and returns the
// configurations and the problems it found.
func translateBoundaryCase(c boundaryCase) ([]frrv1beta1.FRRConfiguration, []translate.Problem) {
	GinkgoHelper()
	objs := &manifest.Objects{}
	Expect(objs.Read(c.String(), strings.NewReader(c.input))).To(Succeed())
	objs.DefaultNamespaces(metallbNS, frrK8sNS)
	r := translate.Build(objs.Snapshot(), translate.Options{Namespace: metallbNS, FRRK8sNamespace: frrK8sNS, NamePrefix: "frrgen-"})
	var problems []translate.Problem
	for _, d := range r.Objects {
		problems = append(problems, d.Problems...)
	}
	Expect(r.Valid).To(Equal(len(problems) == 0), "%s: translate's verdict and its problems disagree", c)
	return r.Configs, problems
}

// frrDryRun checks frr.conf text with FRR 8.4's own dry runs, none of which
// touches a running FRR:
//   - `vtysh -C -f`: the grammar of every daemon (ranges such as
//     (1-65535) live there); it exits non-zero on an unknown command;
//   - `bgpd -C -f` and `bfdd -C -f`: the daemons' handlers run on the
//     file, catching what the grammar lets through (hold time 1 or 2, a
//     community 65536:1, an 81-byte password). They exit 0 either way and log
//     "Config Failed" or "error processing configuration change"; their
//     "No such command" for the other daemons' lines is not an error (vtysh
//     checked those).
type frrDryRun struct{ dir string }

func newFRRDryRun(dir string) (*frrDryRun, error) {
	// bfdd binds its control socket even in a dry run, as user frr.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := chownFRR(dir); err != nil {
		return nil, err
	}
	return &frrDryRun{dir: dir}, nil
}

func (d *frrDryRun) check(name, conf string) error {
	path := filepath.Join(d.dir, name+".conf")
	// The daemons open the log file the config names (frr-k8s names
	// /etc/frr/frr.log): point it into the work directory.
	daemonConf := strings.ReplaceAll(conf, "log file "+frrK8sLogFile, "log file "+filepath.Join(d.dir, "dry-run.log"))
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	daemonPath := filepath.Join(d.dir, name+".daemons.conf")
	if err := os.WriteFile(daemonPath, []byte(daemonConf), 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("vtysh", "-C", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("vtysh -C: %w: %s", err, strings.TrimSpace(string(out)))
	}
	for _, argv := range [][]string{
		{filepath.Join(frrBinDir, "bgpd"), "-C", "-f", daemonPath, "-p", "0", "-P", "0", "--log", "stdout"},
		{filepath.Join(frrBinDir, "bfdd"), "-C", "-f", daemonPath, "-P", "0", "--bfdctl", filepath.Join(d.dir, "bfdd.sock"), "--log", "stdout"},
	} {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s -C: %w: %s", filepath.Base(argv[0]), err, out)
		}
		var failed []string
		for _, l := range strings.Split(string(out), "\n") {
			l = strings.TrimSpace(l)
			if (strings.Contains(l, "Config Failed") || strings.Contains(l, "error processing configuration change")) && !slices.Contains(failed, l) {
				failed = append(failed, l)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%s -C: %s", filepath.Base(argv[0]), strings.Join(failed, "; "))
		}
	}
	return nil
}
