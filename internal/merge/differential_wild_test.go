//go:build daemon

package merge_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/frrgen/frrgen/internal/merge"
)

// wildCases draws config sets that, unlike the property tests' generator,
// also hold invalid or unusual input: prefixes outside the router, repeated
// localPref and community entries (some empty), v4-mapped and interface
// neighbors, Secrets with an empty or no password, imports, sub-second
// timers, node selectors. They are for the daemon to judge, so most produce
// a conflict; each is judged on its own.
func wildCases(n int) []merge.TableCase {
	var out []merge.TableCase
	for seed := range uint64(n) {
		r := rand.New(rand.NewPCG(seed, 0x3117d))
		tc := merge.TableCase{
			Name:   fmt.Sprintf("wild configs, seed %d", seed),
			Labels: map[string]string{"kubernetes.io/hostname": "node1", "zone": "a"},
			Secrets: []corev1.Secret{
				basicAuth("bgp", map[string][]byte{"username": []byte("bgp"), "password": []byte("s3cret")}),
				basicAuth("bgp-empty", map[string][]byte{"password": {}}),
				basicAuth("bgp-nopassword", map[string][]byte{"username": []byte("bgp")}),
			},
		}
		for i := range 1 + r.IntN(3) {
			tc.Configs = append(tc.Configs, wildConfig(r, fmt.Sprintf("c%d", i)))
		}
		out = append(out, tc)
	}
	return out
}

func basicAuth(name string, data map[string][]byte) corev1.Secret {
	return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: merge.TestNamespace, Name: name},
		Type: corev1.SecretTypeBasicAuth, Data: data}
}

func oneOf[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// someOf returns each value with probability 1/2, in order.
func someOf[T any](r *rand.Rand, values ...T) []T {
	var out []T
	for _, v := range values {
		if r.IntN(2) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// rarely is true one time in n.
func rarely(r *rand.Rand, n int) bool { return r.IntN(n) == 0 }

func wildConfig(r *rand.Rand, name string) frrv1beta1.FRRConfiguration {
	cfg := frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: merge.TestNamespace, Name: name}}
	switch r.IntN(8) {
	case 0:
		cfg.Spec.NodeSelector.MatchLabels = map[string]string{"zone": oneOf(r, "a", "b")}
	case 1:
		cfg.Spec.NodeSelector.MatchExpressions = []metav1.LabelSelectorRequirement{
			{Key: "zone", Operator: oneOf(r, metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn), Values: []string{"a"}}}
	}
	if rarely(r, 4) {
		cfg.Spec.Raw = frrv1beta1.RawConfig{Priority: r.IntN(2), Config: "! raw " + name}
	}
	profiles := []string{""}
	for _, p := range someOf(r, "p", "q") {
		profile := frrv1beta1.BFDProfile{Name: p, DetectMultiplier: ptr.To[uint32](3)}
		if rarely(r, 8) {
			profile.DetectMultiplier = ptr.To[uint32](5)
		}
		if rarely(r, 6) {
			profile.EchoMode = ptr.To(oneOf(r, true, false))
		}
		cfg.Spec.BGP.BFDProfiles = append(cfg.Spec.BGP.BFDProfiles, profile)
		profiles = append(profiles, p)
	}
	for range 1 + r.IntN(2) {
		router := frrv1beta1.Router{ASN: oneOf[uint32](r, 64512, 64512, 64512, 64599), VRF: oneOf(r, "", "", "red"),
			Prefixes: someOf(r, "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/64", "2001:db8:1::/64")}
		if rarely(r, 3) {
			router.ID = oneOf(r, "10.0.0.1", "10.0.0.1", "10.0.0.2")
		}
		if rarely(r, 8) {
			router.Imports = []frrv1beta1.Import{{VRF: oneOf(r, "red", "default")}}
		}
		for range r.IntN(3) {
			router.Neighbors = append(router.Neighbors, wildNeighbor(r, router.Prefixes, profiles))
		}
		cfg.Spec.BGP.Routers = append(cfg.Spec.BGP.Routers, router)
	}
	return cfg
}

func wildNeighbor(r *rand.Rand, routerPrefixes []string, profiles []string) frrv1beta1.Neighbor {
	seconds := func(s int) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(s) * time.Second} }
	n := frrv1beta1.Neighbor{ASN: 64513}
	switch r.IntN(6) {
	case 0, 1:
		n.Address = "172.30.0.3"
	case 2:
		n.Address, n.DualStackAddressFamily = "172.30.0.4", true
	case 3:
		n.Address = "2001:db8::3"
	case 4:
		n.Interface = "eth1"
	case 5:
		n.Address = "::ffff:172.30.0.5"
	}
	if rarely(r, 8) {
		n.ASN, n.DynamicASN = 0, oneOf(r, frrv1beta1.InternalASNMode, frrv1beta1.ExternalASNMode)
	}
	if rarely(r, 4) {
		n.Port = ptr.To(oneOf[uint16](r, 179, 1179))
	}
	switch r.IntN(6) {
	case 0:
		n.HoldTime, n.KeepaliveTime = seconds(180), seconds(60)
	case 1:
		n.HoldTime, n.KeepaliveTime = seconds(90), seconds(30)
	case 2:
		n.HoldTime, n.KeepaliveTime = &metav1.Duration{Duration: 500 * time.Millisecond}, seconds(0)
	}
	if rarely(r, 5) {
		n.ConnectTime = seconds(oneOf(r, 10, 60))
	}
	switch r.IntN(8) {
	case 0:
		n.Password = "s3cret"
	case 1:
		n.PasswordSecret = frrv1beta1.SecretReference{Name: oneOf(r, "bgp", "bgp-empty", "bgp-nopassword", "missing")}
	}
	n.BFDProfile = oneOf(r, profiles...)
	n.EBGPMultiHop = rarely(r, 8)
	n.EnableGracefulRestart = rarely(r, 6)
	if rarely(r, 8) {
		n.SourceAddress = "10.0.0.1"
	}

	if rarely(r, 3) {
		n.ToAdvertise.Allowed.Mode = frrv1beta1.AllowAll
	} else {
		n.ToAdvertise.Allowed.Prefixes = someOf(r, routerPrefixes...)
		if rarely(r, 8) {
			n.ToAdvertise.Allowed.Prefixes = append(n.ToAdvertise.Allowed.Prefixes, "203.0.113.0/24")
		}
	}
	// Mostly prefixes the neighbor may carry; sometimes any of the router's.
	advertised := n.ToAdvertise.Allowed.Prefixes
	if n.ToAdvertise.Allowed.Mode == frrv1beta1.AllowAll || rarely(r, 6) {
		advertised = slices.Concat(advertised, routerPrefixes)
	}
	if !rarely(r, 6) {
		v6 := n.Address == "2001:db8::3"
		dual := n.Interface != "" || n.DualStackAddressFamily
		advertised = slices.DeleteFunc(slices.Clone(advertised), func(p string) bool {
			return !dual && strings.Contains(p, ":") != v6
		})
	}
	for range r.IntN(3) {
		n.ToAdvertise.PrefixesWithLocalPref = append(n.ToAdvertise.PrefixesWithLocalPref, frrv1beta1.LocalPrefPrefixes{
			LocalPref: oneOf[uint32](r, 100, 200), Prefixes: someOf(r, advertised...)})
	}
	for range r.IntN(3) {
		n.ToAdvertise.PrefixesWithCommunity = append(n.ToAdvertise.PrefixesWithCommunity, frrv1beta1.CommunityPrefixes{
			Community: oneOf(r, "65000:1", "65000:01", "large:1:2:3"), Prefixes: someOf(r, advertised...)})
	}

	if rarely(r, 4) {
		n.ToReceive.Allowed.Mode = frrv1beta1.AllowAll
	} else {
		n.ToReceive.Allowed.Prefixes = someOf(r,
			frrv1beta1.PrefixSelector{Prefix: "10.0.0.0/8"}, frrv1beta1.PrefixSelector{Prefix: "10.0.0.0/8", LE: 24},
			frrv1beta1.PrefixSelector{Prefix: "2001:db8::/32", GE: 48})
		if rarely(r, 10) {
			n.ToReceive.Allowed.Prefixes = append(n.ToReceive.Allowed.Prefixes, frrv1beta1.PrefixSelector{Prefix: "10.0.0.0/16", LE: 8})
		}
	}
	return n
}
