// Package badinput is the one table of bad inputs that both layers of
// validation are held to (REVIEW.md item 9): the api/ envtest suite feeds each
// case to a real kube-apiserver, which must refuse it naming the field, and
// internal/translate's test feeds the same case to translate.Build (through
// the YAML reader `frrgen render` uses), which must report it on the object
// and field too, because render reads files that never passed admission.
// Cases admission cannot see (cross-object, Services, EndpointSlices) are
// marked TranslateOnly: the apiserver admits them and translate reports them.
//
// Objects are plain maps, as a user writes them in YAML, so that wrong types
// (a string for a number) can be expressed; they cannot be decoded into the
// Go types, and render's reader must refuse them naming the field.
package badinput

import (
	"fmt"
	"strings"
)

// Object is one Kubernetes object as a user writes it.
type Object = map[string]any

// Namespace holds every metallb.io object of the table.
const Namespace = "metallb-system"

// Stage says which layer must refuse a case.
type Stage int

const (
	// Admission: the apiserver refuses the object naming Field, and
	// translate.Build reports it on the object (TranslateField or Field).
	Admission Stage = iota
	// AdmissionAndDecode: the apiserver refuses it naming Field; the value
	// does not fit the Go type, so render's YAML reader refuses the document
	// with an error naming Field.
	AdmissionAndDecode
	// TranslateOnly: the object is admitted (alone it is well-formed); with
	// World and Context, translate.Build reports it on the object, or, for a
	// Service, gives Reason.
	TranslateOnly
)

func (s Stage) String() string {
	return [...]string{"admission", "admission+decode", "translate"}[s]
}

// Case is one bad input.
type Case struct {
	Name   string
	Object Object
	Stage  Stage
	// Field is the field the apiserver's error must name (a cause's field).
	Field string
	// TranslateField is the field translate names, when it differs from
	// Field (e.g. a selector is judged as a whole: spec.nodeSelectors[0]).
	TranslateField string
	// Warning: translate reports it as a warning, the object stays usable
	// (MetalLB ignores an unknown pool or peer name too).
	Warning bool
	// Reason is, for a Service, what translate says instead of a field.
	Reason string
	// Context are objects the case needs beside World (e.g. a second pool).
	Context []Object
}

// FieldForTranslate is the field translate must name.
func (c *Case) FieldForTranslate() string {
	if c.TranslateField != "" {
		return c.TranslateField
	}
	return c.Field
}

// Kind, Name and namespace of the case's object.
func (c *Case) Kind() string { return c.Object["kind"].(string) }
func (c *Case) ObjectName() string {
	return c.Object["metadata"].(map[string]any)["name"].(string)
}
func (c *Case) ObjectNamespace() string {
	ns, _ := c.Object["metadata"].(map[string]any)["namespace"].(string)
	return ns
}

// World is a small valid cluster every translate case is added to: node-a
// (rack r1), pool base-pool 198.51.100.0/24 with advertisement base-ad, peer
// base-peer, BFDProfile bfd, the basic-auth Secret auth and the alias a1.
func World() []Object {
	return []Object{
		{"apiVersion": "v1", "kind": "Node", "metadata": meta("node-a", "", map[string]any{"kubernetes.io/hostname": "node-a", "rack": "r1"})},
		{"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": meta("base-pool", Namespace, nil),
			"spec": map[string]any{"addresses": []any{"198.51.100.0/24"}}},
		{"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement", "metadata": meta("base-ad", Namespace, nil),
			"spec": map[string]any{"ipAddressPools": []any{"base-pool"}}},
		{"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": meta("base-peer", Namespace, nil),
			"spec": map[string]any{"myASN": 64512, "peerASN": 64513, "peerAddress": "172.30.0.1"}},
		{"apiVersion": "metallb.io/v1beta1", "kind": "BFDProfile", "metadata": meta("bfd", Namespace, nil), "spec": map[string]any{}},
		{"apiVersion": "v1", "kind": "Secret", "metadata": meta("auth", Namespace, nil), "type": "kubernetes.io/basic-auth",
			"stringData": map[string]any{"password": "secret"}},
		{"apiVersion": "metallb.io/v1beta1", "kind": "Community", "metadata": meta("base-aliases", Namespace, nil),
			"spec": map[string]any{"communities": []any{map[string]any{"name": "a1", "value": "1:1"}}}},
	}
}

func meta(name, namespace string, labels map[string]any) map[string]any {
	m := map[string]any{"name": name}
	if namespace != "" {
		m["namespace"] = namespace
	}
	if labels != nil {
		m["labels"] = labels
	}
	return m
}

// mutation changes the spec of a base object; path is dotted
// ("passwordSecret.name").
type mutation func(spec map[string]any)

func set(path string, value any) mutation {
	return func(spec map[string]any) {
		parts := strings.Split(path, ".")
		m := spec
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = value
	}
}

func unset(field string) mutation {
	return func(spec map[string]any) { delete(spec, field) }
}

// builder numbers the objects so that every case has its own name.
type builder struct {
	cases []Case
}

func (b *builder) object(apiVersion, kind string, spec map[string]any, muts []mutation) Object {
	for _, m := range muts {
		m(spec)
	}
	name := fmt.Sprintf("case-%03d", len(b.cases))
	return Object{"apiVersion": apiVersion, "kind": kind, "metadata": meta(name, Namespace, nil), "spec": spec}
}

// Base objects: valid alone and with World.

func (b *builder) peer(muts ...mutation) Object {
	return b.object("metallb.io/v1beta2", "BGPPeer", map[string]any{"myASN": 64512, "peerASN": 64513, "peerAddress": "192.0.2.1"}, muts)
}

func (b *builder) ad(muts ...mutation) Object {
	return b.object("metallb.io/v1beta1", "BGPAdvertisement", map[string]any{"ipAddressPools": []any{"base-pool"}}, muts)
}

func (b *builder) pool(muts ...mutation) Object {
	return b.object("metallb.io/v1beta1", "IPAddressPool", map[string]any{"addresses": []any{"203.0.113.0/24"}}, muts)
}

func (b *builder) community(muts ...mutation) Object {
	return b.object("metallb.io/v1beta1", "Community", map[string]any{"communities": []any{map[string]any{"name": "c1", "value": "2:2"}}}, muts)
}

func (b *builder) bfd(muts ...mutation) Object {
	return b.object("metallb.io/v1beta1", "BFDProfile", map[string]any{"receiveInterval": 300}, muts)
}

func (b *builder) add(c Case) { b.cases = append(b.cases, c) }

func (b *builder) refused(name, field string, obj Object) {
	b.add(Case{Name: name, Object: obj, Stage: Admission, Field: field})
}

func (b *builder) refusedAs(name, field, translateField string, obj Object) {
	b.add(Case{Name: name, Object: obj, Stage: Admission, Field: field, TranslateField: translateField})
}

func (b *builder) undecodable(name, field string, obj Object) {
	b.add(Case{Name: name, Object: obj, Stage: AdmissionAndDecode, Field: field})
}

func (b *builder) translateOnly(name, field string, obj Object, context ...Object) {
	b.add(Case{Name: name, Object: obj, Stage: TranslateOnly, Field: field, Context: context})
}

func alias(name, value string) []any {
	return []any{map[string]any{"name": name, "value": value}}
}

func selectors(s ...map[string]any) []any {
	out := make([]any, len(s))
	for i := range s {
		out[i] = s[i]
	}
	return out
}

func expr(key, op string, values ...any) map[string]any {
	e := map[string]any{"key": key, "operator": op}
	if values != nil {
		e["values"] = values
	}
	return map[string]any{"matchExpressions": []any{e}}
}

func labels(k, v string) map[string]any {
	return map[string]any{"matchLabels": map[string]any{k: v}}
}

func strs(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// unsafeStrings are the strings that could carry config text into frr.conf
// or that FRR cannot parse as one word, each with its name.
var unsafeStrings = []struct{ name, s string }{
	{"a newline and an injected neighbor", "abc\n neighbor 6.6.6.6 remote-as 666\n"},
	{"a newline", "r\nexit"},
	{"a carriage return", "a\rb"},
	{"a tab", "a\tb"},
	{"a space", "eth0 x"},
	{"a NUL byte", "a\x00b"},
	{"an escape character", "a\x1bb"},
	{"DEL", "a\x7fb"},
	{"non-ASCII letters", "mot-de-passé"},
	{"a no-break space", "a\u00a0b"},
	{"a line separator", "a\u2028b"},
}

// Cases returns the table. Names are unique and say what is wrong.
func Cases() []Case {
	b := &builder{}
	b.configInjection()
	b.valuesFRRRefuses()
	b.addresses()
	b.communities()
	b.pools()
	b.selectorCases()
	b.otherRanges()
	b.wrongTypes()
	b.crossObject()
	b.services()
	return b.cases
}

// configInjection: strings that reach frr.conf must be one printable word.
func (b *builder) configInjection() {
	for _, u := range unsafeStrings {
		b.refused("config injection: password with "+u.name, "spec.password", b.peer(set("password", u.s)))
		b.refused("config injection: vrf with "+u.name, "spec.vrf", b.peer(set("vrf", shorten(u.s))))
		b.refused("config injection: interface with "+u.name, "spec.interface", b.peer(unset("peerAddress"), set("interface", shorten(u.s))))
		b.refused("config injection: bfdProfile with "+u.name, "spec.bfdProfile", b.peer(set("bfdProfile", shorten(u.s))))
	}
	b.refused("config injection: peerAddress with a newline", "spec.peerAddress", b.peer(set("peerAddress", "192.0.2.1\nexit")))
	b.refused("config injection: sourceAddress with a space", "spec.sourceAddress", b.peer(set("sourceAddress", "192.0.2.2 x")))
	b.refused("config injection: routerID with a newline", "spec.routerID", b.peer(set("routerID", "10.0.0.1\n")))
	b.refused("config injection: passwordSecret.name with a newline", "spec.passwordSecret.name", b.peer(set("passwordSecret.name", "auth\nx")))
	b.refused("config injection: alias name with a space", "spec.communities[0].name", b.community(set("communities", alias("no advertise", "1:2"))))
	b.refused("config injection: alias value with a newline", "spec.communities[0].value", b.community(set("communities", alias("c1", "1:2\n"))))
	b.refused("config injection: advertisement community with a newline", "spec.communities[0]", b.ad(set("communities", []any{"65535:65282\nexit"})))
	b.refused("config injection: advertisement community alias with a space", "spec.communities[0]", b.ad(set("communities", []any{"vpn only"})))
	b.refused("config injection: pool address with a newline", "spec.addresses[0]", b.pool(set("addresses", []any{"203.0.113.0/24\n"})))
}

// shorten keeps a value within 15 bytes so that the length rule is not what
// refuses it.
func shorten(s string) string {
	if len(s) > 15 {
		return s[:15]
	}
	return s
}

func (b *builder) valuesFRRRefuses() {
	hold := []struct{ name, v string }{
		{"65536s, above FRR's 65535", "65536s"}, {"100000h", "100000h"}, {"18h12m16s (65536s)", "18h12m16s"},
		{"3.5s, not whole seconds", "3.5s"}, {"2s", "2s"}, {"1s", "1s"}, {"500ms", "500ms"}, {"-3s", "-3s"},
		{"3001ms", "3001ms"}, {"3.0001s (sub-millisecond)", "3.0001s"}, {"1us", "1us"},
	}
	for _, h := range hold {
		b.refused("holdTime "+h.name, "spec.holdTime", b.peer(set("holdTime", h.v)))
	}
	// Go's time.ParseDuration refuses these too.
	for _, h := range []struct{ name, v string }{{"3 seconds", "3 seconds"}, {"an empty string", ""}, {"99999999999999999999h (overflows Go's Duration)", "99999999999999999999h"}} {
		b.undecodable("holdTime "+h.name, "spec.holdTime", b.peer(set("holdTime", h.v)))
	}
	for _, k := range []struct{ name, v string }{{"65536s", "65536s"}, {"1.5s", "1.5s"}, {"-1s", "-1s"}, {"700ms", "700ms"}, {"1h0m0.5s", "1h0m0.5s"}} {
		b.refused("keepaliveTime "+k.name, "spec.keepaliveTime", b.peer(set("holdTime", "65535s"), set("keepaliveTime", k.v)))
	}
	b.refused("keepaliveTime greater than holdTime", "spec.keepaliveTime", b.peer(set("holdTime", "3s"), set("keepaliveTime", "4s")))
	b.refused("keepaliveTime with holdTime 0", "spec.keepaliveTime", b.peer(set("holdTime", "0s"), set("keepaliveTime", "1s")))
	b.refused("keepaliveTime 21846s alone (derived holdTime 65538s)", "spec.keepaliveTime", b.peer(set("keepaliveTime", "21846s")))
	b.refused("keepaliveTime 30000s alone", "spec.keepaliveTime", b.peer(set("keepaliveTime", "30000s")))
	for _, c := range []string{"0s", "65536s", "1.5s", "-1s", "100000h", "500ms"} {
		b.refused("connectTime "+c, "spec.connectTime", b.peer(set("connectTime", c)))
	}
	b.refused("password of 81 bytes", "spec.password", b.peer(set("password", strings.Repeat("p", 81))))
	b.refused("password of 100 bytes", "spec.password", b.peer(set("password", strings.Repeat("0123456789", 10))))
	b.refused("vrf of 16 characters", "spec.vrf", b.peer(set("vrf", "vrf-of-16-chars!")))
	for _, v := range []string{"red/blue", "red:1", ".", ".."} {
		b.refused("vrf "+v, "spec.vrf", b.peer(set("vrf", v)))
		b.refused("interface "+v, "spec.interface", b.peer(unset("peerAddress"), set("interface", v)))
	}
	b.refused("interface of 16 characters", "spec.interface", b.peer(unset("peerAddress"), set("interface", "eth0123456789abc")))
	b.refused("bfdProfile of 64 characters", "spec.bfdProfile", b.peer(set("bfdProfile", strings.Repeat("b", 64))))
	b.refused("bfdProfile with capitals", "spec.bfdProfile", b.peer(set("bfdProfile", "Fast")))
	b.refused("password and passwordSecret", "spec.passwordSecret", b.peer(set("password", "x"), set("passwordSecret.name", "auth")))
	b.refused("passwordSecret.name not a Secret name", "spec.passwordSecret.name", b.peer(set("passwordSecret.name", "Auth_Secret")))
	b.refused("passwordSecret.namespace not a namespace name", "spec.passwordSecret.namespace", b.peer(set("passwordSecret.name", "auth"), set("passwordSecret.namespace", "a/b")))
}

func (b *builder) addresses() {
	for _, a := range []struct{ name, v string }{
		{"fe80::1, link-local without an interface", "fe80::1"},
		{"febf::1, the top of fe80::/10", "febf::1"},
		{"fe80::1%eth0, with a zone", "fe80::1%eth0"},
		{":: (unspecified)", "::"},
		{"0.0.0.0 (unspecified)", "0.0.0.0"},
		{"224.0.0.5 (multicast)", "224.0.0.5"},
		{"ff02::1 (multicast)", "ff02::1"},
		{"255.255.255.255 (broadcast)", "255.255.255.255"},
		{"::ffff:192.0.2.1 (IPv4-mapped)", "::ffff:192.0.2.1"},
		{"192.0.2.256", "192.0.2.256"},
		{"a host name", "peer.example.com"},
	} {
		b.refused("peerAddress "+a.name, "spec.peerAddress", b.peer(set("peerAddress", a.v)))
	}
	b.refused("sourceAddress fe80::2, link-local", "spec.sourceAddress", b.peer(set("peerAddress", "2001:db8::1"), set("sourceAddress", "fe80::2")))
	b.refused("sourceAddress 0.0.0.0", "spec.sourceAddress", b.peer(set("sourceAddress", "0.0.0.0")))
	b.refused("sourceAddress 239.1.1.1 (multicast)", "spec.sourceAddress", b.peer(set("sourceAddress", "239.1.1.1")))
	b.refused("routerID 0.0.0.0", "spec.routerID", b.peer(set("routerID", "0.0.0.0")))
	b.refused("routerID IPv6", "spec.routerID", b.peer(set("routerID", "2001:db8::1")))
	b.refused("routerID not an IP", "spec.routerID", b.peer(set("routerID", "router-1")))
	b.refused("both peerAddress and interface", "spec.interface", b.peer(set("interface", "eth0")))
	b.refused("neither peerAddress nor interface", "spec.peerAddress", b.peer(unset("peerAddress")))
}

func (b *builder) communities() {
	for _, n := range []string{"65535:65282", "large:1:2:3", "1:2", "a:b", "x:y:z:w", "0:0"} {
		b.refused("alias shadows a literal: alias named "+n, "spec.communities[0].name", b.community(set("communities", alias(n, "1:1"))))
	}
	for _, v := range []string{"65536:1", "1:2:3", "large:1:2", "no-advertise", "", "large:1:2:4294967296"} {
		b.refused("alias value "+quoteEmpty(v), "spec.communities[0].value", b.community(set("communities", alias("c1", v))))
	}
	for _, c := range []string{"70000:1", "1:x", "big:1:2:3", "large:1:2:4294967296"} {
		b.refused("advertisement community "+c, "spec.communities[0]", b.ad(set("communities", []any{c})))
	}
	b.refused("advertisement community listed twice", "spec.communities[1]", b.ad(set("communities", []any{"1:1", "1:1"})))
	b.refused("64 distinct communities", "spec.communities", b.ad(set("communities", strs("65000:", 64))))
	b.refusedAs("alias name listed twice in one Community", "spec.communities[1]", "spec.communities[1].name", b.community(set("communities", []any{
		map[string]any{"name": "c1", "value": "1:1"}, map[string]any{"name": "c1", "value": "1:2"}})))
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func (b *builder) pools() {
	b.refusedAs("pool overlaps itself (10.0.0.0/8 and 10.0.0.0/24)", "spec.addresses", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.0/8", "10.0.0.0/24"})))
	b.refusedAs("pool overlaps itself (IPv6)", "spec.addresses", "spec.addresses[1]", b.pool(set("addresses", []any{"2001:db8::/32", "2001:db8:1::/48"})))
	b.refusedAs("pool entries equal once masked", "spec.addresses", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.0/24", "10.0.0.1/24"})))
	b.refused("pool repeats an entry", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.0/24", "10.0.0.0/24"})))
	b.refused("pool repeats a range", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.1-10.0.0.5", "10.0.0.1-10.0.0.5"})))
	b.translateOnly("pool range overlaps a CIDR of the pool", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.0/24", "10.0.0.5-10.0.0.9"})))
	b.translateOnly("pool ranges overlap each other", "spec.addresses[1]", b.pool(set("addresses", []any{"10.0.0.1-10.0.0.9", "10.0.0.5-10.0.0.20"})))
	b.translateOnly("pool IPv6 range reversed", "spec.addresses[0]", b.pool(set("addresses", []any{"2001:db8::9-2001:db8::1"})))
	b.refused("pool without addresses", "spec.addresses", b.pool(set("addresses", []any{})))
	b.refused("pool of 129 addresses", "spec.addresses", b.pool(set("addresses", hosts(129))))
	for _, a := range []string{"10.0.0.0/33", "300.0.0.0/8", "foo", "10.0.0.9-10.0.0.1", "10.0.0.1-2001:db8::1", "10.0.0.1-banana"} {
		b.refused("pool address "+a, "spec.addresses[0]", b.pool(set("addresses", []any{a})))
	}
	b.refused("pool allocation lists a namespace twice", "spec.serviceAllocation.namespaces[1]", b.pool(set("serviceAllocation.namespaces", []any{"a", "a"})))
}

func hosts(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.1.%d.%d/32", i/250, i%250)
	}
	return out
}

// selectorCases: every selector field, each malformed in every way.
func (b *builder) selectorCases() {
	fields := []struct {
		name string
		obj  func(muts ...mutation) Object
		path string // dotted, inside spec
	}{
		{"BGPPeer nodeSelectors", b.peer, "nodeSelectors"},
		{"BGPAdvertisement nodeSelectors", b.ad, "nodeSelectors"},
		{"BGPAdvertisement serviceSelectors", b.ad, "serviceSelectors"},
		{"BGPAdvertisement ipAddressPoolSelectors", b.ad, "ipAddressPoolSelectors"},
		{"IPAddressPool serviceAllocation.namespaceSelectors", b.pool, "serviceAllocation.namespaceSelectors"},
		{"IPAddressPool serviceAllocation.serviceSelectors", b.pool, "serviceAllocation.serviceSelectors"},
	}
	for _, f := range fields {
		at := "spec." + f.path + "[0]"
		bad := []struct {
			name, field string
			sel         map[string]any
		}{
			{"operator Foo", ".matchExpressions[0].operator", expr("rack", "Foo", "r1")},
			{"key bad key!", ".matchExpressions[0].key", expr("bad key!", "Exists")},
			{"In without values", ".matchExpressions[0].values", expr("rack", "In")},
			{"NotIn with an empty list of values", ".matchExpressions[0].values", expr("rack", "NotIn", []any{}...)},
			{"Exists with values", ".matchExpressions[0].values", expr("rack", "Exists", "r1")},
			{"value with a space", ".matchExpressions[0].values[0]", expr("rack", "In", "r 1")},
			{"matchLabels key with a space", ".matchLabels", labels("bad key", "r1")},
			{"matchLabels value with a newline", ".matchLabels.rack", labels("rack", "r1\nx")},
		}
		for _, s := range bad {
			if s.name == "NotIn with an empty list of values" {
				s.sel["matchExpressions"].([]any)[0].(map[string]any)["values"] = []any{}
			}
			b.refusedAs(f.name+" with "+s.name, at+s.field, at, f.obj(set(f.path, selectors(s.sel))))
		}
		b.refused(f.name+": 33 selectors", "spec."+f.path, f.obj(set(f.path, manySelectors(33))))
		exprs := make([]any, 33)
		for i := range exprs {
			exprs[i] = map[string]any{"key": fmt.Sprintf("k%d", i), "operator": "Exists"}
		}
		b.refused(f.name+": 33 match expressions", at+".matchExpressions", f.obj(set(f.path, selectors(map[string]any{"matchExpressions": exprs}))))
		b.refused(f.name+": 65 values", at+".matchExpressions[0].values", f.obj(set(f.path, selectors(expr("rack", "In", strs("r", 65)...)))))
		matchLabels := map[string]any{}
		for i := 0; i < 65; i++ {
			matchLabels[fmt.Sprintf("k%d", i)] = "v"
		}
		b.refused(f.name+": 65 matchLabels", at+".matchLabels", f.obj(set(f.path, selectors(map[string]any{"matchLabels": matchLabels}))))
		b.add(Case{Name: f.name + ": one selector listed twice", Stage: TranslateOnly, Field: "spec." + f.path + "[1]",
			Object: f.obj(set(f.path, selectors(labels("rack", "r1"), labels("rack", "r1"))))})
	}
}

func manySelectors(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = labels("rack", fmt.Sprintf("r%d", i))
	}
	return out
}

func (b *builder) otherRanges() {
	for _, r := range []struct {
		field string
		value int
	}{{"receiveInterval", 9}, {"receiveInterval", 60001}, {"transmitInterval", 9}, {"echoInterval", 60001},
		{"detectMultiplier", 1}, {"detectMultiplier", 256}, {"minimumTtl", 0}, {"minimumTtl", 255}} {
		b.refused(fmt.Sprintf("BFD %s %d", r.field, r.value), "spec."+r.field, b.bfd(set(r.field, r.value)))
	}
	long := b.bfd()
	long["metadata"].(map[string]any)["name"] = strings.Repeat("b", 64)
	b.refused("BFDProfile name of 64 characters (FRR's limit)", "metadata.name", long)
	b.refused("aggregationLength 0", "spec.aggregationLength", b.ad(set("aggregationLength", 0)))
	b.refused("aggregationLength 33", "spec.aggregationLength", b.ad(set("aggregationLength", 33)))
	b.refused("aggregationLengthV6 129", "spec.aggregationLengthV6", b.ad(set("aggregationLengthV6", 129)))
	b.refused("serviceSelectors with aggregationLength 24", "spec.serviceSelectors", b.ad(set("aggregationLength", 24), set("serviceSelectors", selectors(labels("app", "web")))))
	b.refused("peers listed twice", "spec.peers[1]", b.ad(set("peers", []any{"base-peer", "base-peer"})))
	b.refused("ipAddressPools listed twice", "spec.ipAddressPools[1]", b.ad(set("ipAddressPools", []any{"base-pool", "base-pool"})))
	b.refused("1001 peers", "spec.peers", b.ad(set("peers", strs("peer-", 1001))))
	b.refused("1001 ipAddressPools", "spec.ipAddressPools", b.ad(set("ipAddressPools", strs("pool-", 1001))))
	b.refused("pool allocation of 1001 namespaces", "spec.serviceAllocation.namespaces", b.pool(set("serviceAllocation.namespaces", strs("ns-", 1001))))
	aliases := make([]any, 1001)
	for i := range aliases {
		aliases[i] = map[string]any{"name": fmt.Sprintf("alias-%d", i), "value": "1:1"}
	}
	b.refused("Community of 1001 aliases", "spec.communities", b.community(set("communities", aliases)))
	b.refused("myASN 0", "spec.myASN", b.peer(set("myASN", 0)))
	b.refused("peerASN and dynamicASN", "spec.dynamicASN", b.peer(set("dynamicASN", "internal")))
	b.refused("neither peerASN nor dynamicASN", "spec.peerASN", b.peer(unset("peerASN")))
	b.refused("dynamicASN foo", "spec.dynamicASN", b.peer(unset("peerASN"), set("dynamicASN", "foo")))
	b.refused("peerPort 16385", "spec.peerPort", b.peer(set("peerPort", 16385)))
	b.refused("ebgpMultiHop on an iBGP session", "spec.ebgpMultiHop", b.peer(set("peerASN", 64512), set("ebgpMultiHop", true)))
}

// wrongTypes: values the Go types cannot hold.
func (b *builder) wrongTypes() {
	b.undecodable("myASN 4294967296 (2^32)", "spec.myASN", b.peer(set("myASN", int64(4294967296))))
	b.undecodable("peerASN 4294967296 (2^32)", "spec.peerASN", b.peer(set("peerASN", int64(4294967296))))
	b.undecodable("localASN 4294967296 (2^32)", "spec.localASN", b.peer(set("localASN", int64(4294967296))))
	b.undecodable("myASN -1", "spec.myASN", b.peer(set("myASN", -1)))
	b.undecodable("myASN as a string", "spec.myASN", b.peer(set("myASN", "64512")))
	b.undecodable("peerPort 65536", "spec.peerPort", b.peer(set("peerPort", 65536)))
	b.undecodable("holdTime as a number", "spec.holdTime", b.peer(set("holdTime", 90)))
	// The YAML reader turns a number into the string a Go string field wants.
	b.refused("peerAddress as a number", "spec.peerAddress", b.peer(set("peerAddress", 1)))
	b.undecodable("ebgpMultiHop as a string", "spec.ebgpMultiHop", b.peer(set("ebgpMultiHop", "yes")))
	b.undecodable("nodeSelectors as a string", "spec.nodeSelectors", b.peer(set("nodeSelectors", "rack=r1")))
	b.undecodable("localPref 4294967296", "spec.localPref", b.ad(set("localPref", int64(4294967296))))
	b.undecodable("localPref -1", "spec.localPref", b.ad(set("localPref", -1)))
	b.undecodable("aggregationLength 24.5", "spec.aggregationLength", b.ad(set("aggregationLength", 24.5)))
	b.undecodable("communities as a string", "spec.communities", b.ad(set("communities", "65535:65282")))
	b.undecodable("addresses as a string", "spec.addresses", b.pool(set("addresses", "203.0.113.0/24")))
	b.undecodable("detectMultiplier 2.5", "spec.detectMultiplier", b.bfd(set("detectMultiplier", 2.5)))
	b.undecodable("receiveInterval as a string", "spec.receiveInterval", b.bfd(set("receiveInterval", "300")))
}

// crossObject: well-formed alone, wrong with the rest of the cluster.
func (b *builder) crossObject() {
	b.translateOnly("bfdProfile names a missing BFDProfile", "spec.bfdProfile", b.peer(set("bfdProfile", "nope")))
	b.translateOnly("passwordSecret names a missing Secret", "spec.passwordSecret.name", b.peer(set("passwordSecret.name", "nope")))
	b.translateOnly("passwordSecret names a Secret of the wrong type", "spec.passwordSecret.name", b.peer(set("passwordSecret.name", "opaque")),
		Object{"apiVersion": "v1", "kind": "Secret", "metadata": meta("opaque", Namespace, nil), "stringData": map[string]any{"password": "x"}})
	b.translateOnly("localASN, which frr-k8s v0.0.21 cannot express", "spec.localASN", b.peer(set("localASN", 65000)))
	b.translateOnly("peerAddress already used by base-peer", "spec.peerAddress", b.peer(set("peerAddress", "172.30.0.1")))
	b.translateOnly("routerID differs from base-peer's on the same node", "spec.routerID", b.peer(set("routerID", "10.0.0.1")))
	b.translateOnly("myASN differs from base-peer's in the default VRF", "spec.myASN", b.peer(set("myASN", 64600)))
	b.translateOnly("sourceAddress of another family than peerAddress", "spec.sourceAddress", b.peer(set("sourceAddress", "2001:db8::1")))
	b.translateOnly("advertisement names an undefined alias", "spec.communities[0]", b.ad(set("communities", []any{"nope-alias"})))
	b.translateOnly("aggregationLength 16, wider than the /24 pool", "spec.aggregationLength", b.ad(set("aggregationLength", 16)))
	b.translateOnly("localPref 100 beside base-ad's none on the same pool", "spec.localPref", b.ad(set("localPref", 100)))
	b.translateOnly("pool overlaps base-pool", "spec.addresses[0]", b.pool(set("addresses", []any{"198.51.100.128/25"})))
	b.translateOnly("alias name already defined in another Community", "spec.communities[0].name", b.community(set("communities", alias("a1", "9:9"))))
	b.translateOnly("IPv6 pool announced to a peer whose BFD profile has echo mode", "spec.ipAddressPools", b.ad(set("ipAddressPools", []any{"v6-pool"})),
		Object{"apiVersion": "metallb.io/v1beta1", "kind": "BFDProfile", "metadata": meta("echo", Namespace, nil), "spec": map[string]any{"echoMode": true}},
		Object{"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": meta("v6-pool", Namespace, nil), "spec": map[string]any{"addresses": []any{"2001:db8:5::/64"}}},
		Object{"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": meta("echo-peer", Namespace, nil),
			"spec": map[string]any{"myASN": 64512, "peerASN": 64513, "peerAddress": "172.30.0.9", "bfdProfile": "echo"}})
	b.add(Case{Name: "advertisement names a missing pool (ignored, as by MetalLB)", Stage: TranslateOnly, Warning: true,
		Field: "spec.ipAddressPools[0]", Object: b.ad(set("ipAddressPools", []any{"nope-pool"}))})
	b.add(Case{Name: "advertisement names a missing peer (ignored, as by MetalLB)", Stage: TranslateOnly, Warning: true,
		Field: "spec.peers[0]", Object: b.ad(set("peers", []any{"nope-peer"}))})
	b.add(Case{Name: "ipAddressPoolSelectors that select no pool", Stage: TranslateOnly, Warning: true,
		Field: "spec.ipAddressPoolSelectors", Object: b.ad(unset("ipAddressPools"), set("ipAddressPoolSelectors", selectors(labels("tier", "none"))))})
	b.add(Case{Name: "passwordSecret.namespace is ignored", Stage: TranslateOnly, Warning: true,
		Field: "spec.passwordSecret.namespace", Object: b.peer(set("passwordSecret.name", "auth"), set("passwordSecret.namespace", "elsewhere"))})
}

// services: Services and EndpointSlices pass no admission of ours; translate
// says why each is not announced.
func (b *builder) services() {
	svc := func(ip any, muts ...func(Object)) Object {
		o := Object{"apiVersion": "v1", "kind": "Service", "metadata": meta(fmt.Sprintf("svc-%03d", len(b.cases)), "default", nil),
			"spec":   map[string]any{"type": "LoadBalancer", "ports": []any{map[string]any{"port": 80}}},
			"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{ip}}}}
		for _, m := range muts {
			m(o)
		}
		return o
	}
	slice := func(service string, endpoint map[string]any) Object {
		return Object{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
			"metadata":  map[string]any{"name": service + "-1", "namespace": "default", "labels": map[string]any{"kubernetes.io/service-name": service}},
			"endpoints": []any{endpoint}}
	}
	local := func(o Object) { o["spec"].(map[string]any)["externalTrafficPolicy"] = "Local" }
	add := func(name, reason string, o Object, context ...Object) {
		b.add(Case{Name: name, Stage: TranslateOnly, Reason: reason, Object: o, Context: context})
	}
	add("Service with a garbage ingress IP", "invalidIP", svc(map[string]any{"ip": "garbage"}))
	add("Service with an ingress IP and a newline", "invalidIP", svc(map[string]any{"ip": "198.51.100.5\n"}))
	add("Service with a zoned ingress IP", "invalidIP", svc(map[string]any{"ip": "fe80::1%eth0"}))
	add("Service with a hostname-only ingress", "invalidIP", svc(map[string]any{"hostname": "lb.example.com"}))
	add("Service with an ingress IP in no pool", "ipNotAllowed", svc(map[string]any{"ip": "192.0.2.99"}))
	s := svc(map[string]any{"ip": "198.51.100.6"}, local)
	add("ETP Local Service whose EndpointSlice has no nodeName", "noLocalEndpoints", s,
		slice(s["metadata"].(map[string]any)["name"].(string), map[string]any{"addresses": []any{"10.0.0.1"}}))
	s = svc(map[string]any{"ip": "198.51.100.7"})
	add("Service whose only endpoint is not ready", "noEndpoints", s,
		slice(s["metadata"].(map[string]any)["name"].(string), map[string]any{"addresses": []any{"10.0.0.1"}, "conditions": map[string]any{"ready": false}, "nodeName": "node-a"}))
	s = svc(map[string]any{"ip": "198.51.100.8"})
	add("Service whose EndpointSlice has no addresses", "noEndpoints", s,
		slice(s["metadata"].(map[string]any)["name"].(string), map[string]any{"addresses": []any{}, "nodeName": "node-a"}))
}
