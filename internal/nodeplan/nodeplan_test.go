package nodeplan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/nodeplan"
)

const ns = "frr-k8s-system"

var nodeLabels = map[string]string{"kubernetes.io/hostname": "node-a", "rack": "a"}

// config is an FRRConfiguration selecting node-a (or sel) with one router
// AS myASN and a neighbor 172.30.0.1 AS 64513 advertising prefixes.
func config(name string, myASN uint32, prefixes ...string) frrv1beta1.FRRConfiguration {
	port := uint16(179)
	return frrv1beta1.FRRConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "frrgen"},
			Annotations: map[string]string{"frrgen.io/node": "node-a"}},
		Spec: frrv1beta1.FRRConfigurationSpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/hostname": "node-a"}},
			BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{
				ASN: myASN, Prefixes: prefixes,
				Neighbors: []frrv1beta1.Neighbor{{Address: "172.30.0.1", ASN: 64513, Port: &port,
					ToAdvertise: frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: frrv1beta1.AllowRestricted, Prefixes: prefixes}},
					ToReceive:   frrv1beta1.Receive{Allowed: frrv1beta1.AllowedInPrefixes{Mode: frrv1beta1.AllowRestricted}},
				}},
			}}},
		},
	}
}

// user is a user's configuration (no labels of ours).
func user(name string, myASN uint32, selector map[string]string) frrv1beta1.FRRConfiguration {
	c := config(name, myASN)
	c.Labels, c.Annotations = nil, nil
	c.Spec.NodeSelector = metav1.LabelSelector{MatchLabels: selector}
	return c
}

// stored is what the apiserver returns for c: defaults dropped by our side
// are filled in (here: empty modes), plus a resourceVersion.
func stored(c frrv1beta1.FRRConfiguration, rv string) frrv1beta1.FRRConfiguration {
	s := *c.DeepCopy()
	s.ResourceVersion = rv
	return s
}

func withPasswordSecret(c frrv1beta1.FRRConfiguration, name string) frrv1beta1.FRRConfiguration {
	c = *c.DeepCopy()
	c.Spec.BGP.Routers[0].Neighbors[0].PasswordSecret = frrv1beta1.SecretReference{Name: name, Namespace: ns}
	return c
}

func withoutModes(c frrv1beta1.FRRConfiguration) frrv1beta1.FRRConfiguration {
	c = *c.DeepCopy()
	c.Spec.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Mode = ""
	c.Spec.BGP.Routers[0].Neighbors[0].ToReceive.Allowed.Mode = ""
	return c
}

// summary is a plan in one comparable line per item.
func summary(p nodeplan.Plan) []string {
	var out []string
	for _, w := range p.Writes {
		line := string(w.Verb) + " " + w.Config.Name
		if w.Config.ResourceVersion != "" {
			line += "@" + w.Config.ResourceVersion
		}
		out = append(out, line)
	}
	if p.Conflict != nil {
		out = append(out, "conflict "+p.Conflict.Field+": "+p.Conflict.Message)
	}
	for _, w := range p.Warnings {
		out = append(out, "warning "+w)
	}
	if p.Effective != nil {
		out = append(out, "effective "+strings.Join(p.Effective.Configs, ","))
	}
	return out
}

func TestDecide(t *testing.T) {
	a := config("frrgen-node-a", 64512, "198.51.100.10/32")
	secret := corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "frrgen-auth"}, Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{"password": []byte("x")}}
	cases := []struct {
		name string
		in   nodeplan.Input
		want []string // prefix match for conflict and warning lines
	}{
		{"held: nothing is written, whatever is wanted",
			nodeplan.Input{Held: true, Desired: []frrv1beta1.FRRConfiguration{a}}, nil},
		{"no configuration wanted: ours are deleted",
			nodeplan.Input{Stored: []frrv1beta1.FRRConfiguration{stored(config("frrgen-node-a", 1), "7"), stored(config("old-prefix-node-a", 1), "3")}},
			[]string{"delete frrgen-node-a@7", "delete old-prefix-node-a@3"}},
		{"nothing stored: create",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}}, []string{"create frrgen-node-a"}},
		{"stored equal once the apiserver's defaults are applied: no write",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Stored: []frrv1beta1.FRRConfiguration{stored(a, "5")}}, nil},
		{"ours without the defaults equals the stored object with them",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{withoutModes(a)}, Stored: []frrv1beta1.FRRConfiguration{stored(a, "5")}}, nil},
		{"stored differs: update from the stored object's version",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Stored: []frrv1beta1.FRRConfiguration{stored(config("frrgen-node-a", 64512), "9")}},
			[]string{"update frrgen-node-a@9"}},
		{"a user object holds our name: conflict, no write",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{user("frrgen-node-a", 64512, map[string]string{"rack": "z"})}},
			[]string{"conflict metadata.name: FRRConfiguration frr-k8s-system/frrgen-node-a exists and is not managed by frrgen"}},
		{"a user configuration selecting the node with another ASN: conflict naming it",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{user("users", 64999, map[string]string{"rack": "a"})}},
			[]string{"conflict asn: "}},
		{"the same user configuration on another node: written",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{user("users", 64999, map[string]string{"rack": "b"})}},
			[]string{"create frrgen-node-a"}},
		{"a compatible user configuration: written, and the effective configuration merges both",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{user("users", 64512, map[string]string{"rack": "a"})}},
			[]string{"create frrgen-node-a", "effective frr-k8s-system/frrgen-node-a,frr-k8s-system/users"}},
		{"a clash in another namespace is a warning: frr-k8s does not read it, its webhook does",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{func() frrv1beta1.FRRConfiguration {
				u := user("users", 64999, map[string]string{"rack": "a"})
				u.Namespace = "elsewhere"
				return u
			}()}},
			[]string{"create frrgen-node-a", "warning the frr-k8s webhook also reads FRRConfigurations outside frr-k8s-system", "effective frr-k8s-system/frrgen-node-a"}},
		{"several objects: creates and updates first, then the delete of the one no longer wanted",
			nodeplan.Input{
				Desired: []frrv1beta1.FRRConfiguration{config("frrgen-node-a-2", 64512, "198.51.100.11/32"), config("frrgen-node-a-1", 64512, "198.51.100.10/32")},
				Stored:  []frrv1beta1.FRRConfiguration{stored(config("frrgen-node-a-0", 64512, "198.51.100.9/32"), "4"), stored(config("frrgen-node-a-1", 64512), "5")},
			},
			[]string{"update frrgen-node-a-1@5", "create frrgen-node-a-2", "delete frrgen-node-a-0@4"}},
		{"with another configuration on the node, our objects are checked against each other too",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{config("frrgen-node-a-1", 64512), config("frrgen-node-a-2", 64513)},
				Others: []frrv1beta1.FRRConfiguration{user("users", 64512, map[string]string{"rack": "a"})}},
			[]string{"conflict asn: "}},
		{"a referenced password Secret that frr-k8s cannot read: conflict",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{withPasswordSecret(a, "frrgen-auth")}},
			[]string{"conflict "}},
		{"a referenced password Secret that exists: written",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{withPasswordSecret(a, "frrgen-auth")}, Secrets: []corev1.Secret{secret}},
			[]string{"create frrgen-node-a"}},
		{"WantEffective without any other configuration",
			nodeplan.Input{WantEffective: true, Desired: []frrv1beta1.FRRConfiguration{a}},
			[]string{"create frrgen-node-a", "effective frr-k8s-system/frrgen-node-a"}},
		{"a user configuration with a selector frr-k8s cannot parse fails the node",
			nodeplan.Input{Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{func() frrv1beta1.FRRConfiguration {
				u := user("broken", 64512, nil)
				u.Spec.NodeSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "rack", Operator: "Foo"}}}
				return u
			}()}},
			[]string{"conflict "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Node, tc.in.NodeLabels = "node-a", nodeLabels
			got := summary(nodeplan.Decide(tc.in))
			if len(got) != len(tc.want) {
				t.Fatalf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("line %d:\n  got  %s\n  want %s...", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestDecideUpdateCarriesDesiredContent: an update keeps the stored
// object's identity and takes everything of desired that we own.
func TestDecideUpdateCarriesDesiredContent(t *testing.T) {
	want := config("frrgen-node-a", 64512, "198.51.100.10/32")
	want.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "node-a", UID: "u1"}}
	old := stored(config("frrgen-node-a", 64512), "9")
	old.UID = "uid-1"
	old.Labels["user-label"] = "kept"
	plan := nodeplan.Decide(nodeplan.Input{Node: "node-a", NodeLabels: nodeLabels, Desired: []frrv1beta1.FRRConfiguration{want}, Stored: []frrv1beta1.FRRConfiguration{old}})
	if len(plan.Writes) != 1 || plan.Writes[0].Verb != nodeplan.Update {
		t.Fatalf("writes: %v", summary(plan))
	}
	got := plan.Writes[0].Config
	if got.UID != "uid-1" || got.ResourceVersion != "9" || got.Labels["user-label"] != "kept" {
		t.Errorf("identity not kept: uid %q rv %q labels %v", got.UID, got.ResourceVersion, got.Labels)
	}
	if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.OwnerReferences, got.OwnerReferences); diff != "" {
		t.Errorf("owner references (-want +got):\n%s", diff)
	}
	// The input is not modified.
	if old.Spec.BGP.Routers[0].Prefixes != nil {
		t.Error("Decide modified the stored object")
	}
}

// TestDecideReusesVerdict: a verdict passed back is used instead of merging.
func TestDecideReusesVerdict(t *testing.T) {
	a := config("frrgen-node-a", 64512)
	clash := user("users", 64999, map[string]string{"rack": "a"})
	in := nodeplan.Input{Node: "node-a", NodeLabels: nodeLabels, Desired: []frrv1beta1.FRRConfiguration{a}, Others: []frrv1beta1.FRRConfiguration{clash}}
	first := nodeplan.Decide(in)
	if first.Conflict == nil || first.Verdict == nil {
		t.Fatalf("want a conflict and its verdict: %v", summary(first))
	}
	// A clean verdict passed back wins over what the content would give:
	// proof that no merge ran.
	in.Verdict = &nodeplan.Verdict{}
	if again := nodeplan.Decide(in); again.Conflict != nil || len(again.Writes) != 1 {
		t.Errorf("the passed verdict was not used: %v", summary(again))
	}
}

// TestSecretsAfterMirroring: a user's Secret squatting on a mirror's name is
// what frr-k8s reads; ours is replaced by the mirror.
func TestSecretsAfterMirroring(t *testing.T) {
	secret := func(name, password, owner string) corev1.Secret {
		return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"owner": owner}},
			Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte(password)}}
	}
	isOurs := func(s *corev1.Secret) bool { return s.Labels["owner"] == "frrgen" }
	existing := []corev1.Secret{secret("frrgen-auth", "bbb", "user"), secret("frrgen-old", "old", "frrgen"), secret("unrelated", "u", "user")}
	mirrors := []corev1.Secret{secret("frrgen-auth", "aaa", "frrgen"), secret("frrgen-old", "new", "frrgen"), secret("frrgen-fresh", "f", "frrgen")}
	got := map[string]string{}
	for _, s := range nodeplan.SecretsAfterMirroring(existing, mirrors, isOurs) {
		got[s.Name] = string(s.Data["password"])
	}
	want := map[string]string{"frrgen-auth": "bbb", "frrgen-old": "new", "frrgen-fresh": "f", "unrelated": "u"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSpecsEqualAppliesAPIDefaults(t *testing.T) {
	desired := func() *frrv1beta1.FRRConfigurationSpec {
		return &frrv1beta1.FRRConfigurationSpec{BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{
			ASN: 64512,
			Neighbors: []frrv1beta1.Neighbor{{
				Address: "172.30.0.3", ASN: 64513,
				ToAdvertise: frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Prefixes: []string{"198.51.100.10/32"}}},
			}},
			Prefixes: []string{"198.51.100.10/32"},
		}}}}
	}
	stored := desired()
	stored.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Mode = frrv1beta1.AllowRestricted
	stored.BGP.Routers[0].Neighbors[0].ToReceive.Allowed.Mode = frrv1beta1.AllowRestricted
	stored.BGP.BFDProfiles = []frrv1beta1.BFDProfile{} // empty as read back, nil as built

	if !nodeplan.SpecsEqual(desired(), stored) {
		t.Error("a spec must equal its stored form with the apiserver's defaults")
	}
	changed := desired()
	changed.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Prefixes = nil
	if nodeplan.SpecsEqual(changed, stored) {
		t.Error("a spec without the prefix must differ")
	}
	all := desired()
	all.BGP.Routers[0].Neighbors[0].ToReceive.Allowed.Mode = frrv1beta1.AllowAll
	if nodeplan.SpecsEqual(all, stored) {
		t.Error("toReceive mode all must differ from the default filtered")
	}
	if stored.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Mode != frrv1beta1.AllowRestricted || desired().BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Mode != "" {
		t.Error("SpecsEqual must not modify its arguments")
	}
}
