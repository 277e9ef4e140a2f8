// Package servicebgpstatus computes the ServiceBGPStatus objects frrgen
// writes in place of MetalLB's speakers: one per node that announces a
// service, in MetalLB's namespace, with the labels and status fields
// MetalLB v0.15's speakers write (node, serviceName, serviceNamespace, and
// the BGPPeers the node sends the service to). The truth is the per-service
// status (package servicestatus), so a node that keeps its last good
// configuration is described by what it runs. It is pure: the controller
// lists frrgen's objects, calls Differ and writes the Plan.
//
// frrgen's objects carry the managed-by label, which is also what the
// controller lists by: MetalLB's speakers' objects (during a migration)
// lack it and are never read, changed or deleted. The label is the whole
// mark: a status record changes no routing and holds no secret, so unlike
// an FRRConfiguration it needs no ownership proof.
package servicebgpstatus

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// The labels MetalLB's speakers put on their ServiceBGPStatus objects (and
// index them by).
const (
	LabelNode             = "metallb.io/node"
	LabelServiceName      = "metallb.io/service-name"
	LabelServiceNamespace = "metallb.io/service-namespace"
)

// Record is one object's status: a service on a node and its peers.
type Record = metallbv1beta1.ServiceBGPStatusStatus

// ForService appends to out the records of one service, from its status:
// one per node that sends it to at least one BGPPeer, sorted by node, with
// the names of those BGPPeers, sorted. isPeer tells BGPPeer names from the
// neighbors of a kept configuration whose BGPPeer is gone (MetalLB's field
// names BGPPeers only; the Service condition tells about those).
func ForService(out []Record, service types.NamespacedName, s servicestatus.Status, isPeer func(string) bool) []Record {
	start := len(out)
	for _, g := range s.Groups {
		if g.Kind == servicestatus.NotAnnounced {
			continue
		}
		peers := onlyPeers(g.Peers, isPeer)
		if len(peers) == 0 {
			continue
		}
		for _, node := range g.Nodes {
			out = append(out, Record{Node: node, ServiceName: service.Name, ServiceNamespace: service.Namespace, Peers: peers})
		}
	}
	slices.SortFunc(out[start:], func(a, b Record) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// onlyPeers is peers without the names isPeer refuses; peers itself (not
// a copy) when it refuses none.
func onlyPeers(peers []string, isPeer func(string) bool) []string {
	if !slices.ContainsFunc(peers, func(p string) bool { return !isPeer(p) }) {
		return peers
	}
	var out []string
	for _, p := range peers {
		if isPeer(p) {
			out = append(out, p)
		}
	}
	return out
}

// Name is the name of the object of a service on a node: readable, and
// ending with a hash of the three names, so that it is unique (a name is
// what makes a create that races with our own cache fail instead of
// making a second object).
func Name(namespace, service, node string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + service + "/" + node))
	suffix := hex.EncodeToString(sum[:])[:10]
	base := "frrgen-" + service + "-" + node
	if limit := validation.DNS1123SubdomainMaxLength - len(suffix) - 1; len(base) > limit {
		base = base[:limit]
	}
	// Service and node names are already lower-case DNS names; a cut may
	// leave a '-' or '.' at the end, which a name may not have before '-'.
	return strings.TrimRight(base, "-.") + "-" + suffix
}

// Labels of the object of r: MetalLB's three, and frrgen's managed-by.
func Labels(r Record) map[string]string {
	return map[string]string{
		LabelNode: r.Node, LabelServiceName: r.ServiceName, LabelServiceNamespace: r.ServiceNamespace,
		translate.LabelManagedBy: translate.ManagedByValue,
	}
}

// NewObject is the object to create for r in namespace (its status is
// written after the create: the status subresource ignores it there).
func NewObject(namespace string, r Record) *metallbv1beta1.ServiceBGPStatus {
	return &metallbv1beta1.ServiceBGPStatus{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: Name(r.ServiceNamespace, r.ServiceName, r.Node), Labels: Labels(r)},
		Status:     r,
	}
}

// Plan is what to write. Deletes go first: an object recreated under the
// same name is deleted before it is created.
type Plan struct {
	// Create are new objects, status included.
	Create []*metallbv1beta1.ServiceBGPStatus
	// Update are existing objects (as listed) and the status to write.
	Update []Update
	// Delete are existing objects.
	Delete []*metallbv1beta1.ServiceBGPStatus
}

// Update is a status to write on an existing object.
type Update struct {
	Object *metallbv1beta1.ServiceBGPStatus
	Status Record
}

// Len is the number of writes of the plan, not counting the status write
// after each create.
func (p Plan) Len() int { return len(p.Create) + len(p.Update) + len(p.Delete) }

// Differ compares, one service at a time, the desired records with
// frrgen's existing objects, so that the desired records of every service
// and node are never all held at once.
type Differ struct {
	namespace string
	// byService are the existing objects not compared yet, by service,
	// each list sorted by node and then name.
	byService map[types.NamespacedName][]existing
	plan      Plan
}

// existing is an object with its node label read once.
type existing struct {
	node string
	obj  *metallbv1beta1.ServiceBGPStatus
}

// NewDiffer indexes existing, frrgen's objects in namespace. An object
// whose MetalLB labels are missing is deleted: it describes nothing.
func NewDiffer(namespace string, objects []*metallbv1beta1.ServiceBGPStatus) *Differ {
	d := &Differ{namespace: namespace, byService: map[types.NamespacedName][]existing{}}
	for _, obj := range objects {
		l := obj.Labels
		node, name, ns := l[LabelNode], l[LabelServiceName], l[LabelServiceNamespace]
		if node == "" || name == "" || ns == "" {
			d.plan.Delete = append(d.plan.Delete, obj)
			continue
		}
		key := types.NamespacedName{Namespace: ns, Name: name}
		d.byService[key] = append(d.byService[key], existing{node: node, obj: obj})
	}
	for _, list := range d.byService {
		slices.SortFunc(list, func(a, b existing) int {
			return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.obj.Name, b.obj.Name))
		})
	}
	return d
}

// Service plans the objects of one service, given its desired records
// (ForService's: sorted by node, one per node). Call it once per service.
func (d *Differ) Service(service types.NamespacedName, desired []Record) {
	list := d.byService[service]
	delete(d.byService, service)
	i := 0
	for _, want := range desired {
		for i < len(list) && list[i].node < want.Node {
			d.plan.Delete = append(d.plan.Delete, list[i].obj)
			i++
		}
		start := i
		for i < len(list) && list[i].node == want.Node {
			i++
		}
		d.node(want, list[start:i])
	}
	for _, e := range list[i:] {
		d.plan.Delete = append(d.plan.Delete, e.obj)
	}
}

// node plans one service on one node: keep one object (the one with
// frrgen's name, when there are several), delete the others, and write
// the status when it differs. An object whose status names another
// service or node is replaced: MetalLB's schema makes those fields
// immutable.
func (d *Differ) node(want Record, same []existing) {
	kept := keeper(want, same)
	for i, e := range same {
		if i != kept {
			d.plan.Delete = append(d.plan.Delete, e.obj)
		}
	}
	switch {
	case kept < 0:
		d.plan.Create = append(d.plan.Create, NewObject(d.namespace, want))
	case !sameStatus(same[kept].obj.Status, want):
		d.plan.Update = append(d.plan.Update, Update{Object: same[kept].obj, Status: want})
	}
}

// keeper is the index of the object to keep among existing, or -1: the
// one with frrgen's name, else the first, whose status fits want.
func keeper(want Record, same []existing) int {
	first := -1
	for i, e := range same {
		obj := e.obj
		if !identityFits(obj.Status, want) {
			continue
		}
		if len(same) == 1 {
			return i
		}
		if obj.Name == Name(want.ServiceNamespace, want.ServiceName, want.Node) {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// identityFits: the object's status names want's node and service, or
// nothing yet (a create whose status write failed).
func identityFits(have, want Record) bool {
	fits := func(h, w string) bool { return h == "" || h == w }
	return fits(have.Node, want.Node) && fits(have.ServiceName, want.ServiceName) && fits(have.ServiceNamespace, want.ServiceNamespace)
}

func sameStatus(a, b Record) bool {
	return a.Node == b.Node && a.ServiceName == b.ServiceName && a.ServiceNamespace == b.ServiceNamespace && slices.Equal(a.Peers, b.Peers)
}

// Finish plans the objects of the services Service was not called for:
// deleted unless foreign says the service is someone else's (a
// LoadBalancer of another class, which another frrgen instance reports
// on), and returns the plan, each list sorted by name.
func (d *Differ) Finish(foreign func(types.NamespacedName) bool) Plan {
	for service, list := range d.byService {
		if !foreign(service) {
			for _, e := range list {
				d.plan.Delete = append(d.plan.Delete, e.obj)
			}
		}
	}
	d.byService = nil
	byName := func(a, b *metallbv1beta1.ServiceBGPStatus) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(d.plan.Create, byName)
	slices.SortFunc(d.plan.Delete, byName)
	slices.SortFunc(d.plan.Update, func(a, b Update) int { return byName(a.Object, b.Object) })
	return d.plan
}
