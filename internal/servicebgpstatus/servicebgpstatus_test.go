package servicebgpstatus

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/servicestatus"
)

var web = types.NamespacedName{Namespace: "default", Name: "web"}

func isPeer(name string) bool { return name == "tor" || name == "spine" }

func TestForService(t *testing.T) {
	cases := []struct {
		name   string
		groups []servicestatus.Group
		want   []Record
	}{
		{name: "not announced anywhere", groups: []servicestatus.Group{
			{Kind: servicestatus.NotAnnounced, Nodes: []string{"a", "b"}}}},
		{name: "one record per announcing node, sorted by node", groups: []servicestatus.Group{
			{Kind: servicestatus.Announced, Peers: []string{"spine", "tor"}, Nodes: []string{"c"}},
			{Kind: servicestatus.Announced, Peers: []string{"tor"}, Nodes: []string{"a", "d"}},
			{Kind: servicestatus.NotAnnounced, Nodes: []string{"b"}}},
			want: []Record{
				{Node: "a", ServiceName: "web", ServiceNamespace: "default", Peers: []string{"tor"}},
				{Node: "c", ServiceName: "web", ServiceNamespace: "default", Peers: []string{"spine", "tor"}},
				{Node: "d", ServiceName: "web", ServiceNamespace: "default", Peers: []string{"tor"}},
			}},
		{name: "a kept node is described by what it runs, BGPPeers only", groups: []servicestatus.Group{
			{Kind: servicestatus.Kept, Peers: []string{"neighbor 10.0.0.9", "tor"}, Nodes: []string{"a"}},
			{Kind: servicestatus.Kept, Peers: []string{"neighbor 10.0.0.9"}, Nodes: []string{"b"}},
			{Kind: servicestatus.Kept, Nodes: []string{"c"}}},
			want: []Record{{Node: "a", ServiceName: "web", ServiceNamespace: "default", Peers: []string{"tor"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ForService(nil, web, servicestatus.Status{Groups: c.groups}, isPeer)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestName(t *testing.T) {
	a, b := Name("a-b", "c", "n"), Name("a", "b-c", "n")
	if a == b {
		t.Errorf("two services share the name %s", a)
	}
	if got := Name("default", "web", "node-1"); !strings.HasPrefix(got, "frrgen-web-node-1-") || len(got) != len("frrgen-web-node-1-")+10 {
		t.Errorf("Name = %s, want frrgen-web-node-1-<10 hex>", got)
	}
	long := Name("default", strings.Repeat("s", 63), strings.Repeat("n.", 100)+"x")
	if errs := validation.IsDNS1123Subdomain(long); len(errs) > 0 {
		t.Errorf("Name = %s: %v", long, errs)
	}
}

// object is an existing object of frrgen's for service web on node.
func object(name, node string, peers ...string) *metallbv1beta1.ServiceBGPStatus {
	r := Record{Node: node, ServiceName: "web", ServiceNamespace: "default", Peers: peers}
	return &metallbv1beta1.ServiceBGPStatus{
		ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: name, Labels: Labels(r)},
		Status:     r,
	}
}

func record(node string, peers ...string) Record {
	return Record{Node: node, ServiceName: "web", ServiceNamespace: "default", Peers: peers}
}

func names(objects []*metallbv1beta1.ServiceBGPStatus) []string {
	var out []string
	for _, o := range objects {
		out = append(out, o.Name)
	}
	return out
}

// planView is a Plan by names, for comparing.
type planView struct {
	Create []string
	Update map[string][]string
	Delete []string
}

func view(p Plan) planView {
	v := planView{Create: names(p.Create), Delete: names(p.Delete)}
	for _, u := range p.Update {
		if v.Update == nil {
			v.Update = map[string][]string{}
		}
		v.Update[u.Object.Name] = u.Status.Peers
	}
	return v
}

func TestDiffer(t *testing.T) {
	other := types.NamespacedName{Namespace: "default", Name: "other"}
	foreignOther := func(s types.NamespacedName) bool { return s == other }
	otherObject := func(name, node string) *metallbv1beta1.ServiceBGPStatus {
		o := object(name, node, "tor")
		o.Labels[LabelServiceName], o.Status.ServiceName = "other", "other"
		return o
	}
	cases := []struct {
		name     string
		existing []*metallbv1beta1.ServiceBGPStatus
		desired  map[types.NamespacedName][]Record
		foreign  func(types.NamespacedName) bool
		want     planView
	}{
		{name: "nothing exists: one create per node",
			desired: map[types.NamespacedName][]Record{web: {record("a", "tor"), record("b", "tor")}},
			want:    planView{Create: []string{Name("default", "web", "a"), Name("default", "web", "b")}}},
		{name: "up to date: no write",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("x", "a", "tor"), object("y", "b", "tor")},
			desired:  map[types.NamespacedName][]Record{web: {record("a", "tor"), record("b", "tor")}}},
		{name: "a peer changes on one node: one update",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("x", "a", "tor"), object("y", "b", "tor")},
			desired:  map[types.NamespacedName][]Record{web: {record("a", "tor"), record("b", "spine", "tor")}},
			want:     planView{Update: map[string][]string{"y": {"spine", "tor"}}}},
		{name: "a node stops announcing: its object goes",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("x", "a", "tor"), object("y", "b", "tor"), object("z", "c", "tor")},
			desired:  map[types.NamespacedName][]Record{web: {record("b", "tor")}},
			want:     planView{Delete: []string{"x", "z"}}},
		{name: "a status write that failed after the create is done now",
			existing: []*metallbv1beta1.ServiceBGPStatus{func() *metallbv1beta1.ServiceBGPStatus {
				o := object("x", "a")
				o.Status = Record{}
				return o
			}()},
			desired: map[types.NamespacedName][]Record{web: {record("a", "tor")}},
			want:    planView{Update: map[string][]string{"x": {"tor"}}}},
		{name: "a status naming another node is replaced (immutable in MetalLB's schema)",
			existing: []*metallbv1beta1.ServiceBGPStatus{func() *metallbv1beta1.ServiceBGPStatus {
				o := object("x", "a", "tor")
				o.Status.Node = "b"
				return o
			}()},
			desired: map[types.NamespacedName][]Record{web: {record("a", "tor")}},
			want:    planView{Create: []string{Name("default", "web", "a")}, Delete: []string{"x"}}},
		{name: "duplicates: the one with frrgen's name stays",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("aaa", "a", "tor"), object(Name("default", "web", "a"), "a", "tor"), object("zzz", "a", "tor")},
			desired:  map[types.NamespacedName][]Record{web: {record("a", "tor")}},
			want:     planView{Delete: []string{"aaa", "zzz"}}},
		{name: "duplicates without frrgen's name: the first stays",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("zzz", "a", "tor"), object("aaa", "a", "spine")},
			desired:  map[types.NamespacedName][]Record{web: {record("a", "tor")}},
			want:     planView{Update: map[string][]string{"aaa": {"tor"}}, Delete: []string{"zzz"}}},
		{name: "without MetalLB's labels: deleted",
			existing: []*metallbv1beta1.ServiceBGPStatus{func() *metallbv1beta1.ServiceBGPStatus {
				o := object("x", "a", "tor")
				delete(o.Labels, LabelNode)
				return o
			}()},
			want: planView{Delete: []string{"x"}}},
		{name: "a service no longer handled goes; another class's LoadBalancer stays",
			existing: []*metallbv1beta1.ServiceBGPStatus{object("x", "a", "tor"), otherObject("o", "a")},
			foreign:  foreignOther,
			want:     planView{Delete: []string{"x"}}},
		{name: "a service of ours whose name another service's record has is not confused with it",
			existing: []*metallbv1beta1.ServiceBGPStatus{otherObject("o", "a")},
			desired:  map[types.NamespacedName][]Record{web: {record("a", "tor")}},
			want:     planView{Create: []string{Name("default", "web", "a")}, Delete: []string{"o"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDiffer("metallb-system", c.existing)
			for service, records := range c.desired {
				d.Service(service, records)
			}
			foreign := c.foreign
			if foreign == nil {
				foreign = func(types.NamespacedName) bool { return false }
			}
			plan := d.Finish(foreign)
			if diff := cmp.Diff(c.want, view(plan)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			for _, o := range plan.Create {
				if o.Namespace != "metallb-system" || o.Labels[LabelNode] != o.Status.Node || o.Labels["app.kubernetes.io/managed-by"] != "frrgen" {
					t.Errorf("created %+v: want it in metallb-system, labelled for its node and as frrgen's", o.ObjectMeta)
				}
			}
		})
	}
}

func TestPending(t *testing.T) {
	at := func(o *metallbv1beta1.ServiceBGPStatus, version string) *metallbv1beta1.ServiceBGPStatus {
		o.ResourceVersion = version
		return o
	}
	type write struct {
		name  string
		now   *metallbv1beta1.ServiceBGPStatus
		stale []string
	}
	cases := []struct {
		name        string
		writes      []write
		cached      []*metallbv1beta1.ServiceBGPStatus
		want        []string // name@version:peers
		wantPending int
	}{
		{name: "created, not cached yet: shown as written",
			writes: []write{{"x", at(object("x", "a", "tor"), "3"), []string{"", "2"}}},
			want:   []string{"x@3:[tor]"}, wantPending: 1},
		{name: "created, cached before its status write: shown as written",
			writes: []write{{"x", at(object("x", "a", "tor"), "3"), []string{"", "2"}}},
			cached: []*metallbv1beta1.ServiceBGPStatus{at(object("x", "a"), "2")},
			want:   []string{"x@3:[tor]"}, wantPending: 1},
		{name: "the cache caught up: forgotten",
			writes: []write{{"x", at(object("x", "a", "tor"), "3"), []string{"", "2"}}},
			cached: []*metallbv1beta1.ServiceBGPStatus{at(object("x", "a", "tor"), "3")},
			want:   []string{"x@3:[tor]"}},
		{name: "someone wrote after us: the cache is the truth",
			writes: []write{{"x", at(object("x", "a", "tor"), "3"), []string{"2"}}},
			cached: []*metallbv1beta1.ServiceBGPStatus{at(object("x", "a", "spine"), "4")},
			want:   []string{"x@4:[spine]"}},
		{name: "deleted, still cached: not shown",
			writes: []write{{"x", nil, []string{"5"}}},
			cached: []*metallbv1beta1.ServiceBGPStatus{at(object("x", "a", "tor"), "5"), at(object("y", "b", "tor"), "6")},
			want:   []string{"y@6:[tor]"}, wantPending: 1},
		{name: "deleted, and the cache says so: forgotten",
			writes: []write{{"x", nil, []string{"5"}}},
			cached: []*metallbv1beta1.ServiceBGPStatus{at(object("y", "b", "tor"), "6")},
			want:   []string{"y@6:[tor]"}},
		{name: "updated, then deleted by someone: the cache is the truth",
			writes: []write{{"x", at(object("x", "a", "tor"), "7"), []string{"6"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Pending
			for _, w := range c.writes {
				p.Wrote(w.name, w.now, w.stale...)
			}
			var got []string
			for _, o := range p.Apply(c.cached) {
				got = append(got, o.Name+"@"+o.ResourceVersion+":"+strings.Join([]string{"[", strings.Join(o.Status.Peers, " "), "]"}, ""))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if p.Len() != c.wantPending {
				t.Errorf("%d pending, want %d", p.Len(), c.wantPending)
			}
		})
	}
}

func TestMode(t *testing.T) {
	cases := []struct {
		mode           Mode
		onMetalLB, crd bool
		want           bool
		wantErr        string
	}{
		{mode: Auto, onMetalLB: true, crd: true, want: true},
		{mode: Auto, onMetalLB: false, crd: true, want: false},
		{mode: Auto, onMetalLB: true, crd: false, want: false},
		{mode: On, onMetalLB: false, crd: true, want: true},
		{mode: On, onMetalLB: true, crd: false, wantErr: "--service-bgp-status=true, but the CRD servicebgpstatuses.metallb.io is not installed"},
		{mode: Off, onMetalLB: true, crd: true, want: false},
	}
	for _, c := range cases {
		got, err := c.mode.Enabled(c.onMetalLB, c.crd)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%s %v %v: err %v, want %q", c.mode, c.onMetalLB, c.crd, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s onMetalLB=%v crd=%v: %v, %v; want %v", c.mode, c.onMetalLB, c.crd, got, err, c.want)
		}
	}
	if _, err := ParseMode("yes"); err == nil || !strings.Contains(err.Error(), `not "yes"`) {
		t.Errorf("ParseMode(yes): %v", err)
	}
}
