//go:build daemon

package translate_test

// TestGoldenDaemon passes every valid golden output through the real frr-k8s
// v0.0.21 node daemon (bin/frr-k8s-controller, `make frr-k8s-controller`;
// the test fails without it), run by internal/frrk8sdaemon against a real
// kube-apiserver. The configurations are translate.Build's result for the
// case, which TestGolden pins to output.yaml; invalid cases are skipped.
//
// One daemon per (case, node with one of our FRRConfigurations). Its Node
// gets a fresh name ("g<i>"; some goldens use names Kubernetes refuses, e.g.
// "hostA") but keeps the input node's labels, so our nodeSelector
// (kubernetes.io/hostname: <the label's value>) selects it exactly as
// written. A node without that label gets it with its input name as value,
// as the kubelet would set it (translate uses the name then). The daemon
// reads, unchanged:
//   - every FRRConfiguration we generate for the case (all nodes: those of
//     the other nodes must not select this one),
//   - the case's user FRRConfigurations of the frr-k8s namespace (others are
//     out of frr-k8s's sight, as in checkMergesWithUserConfigs),
//   - the Secrets we ask the controller to mirror, with a dummy password.
//
// It must convert them ("success"), and its frr.conf must hold our routers,
// neighbors and advertised prefixes, and exactly what internal/merge predicts
// for the whole set.

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/frrk8sdaemon"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

const (
	frrK8sNamespace = "frr-k8s-system"
	hostnameLabel   = "kubernetes.io/hostname"
	dummyPassword   = "dummy-password"
)

// daemonRun is one node of one golden case.
type daemonRun struct {
	dir    string // testdata/<case>
	node   string // the node's name in the input
	ours   *frrv1beta1.FRRConfiguration
	daemon frrk8sdaemon.Case
}

func TestGoldenDaemon(t *testing.T) {
	var runs []daemonRun
	invalid, userConfigs := 0, 0
	for _, dir := range caseDirs(t) {
		objs, o := loadCase(t, dir)
		r := translate.Build(objs.Snapshot(), o)
		if !r.Valid {
			invalid++
			continue
		}
		configs := slices.Clone(r.Configs)
		for _, c := range objs.FRRConfigurations {
			if c.Namespace == frrK8sNamespace {
				configs = append(configs, c)
				userConfigs++
			}
		}
		var secrets []corev1.Secret
		for _, m := range r.PasswordSecrets {
			secrets = append(secrets, corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNamespace, Name: m.Name},
				Type:       corev1.SecretTypeBasicAuth,
				Data:       map[string][]byte{"password": []byte(dummyPassword)},
			})
		}
		for i := range r.Configs {
			ours := &r.Configs[i]
			node := ours.Annotations[translate.AnnotationNode]
			var nodeLabels map[string]string
			for _, n := range objs.Nodes {
				if n.Name == node {
					nodeLabels = maps.Clone(n.Labels)
				}
			}
			if nodeLabels == nil {
				nodeLabels = map[string]string{}
			}
			if _, ok := nodeLabels[hostnameLabel]; !ok {
				nodeLabels[hostnameLabel] = node
			}
			runs = append(runs, daemonRun{dir: dir, node: node, ours: ours, daemon: frrk8sdaemon.Case{
				Name:       fmt.Sprintf("g%03d", len(runs)),
				NodeLabels: nodeLabels,
				Namespace:  frrK8sNamespace,
				Secrets:    secrets,
				Configs:    configs,
			}})
		}
	}
	if len(runs) == 0 {
		t.Fatal("no golden case has a configuration to check")
	}

	runner := frrk8sdaemon.Start(t)
	started := time.Now()
	cases := make([]frrk8sdaemon.Case, len(runs))
	for i := range runs {
		cases[i] = runs[i].daemon
	}
	outcomes := runner.RunAll(cases)
	t.Logf("%d nodes of %d valid golden cases (%d invalid ones skipped; %d user FRRConfigurations of %s applied) converted by the daemon in %s (%d at a time)",
		len(runs), countCases(runs), invalid, userConfigs, frrK8sNamespace, time.Since(started).Round(time.Second), frrk8sdaemon.Workers)

	for i, run := range runs {
		t.Run(filepath.Base(run.dir)+"/"+run.node, func(t *testing.T) {
			checkDaemonOutcome(t, run, outcomes[i])
		})
	}
}

func countCases(runs []daemonRun) int {
	dirs := map[string]bool{}
	for _, r := range runs {
		dirs[r.dir] = true
	}
	return len(dirs)
}

func checkDaemonOutcome(t *testing.T, run daemonRun, o frrk8sdaemon.Outcome) {
	t.Helper()
	switch {
	case o.Rejected != "":
		t.Fatalf("the apiserver refused an object, so frr-k8s could never use it: %s", o.Rejected)
	case o.Err != nil:
		t.Fatalf("harness: %v\ndaemon log (tail):\n%s", o.Err, o.Log)
	case o.Verdict != "success":
		t.Fatalf("frr-k8s rejects the node's configurations: lastConversionResult %q\ndaemon log (tail):\n%s", o.Verdict, o.Log)
	}

	eff, warnings, conflict := merge.ForNode(run.daemon.Configs, run.daemon.NodeLabels, run.daemon.Secrets)
	if conflict != nil {
		t.Fatalf("the daemon converted the configurations, internal/merge predicts a conflict: %s", conflict.Message)
	}
	for _, w := range warnings {
		t.Errorf("internal/merge warns: %s", w)
	}
	got, err := frrk8sdaemon.ParseFRRConf(o.FRRConf, frrk8sdaemon.ExpectedRaw(eff))
	if err != nil {
		t.Fatalf("reading the daemon's frr.conf: %v\n%s", err, o.FRRConf)
	}
	checkOursRendered(t, run.ours, got, o.FRRConf)
	if diff := frrk8sdaemon.DiffRendering(frrk8sdaemon.ExpectedRendering(eff, warnings), got); diff != "" {
		t.Fatalf("the daemon's frr.conf differs from internal/merge's prediction (-merge +daemon):\n%s\nfrr.conf:\n%s", diff, o.FRRConf)
	}
}

// checkOursRendered checks, without internal/merge, that frr.conf holds
// every router of our configuration with its prefixes, and every neighbor
// with its remote AS and the prefixes we allow it.
func checkOursRendered(t *testing.T, ours *frrv1beta1.FRRConfiguration, got frrk8sdaemon.Rendering, conf string) {
	t.Helper()
	for _, router := range ours.Spec.BGP.Routers {
		asn := strconv.FormatUint(uint64(router.ASN), 10)
		i := slices.IndexFunc(got.Routers, func(r frrk8sdaemon.RenderedRouter) bool { return r.ASN == asn && r.VRF == router.VRF })
		if i < 0 {
			t.Errorf("router %s vrf %q is not in frr.conf:\n%s", asn, router.VRF, conf)
			continue
		}
		rr := got.Routers[i]
		if router.ID != "" && rr.ID != router.ID {
			t.Errorf("router %s vrf %q: router-id %q, we set %q", asn, router.VRF, rr.ID, router.ID)
		}
		networks := slices.Concat(rr.PrefixesV4, rr.PrefixesV6)
		for _, p := range router.Prefixes {
			if !slices.Contains(networks, p) {
				t.Errorf("router %s vrf %q: prefix %s is not announced (network lines: %v)", asn, router.VRF, p, networks)
			}
		}
		for _, n := range router.Neighbors {
			peer, remoteAS := n.Address, strconv.FormatUint(uint64(n.ASN), 10)
			if n.Interface != "" {
				peer = n.Interface
			}
			if n.DynamicASN != "" {
				remoteAS = string(n.DynamicASN)
			}
			j := slices.IndexFunc(rr.Neighbors, func(rn frrk8sdaemon.RenderedNeighbor) bool { return rn.Peer == peer })
			if j < 0 {
				t.Errorf("router %s vrf %q: neighbor %s is not in frr.conf:\n%s", asn, router.VRF, peer, conf)
				continue
			}
			rn := rr.Neighbors[j]
			if rn.RemoteAS != remoteAS {
				t.Errorf("neighbor %s: remote-as %s, we set %s", peer, rn.RemoteAS, remoteAS)
			}
			allowed := n.ToAdvertise.Allowed.Prefixes
			if n.ToAdvertise.Allowed.Mode == frrv1beta1.AllowAll {
				allowed = router.Prefixes
			}
			advertised := slices.Concat(rn.AdvertiseV4, rn.AdvertiseV6)
			for _, p := range allowed {
				if !slices.Contains(advertised, p) {
					t.Errorf("neighbor %s: prefix %s is not advertised to it (advertised: %v)", peer, p, advertised)
				}
			}
		}
	}
}

// TestBoundaryDaemon: the real frr-k8s v0.0.21 daemon converts the boundary
// configuration, and renders what internal/merge predicts (the checks of
// TestGoldenDaemon). FRR itself is the e2e suite's part.
func TestBoundaryDaemon(t *testing.T) {
	r := translate.Build(boundarySnapshot(), testOptions())
	if !r.Valid || len(r.Configs) != 1 {
		t.Fatalf("valid=%v, %d configs: %v", r.Valid, len(r.Configs), problems(r))
	}
	run := daemonRun{dir: "boundary", node: "node-a", ours: &r.Configs[0], daemon: frrk8sdaemon.Case{
		Name:       "boundary",
		NodeLabels: map[string]string{hostnameLabel: "node-a"},
		Namespace:  frrK8sNamespace,
		Configs:    r.Configs,
	}}
	outcome := frrk8sdaemon.Start(t).RunAll([]frrk8sdaemon.Case{run.daemon})[0]
	checkDaemonOutcome(t, run, outcome)
}
