//go:build daemon

package merge_test

// TestDaemonAgrees is a differential test: every case of TestForNode's table,
// 100 config sets of the property tests' generator and 100 wilder ones
// (differential_wild_test.go) are applied to a real kube-apiserver and
// converted by the real frr-k8s v0.0.21 node daemon (bin/frr-k8s-controller),
// and the daemon's verdict is compared with ours.
//
// Case i runs in its own namespace and Node "d<i>" with its own daemon
// (internal/frrk8sdaemon, which explains the isolation); daemons run in
// parallel.
//
// What the daemon sees, and so what we predict: the case's configs and
// Secrets of namespace frr-k8s-system are created in d<i>; those of another
// namespace X are created in d<i>-X, which the daemon never reads. Our
// prediction is therefore ForNode over the frr-k8s-system configs and Secrets
// only (the rule Check applies for the controller).
//
// The comparison: our Conflict ⇔ "failed: ..."; when both reject, the
// daemon's message names the same problem (daemonReasons); and on success
// the rendered frr.conf must hold exactly what our Effective says (routers,
// ids, networks, imports, neighbors with their session lines and families,
// advertised prefixes, local preferences, communities, receive filters, BFD
// profiles, raw config), see internal/frrk8sdaemon/render.go.
//
// It needs bin/frr-k8s-controller (`make frr-k8s-controller`) and fails,
// saying so, without it; `make test` builds it first.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/frrgen/frrgen/internal/frrk8sdaemon"
	"github.com/frrgen/frrgen/internal/merge"
)

const (
	// randomCases and wildCasesN are how many generated config sets run
	// after the table.
	randomCases = 100
	wildCasesN  = 100
)

func TestDaemonAgrees(t *testing.T) {
	// TestForNode's table, then configs from the property tests' generator,
	// then wilder ones (differential_wild_test.go).
	table := merge.TableCases(t)
	cases := slices.Concat(table, merge.RandomCases(randomCases), wildCases(wildCasesN))

	runner := frrk8sdaemon.Start(t)
	started := time.Now()
	runs := make([]frrk8sdaemon.Case, len(cases))
	for i, tc := range cases {
		runs[i] = frrk8sdaemon.Case{Name: fmt.Sprintf("d%03d", i), NodeLabels: tc.Labels,
			Namespace: merge.TestNamespace, Secrets: tc.Secrets, Configs: tc.Configs}
	}
	outcomes := runner.RunAll(runs)
	t.Logf("%d cases converted by the daemon in %s (%d at a time)", len(cases), time.Since(started).Round(time.Second), frrk8sdaemon.Workers)

	var agreedSuccess, agreedConflict, rejected, wildRejected int
	for i, tc := range cases {
		ok := t.Run(tc.Name, func(t *testing.T) {
			o := outcomes[i]
			if o.Rejected != "" {
				rejected++
				if strings.HasPrefix(tc.Name, "wild ") {
					wildRejected++
					t.Logf("not comparable: %s", o.Rejected)
					return
				}
				if _, known := rejectedByAPIServer[tc.Name]; !known {
					t.Fatalf("the apiserver rejected an object of this case, so the daemon never saw it: %s\n(add the case to rejectedByAPIServer only if that is expected)", o.Rejected)
				}
				return
			}
			if reason, known := rejectedByAPIServer[tc.Name]; known {
				t.Fatalf("rejectedByAPIServer lists this case (%s) but the apiserver accepted every object", reason)
			}
			if o.Err != nil {
				t.Fatalf("harness: %v\ndaemon log (tail):\n%s", o.Err, o.Log)
			}
			compareWithDaemon(t, tc, i < len(table), o)
		})
		switch {
		case !ok || outcomes[i].Rejected != "":
		case outcomes[i].Verdict == "success":
			agreedSuccess++
		default:
			agreedConflict++
		}
	}
	t.Logf("daemon and ForNode agree on %d of %d cases: %d converted with the same frr.conf facts, %d rejected by both; %d not applicable (refused by the apiserver)",
		agreedSuccess+agreedConflict, len(cases), agreedSuccess, agreedConflict, rejected)
	// Generated objects the apiserver refuses are not compared; they must
	// stay few, or the wild cases would test nothing.
	if wildRejected > wildCasesN/5 {
		t.Errorf("the apiserver refused %d of %d wild cases; the generator needs fixing", wildRejected, wildCasesN)
	}
}

// rejectedByAPIServer lists the table cases holding an object that the
// frr-k8s CRD schema (or core validation) refuses, with the reason: the
// daemon can never see them. The test fails if a listed case turns out to be
// accepted, or an unlisted one rejected.
var rejectedByAPIServer = map[string]string{
	"connectTime is truncated to whole seconds": "connectTime 1500ms: the CRD wants whole seconds",
	"unknown dynamicASN":                        "dynamicASN outer: the CRD's enum is internal, external",
}

// compareWithDaemon checks one case's daemon outcome against ForNode over
// what the daemon can see.
func compareWithDaemon(t *testing.T, tc merge.TableCase, perConfig bool, o frrk8sdaemon.Outcome) {
	t.Helper()
	var configs []frrv1beta1.FRRConfiguration
	for _, c := range tc.Configs {
		if c.Namespace == merge.TestNamespace {
			configs = append(configs, c)
		}
	}
	var secrets []corev1.Secret
	for _, s := range tc.Secrets {
		if s.Namespace == merge.TestNamespace {
			secrets = append(secrets, s)
		}
	}
	eff, warnings, conflict := merge.ForNode(configs, tc.Labels, secrets)

	failed := strings.HasPrefix(o.Verdict, "failed: ")
	switch {
	case o.Verdict != "success" && !failed:
		t.Fatalf("unexpected lastConversionResult %q", o.Verdict)
	case conflict != nil && !failed:
		t.Fatalf("DISAGREEMENT: we predict a conflict, the daemon converted the configs\n  ours: %s\ndaemon: %s", conflict.Message, o.Verdict)
	case conflict == nil && failed:
		t.Fatalf("DISAGREEMENT: the daemon rejects the node, we predict no conflict\ndaemon: %s", o.Verdict)
	case failed:
		t.Logf("both reject\n  ours: %s\ndaemon: %s", conflict.Message, o.Verdict)
		// With several clashes, the one the daemon meets first depends on
		// its (random) reading order: any order's first conflict will do.
		var reasons []string
		for _, c := range merge.ConflictsInEveryOrder(configs, tc.Labels, secrets) {
			alternatives := daemonReasons(c, perConfig)
			if alternatives == nil {
				return // a wording we do not compare
			}
			for _, reason := range alternatives {
				if strings.Contains(o.Verdict, reason) {
					return
				}
			}
			reasons = append(reasons, alternatives...)
		}
		slices.Sort(reasons)
		t.Fatalf("DISAGREEMENT on the reason: both reject, but the daemon's message has none of %q\n  ours: %s\ndaemon: %s", slices.Compact(reasons), conflict.Message, o.Verdict)
	}
	got, err := frrk8sdaemon.ParseFRRConf(o.FRRConf, frrk8sdaemon.ExpectedRaw(eff))
	if err != nil {
		t.Fatalf("reading the daemon's frr.conf: %v\n%s", err, o.FRRConf)
	}
	want := frrk8sdaemon.ExpectedRendering(eff, warnings)
	if len(warnings) > 0 { // graceful restart is the daemon's random pick
		for i := range got.Routers {
			for j := range got.Routers[i].Neighbors {
				n := &got.Routers[i].Neighbors[j]
				n.Session = slices.DeleteFunc(n.Session, func(s string) bool { return s == "graceful-restart" })
			}
		}
	}
	if diff := frrk8sdaemon.DiffRendering(want, got); diff != "" {
		t.Fatalf("DISAGREEMENT in the rendered frr.conf (-ours +daemon):\n%s\nfrr.conf:\n%s", diff, o.FRRConf)
	}
}

// daemonReasons are parts of the daemon's error message, one of which must
// appear when it rejects the node for the same problem as c. Clashes between
// two definitions (frr-k8s's merge.go), duplicate BFD profiles and invalid
// node selectors have a fixed wording and are always checked. Problems inside
// one config are checked only when perConfig is set (hand-written cases with
// one problem each): with several, which one is met first depends on the
// order of checks, which differs between the daemon and us. nil means the
// reason is not compared (both messages are logged).
func daemonReasons(c *merge.Conflict, perConfig bool) []string {
	merged := strings.Contains(c.Message, " conflicts with ") || strings.Contains(c.Message, " twice: ")
	switch {
	case c.Field == "nodeSelector":
		return []string{"could not parse nodeSelector"}
	case c.Field == "bfdProfiles":
		return []string{"duplicate bfd profile name"}
	case !merged && !perConfig:
		return nil
	case !merged:
		return map[string][]string{
			"prefixes":                     {"unknown ipfamily for"},
			"imports":                      {"imports vrf", "not found in prefixes in router"},
			"address":                      {"has no address and no interface", "failed to find ipfamily"},
			"interface":                    {"has both Address and Interface"},
			"asn":                          {"has no ASN or DynamicASN"},
			"dynamicASN":                   {"has both ASN and DynamicASN", "invalid DynamicASN"},
			"bfdProfile":                   {"referencing non existing BFDProfile"},
			"holdTime":                     {"invalid timers"},
			"keepaliveTime":                {"invalid keepaliveTime"},
			"passwordSecret":               {"cleartext password and secret ref", "secret"},
			"toReceive.allowed.prefixes":   {"invalid selector lengths", "failed to parse prefix"},
			"toAdvertise.allowed.prefixes": {"invalid allowed prefixes", "trying to advertise non configured prefix"},
			"toAdvertise.withLocalPref":    {"local pref", "localPref", "local preference", "localpref"},
			"toAdvertise.withCommunity":    {"community"},
		}[c.Field]
	case c.Neighbor == "" && c.Field == "asn":
		return []string{"different asns"}
	case c.Neighbor == "" && c.Field == "id":
		return []string{"different router ids"}
	}
	phrase, ok := map[string]string{
		"asn":                       "multiple asns specified for ",
		"port":                      "multiple ports specified for ",
		"sourceaddress":             "multiple source addresses specified for ",
		"password":                  "multiple passwords specified for ",
		"bfdProfile":                "multiple bfd profiles specified for ",
		"ebgpMultiHop":              "conflicting ebgp-multihop specified for ",
		"dualStackAddressFamily":    "conflicting advertiseDualStack specified for ",
		"holdTime":                  "multiple hold times specified for ",
		"keepaliveTime":             "multiple keepalive times specified for ",
		"connectTime":               "multiple connect times specified for ",
		"toAdvertise.withLocalPref": "multiple local prefs",
	}[c.Field]
	switch {
	case !ok || c.Neighbor == "":
		return nil
	case c.Field == "toAdvertise.withLocalPref":
		return []string{phrase}
	}
	return []string{phrase + c.Neighbor}
}
