package metallbbin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/allocate"
	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/testenv"
)

// TestAllocationAgreesWithMetalLB runs MetalLB v0.15.2's real controller and
// frrgen's allocator on the same generated sequences of Service creations,
// edits and deletions (and pool edits), on a dual-stack apiserver, and
// checks after every step that every Service has the addresses the allocator
// gives it: the same accept/reject, pool and address.
//
// Allowed differences (see internal/allocate's package documentation):
// the generator avoids the cases where MetalLB's answer is random (two
// automatic pools of equal standing; PreferDualStack on a single-stack
// Service). The one timing-dependent case: when MetalLB reprocesses every
// Service (after a delete, a pool edit, a Service losing its addresses or
// changing its sharing key) and two or more Services wait for an address
// (none yet, or one the pools no longer hold), it serves them in its
// cache's order, which is random. There MetalLB's answer, for every Service,
// must be the model's answer for some order of the waiting Services
// (reprocessOutcomes: same accepted Services, pools and addresses as that
// order gives, so no duplicate and nothing the model refuses), and the
// model continues from it. Everywhere else the answer must be the model's.
//
// The sequences run in two lanes at once, each on its own apiserver and
// MetalLB controller (most of a step is waiting for MetalLB, not CPU);
// sequence i runs in lane i%2 with seed i whatever the lanes.
// FRRGEN_DIFF_SEQUENCES sets the number of sequences (default 100).
func TestAllocationAgreesWithMetalLB(t *testing.T) {
	sequences := 100
	if v := os.Getenv("FRRGEN_DIFF_SEQUENCES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("FRRGEN_DIFF_SEQUENCES=%q: %v", v, err)
		}
		sequences = n
	}
	const lanes = 2
	harnesses := make([]*diffHarness, lanes)
	agreed := make([]int, lanes)
	t.Run("lanes", func(t *testing.T) {
		for lane := range lanes {
			t.Run(fmt.Sprintf("lane-%d", lane), func(t *testing.T) {
				t.Parallel()
				h := startDiffHarness(t)
				harnesses[lane] = h
				for seq := lane; seq < sequences; seq += lanes {
					if h.run(t, seq) {
						agreed[lane]++
					}
				}
			})
		}
	})
	total, adopted, maxWaiting, stats := 0, 0, 0, map[string]int{}
	for lane, h := range harnesses {
		if h == nil {
			continue // the lane failed to start; its subtest says why
		}
		total += agreed[lane]
		adopted += h.adopted
		maxWaiting = max(maxWaiting, h.maxWaiting)
		for k, v := range h.stats {
			stats[k] += v
		}
	}
	t.Logf("%d of %d sequences agree with MetalLB's controller; %d steps where MetalLB served several waiting Services (at most %d at once) in another order than the model; the model's answers: %v", total, sequences, adopted, maxWaiting, stats)
	if total != sequences {
		t.Errorf("%d sequences disagree", sequences-total)
	}
}

const (
	diffNS       = "metallb-system"
	teamNS       = "team"
	stepTimeout  = 10 * time.Second
	settleWindow = 100 * time.Millisecond
)

// basePools: one automatic dual-stack pool (the only unrestricted automatic
// one, so MetalLB's choice is never random), a manual one, and two
// restricted ones with distinct priorities. Small, so they run out.
func basePools() []*metallbv1beta1.IPAddressPool {
	manual := false
	return []*metallbv1beta1.IPAddressPool{
		{ObjectMeta: metav1.ObjectMeta{Namespace: diffNS, Name: "auto"}, Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{"192.0.2.0/31", "192.0.2.4/31", "2001:db8::/127"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: diffNS, Name: "manual"}, Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{"198.51.100.254-198.51.101.1"}, AutoAssign: &manual, AvoidBuggyIPs: true}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: diffNS, Name: "team-first"}, Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses:         []metallbv1beta1.IPAddressRange{"203.0.113.0/31"},
			ServiceAllocation: &metallbv1beta1.ServiceAllocation{Priority: 1, Namespaces: []string{teamNS}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: diffNS, Name: "web"}, Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{"203.0.113.8/31", "2001:db8:1::/127"},
			ServiceAllocation: &metallbv1beta1.ServiceAllocation{Priority: 2,
				ServiceSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"tier": "web"}}}}}},
	}
}

// shrunkAuto is the edit a "pools" step applies to (and then reverts on) the
// automatic pool: its first IPv4 addresses leave it.
var shrunkAuto = []metallbv1beta1.IPAddressRange{"192.0.2.4/31", "2001:db8::/127"}

type diffHarness struct {
	c     client.Client
	pools []*metallbv1beta1.IPAddressPool
	stats map[string]int // what the model answered, over all sequences
	// maxWaiting is the most Services waiting at one reprocess, adopted
	// the steps where MetalLB served them in another order than the model.
	maxWaiting, adopted int
}

func startDiffHarness(t *testing.T) *diffHarness {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Dual stack, so that RequireDualStack and PreferDualStack Services get
	// two cluster IPs as in a dual-stack cluster.
	c, kubeconfig := startMetalLBControlPlane(t, root, "10.0.0.0/16,fd00:10::/108")
	ctx := context.Background()
	for _, ns := range []string{diffNS, teamNS} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	h := &diffHarness{c: c, pools: basePools(), stats: map[string]int{}}
	for _, p := range h.pools {
		if err := c.Create(ctx, unstructuredPool(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	opts := metallbbin.ControllerOptions{Kubeconfig: kubeconfig, Namespace: diffNS, LogPath: filepath.Join(filepath.Dir(kubeconfig), "controller.log")}
	ctrl, err := metallbbin.StartController(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctrl.Stop(5 * time.Second)
		if t.Failed() {
			log, _ := os.ReadFile(opts.LogPath)
			if len(log) > 20000 {
				log = log[len(log)-20000:]
			}
			t.Logf("end of MetalLB's controller log:\n%s", log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for { // running: it has written the pools' status
		u := unstructuredPool(t, h.pools[0])
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := unstructured.NestedInt64(u.Object, "status", "availableIPv4"); found {
			break
		}
		if time.Now().After(deadline) || ctrl.Exited() {
			log, _ := os.ReadFile(opts.LogPath)
			t.Fatalf("MetalLB's controller wrote no pool status (exited: %v):\n%s", ctrl.Exited(), log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return h
}

// unstructuredPool is p as MetalLB's CRD takes it: the JSON of frrgen's type
// is MetalLB's.
func unstructuredPool(t *testing.T, p *metallbv1beta1.IPAddressPool) *unstructured.Unstructured {
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	delete(u.Object, "status")
	u.SetAPIVersion("metallb.io/v1beta1")
	u.SetKind("IPAddressPool")
	return u
}

// sequence is the state of one generated sequence: the model allocator and
// the Services as the model sees them (status = the model's answer).
type sequence struct {
	t      *testing.T
	h      *diffHarness
	rng    *rand.Rand
	model  *allocate.Allocator
	live   map[string]*corev1.Service
	shrunk bool
	log    []string
}

// count records what the model answered, to show what the sequences cover.
func (s *sequence) count(key string, got allocate.Assignment, err error) {
	var e *allocate.Error
	switch {
	case errors.As(err, &e):
		s.h.stats[string(e.Reason)]++
	case len(got.IPs) == 2:
		s.h.stats["dual-stack"]++
	case len(got.IPs) == 1:
		s.h.stats["one address"]++
	default:
		s.h.stats["not ours"]++
	}
	for k, other := range s.live {
		if k != key && len(got.IPs) > 0 && slices.ContainsFunc(ips(other), func(ip string) bool { return ip == got.IPs[0].String() }) {
			s.h.stats["shared"]++
			break
		}
	}
}

func (h *diffHarness) run(t *testing.T, seq int) (agreed bool) {
	pools, err := allocate.PoolsFrom(h.pools, []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: teamNS}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &sequence{t: t, h: h, rng: rand.New(rand.NewPCG(uint64(seq), 15)), model: allocate.NewAllocator(pools, ""), live: map[string]*corev1.Service{}}
	defer s.cleanup()
	for step := range 16 {
		desc, reprocess, err := s.step(fmt.Sprintf("s%d-", seq))
		if err != nil {
			t.Fatalf("sequence %d step %d (%s): %v", seq, step, desc, err)
		}
		if desc == "" {
			continue
		}
		s.log = append(s.log, desc)
		if problem := s.compare(reprocess); problem != "" {
			t.Errorf("sequence %d disagrees at step %d:\n  steps: %s\n  %s", seq, step, strings.Join(s.log, "\n         "), problem)
			return false
		}
	}
	return true
}

// step applies one generated operation to the apiserver and to the model.
// It returns a description ("" when the apiserver refused it) and, when
// MetalLB's answer depends on its order among waiting Services, every answer
// it may give (reprocessAll).
func (s *sequence) step(prefix string) (string, []reprocessOutcome, error) {
	ctx := context.Background()
	names := slices.Sorted(mapKeys(s.live))
	r := s.rng.IntN(20)
	switch {
	case r < 9 || len(names) == 0:
		svc := s.genService(prefix + strconv.Itoa(s.rng.IntN(1000)))
		if _, taken := s.live[allocate.Key(svc)]; taken {
			return "", nil, nil
		}
		if err := s.h.c.Create(ctx, svc); err != nil {
			if apierrors.IsInvalid(err) {
				return "", nil, nil
			}
			return "", nil, err
		}
		return "create " + describe(svc), s.assign(svc), nil
	case r < 14:
		key := names[s.rng.IntN(len(names))]
		cur := &corev1.Service{}
		ns, name, _ := strings.Cut(key, "/")
		if err := s.h.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cur); err != nil {
			return "", nil, err
		}
		what := s.mutate(cur)
		if err := s.h.c.Update(ctx, cur); err != nil {
			if apierrors.IsInvalid(err) {
				return "", nil, nil
			}
			return "", nil, err
		}
		return "update " + key + " (" + what + ") -> " + describe(cur), s.assign(cur), nil
	case r < 18:
		key := names[s.rng.IntN(len(names))]
		if err := s.h.c.Delete(ctx, s.live[key]); err != nil {
			return "", nil, err
		}
		delete(s.live, key)
		_, had := s.model.Lookup(key)
		s.model.Release(key)
		if had {
			return "delete " + key, s.reprocessAll(), nil
		}
		return "delete " + key, nil, nil
	default:
		s.shrunk = !s.shrunk
		if err := s.setAutoAddresses(); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("pool auto shrunk=%v", s.shrunk), s.reprocessAll(), nil
	}
}

// assign runs the model on the object the apiserver returned (its status is
// the one MetalLB acted on) and mirrors MetalLB's reasons to reprocess every
// Service: the allocation's sharing or backend key changed, or the Service
// lost its addresses.
func (s *sequence) assign(svc *corev1.Service) []reprocessOutcome {
	key := allocate.Key(svc)
	_, had := s.model.Lookup(key)
	prevKey := s.allocationKey(s.live[key])
	got, err := s.model.Assign(svc)
	s.count(key, got, err)
	stored := svc.DeepCopy()
	stored.Status.LoadBalancer.Ingress = got.Ingress()
	s.live[key] = stored
	_, has := s.model.Lookup(key)
	if prevKey != s.allocationKey(stored) || had && !has {
		return s.reprocessAll()
	}
	return nil
}

// allocationKey is what MetalLB compares to decide that an allocation's
// sharing changed: the ETP Local selector and the sharing key of the
// allocation ("" without one).
func (s *sequence) allocationKey(svc *corev1.Service) string {
	if svc == nil {
		return ""
	}
	if _, ok := s.model.Lookup(allocate.Key(svc)); !ok {
		return ""
	}
	backend := ""
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		backend = labels.Set(svc.Spec.Selector).String()
	}
	return backend + svc.Annotations[allocate.AnnotationAllowSharedIP]
}

// reprocessAll assigns every Service again, those with more addresses
// first, as MetalLB does. When several Services need a new address, MetalLB
// serves them in its cache's order (random): it returns the answers of every
// order of those (reprocessOutcomes), the model's own first; nil otherwise.
func (s *sequence) reprocessAll() []reprocessOutcome {
	keys := slices.Sorted(mapKeys(s.live))
	sort.SliceStable(keys, func(i, j int) bool {
		return len(s.live[keys[i]].Status.LoadBalancer.Ingress) > len(s.live[keys[j]].Status.LoadBalancer.Ingress)
	})
	var waiting []string // no address, or one the pools no longer hold
	for _, k := range keys {
		_, assigned := s.model.Lookup(k)
		if allocate.Handles(s.live[k], "") && (len(s.live[k].Status.LoadBalancer.Ingress) == 0 || !assigned) {
			waiting = append(waiting, k)
		}
	}
	var others []reprocessOutcome
	if len(waiting) >= 2 {
		before := map[string]*corev1.Service{}
		for k, svc := range s.live {
			before[k] = svc.DeepCopy()
		}
		others = reprocessOutcomes(s.currentPools(), before, waiting)
	}
	for _, k := range keys {
		got, _ := s.model.Assign(s.live[k])
		s.live[k].Status.LoadBalancer.Ingress = got.Ingress()
	}
	if len(waiting) < 2 {
		return nil
	}
	own := reprocessOutcome{statuses: map[string][]string{}, model: s.model}
	for k, svc := range s.live {
		own.statuses[k] = ips(svc)
	}
	s.h.maxWaiting = max(s.h.maxWaiting, len(waiting))
	out := []reprocessOutcome{own}
	for _, o := range others {
		if !sameStatuses(o.statuses, own.statuses) {
			out = append(out, o)
		}
	}
	return out
}

func (s *sequence) currentPools() []allocate.Pool {
	pools, err := allocate.PoolsFrom(s.h.pools, []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: teamNS}}})
	if err != nil {
		s.t.Fatal(err)
	}
	return pools
}

// compare waits until every Service's status is the model's, and stays so.
// After a reprocess with several Services waiting (outcomes), MetalLB's
// answer may be that of any order of those: it must be one of outcomes, and
// the model then continues from it.
func (s *sequence) compare(outcomes []reprocessOutcome) string {
	want := map[string][]string{}
	for k, svc := range s.live {
		want[k] = ips(svc)
	}
	if len(outcomes) == 0 {
		outcomes = []reprocessOutcome{{statuses: want, model: s.model}}
	}
	matching := func(got map[string][]string) int {
		return slices.IndexFunc(outcomes, func(o reprocessOutcome) bool { return sameStatuses(o.statuses, got) })
	}
	var got map[string][]string
	deadline := time.Now().Add(stepTimeout)
	for {
		var err error
		if got, err = s.observe(); err != nil {
			return err.Error()
		}
		if i := matching(got); i >= 0 {
			time.Sleep(settleWindow)
			if got, err = s.observe(); err != nil {
				return err.Error()
			}
			if matching(got) == i {
				if i > 0 {
					s.adopt(outcomes[i])
				}
				return ""
			}
		}
		if time.Now().After(deadline) {
			msg := "model (-) vs MetalLB (+):\n" + cmp.Diff(want, got)
			if len(outcomes) > 1 {
				msg += fmt.Sprintf("\n  (nor any of the %d other answers an order of the waiting Services gives)", len(outcomes)-1)
			}
			return msg
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// adopt continues the sequence from MetalLB's answer, which the model gives
// for another order of the waiting Services.
func (s *sequence) adopt(o reprocessOutcome) {
	s.h.adopted++
	s.model = o.model
	for k, svc := range s.live {
		svc.Status.LoadBalancer.Ingress = nil
		for _, ip := range o.statuses[k] {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
	}
}

// observe reads every live Service's status from the apiserver.
func (s *sequence) observe() (map[string][]string, error) {
	out := map[string][]string{}
	for k := range s.live {
		ns, name, _ := strings.Cut(k, "/")
		var svc corev1.Service
		if err := s.h.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &svc); err != nil {
			return nil, err
		}
		out[k] = ips(&svc)
	}
	return out, nil
}

func ips(svc *corev1.Service) []string {
	var out []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		out = append(out, ing.IP)
	}
	return out
}

// genService generates a Service: namespace, family, sharing, ports,
// traffic policy, labels and requests drawn from small sets so that
// Services collide.
func (s *sequence) genService(name string) *corev1.Service {
	ns := "default"
	if s.rng.IntN(3) == 0 {
		ns = teamNS
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{}, Labels: map[string]string{}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": pick(s.rng, "a", "b")},
			Ports:    []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: pick(s.rng, int32(80), int32(443))}},
		},
	}
	switch s.rng.IntN(8) {
	case 0:
		svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	case 1:
		svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		svc.Spec.IPFamilies = []corev1.IPFamily{pick(s.rng, corev1.IPv4Protocol, corev1.IPv6Protocol)}
	case 2:
		svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
		svc.Spec.IPFamilies = []corev1.IPFamily{pick(s.rng, corev1.IPv4Protocol, corev1.IPv6Protocol)}
	}
	if s.rng.IntN(3) != 0 {
		svc.Annotations[allocate.AnnotationAllowSharedIP] = pick(s.rng, "k1", "k1", "k1", "k2")
	}
	if s.rng.IntN(6) == 0 {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	if s.rng.IntN(3) == 0 {
		svc.Labels["tier"] = "web"
	}
	s.request(svc)
	return svc
}

// request adds (or not) an address or pool request.
func (s *sequence) request(svc *corev1.Service) {
	delete(svc.Annotations, allocate.AnnotationLoadBalancerIPs)
	delete(svc.Annotations, allocate.AnnotationAddressPool)
	svc.Spec.LoadBalancerIP = ""
	switch s.rng.IntN(10) {
	case 0:
		svc.Annotations[allocate.AnnotationLoadBalancerIPs] = pick(s.rng, "192.0.2.1", "198.51.100.255", "198.51.101.0", "203.0.113.9", "192.0.2.3", "2001:db8::1", "192.0.2.5,2001:db8::1")
	case 1:
		svc.Spec.LoadBalancerIP = pick(s.rng, "192.0.2.4", "198.51.100.254")
	case 2, 3:
		svc.Annotations[allocate.AnnotationAddressPool] = pick(s.rng, "auto", "manual", "web", "team-first", "nope")
	}
}

// mutate changes a Service the way users do.
func (s *sequence) mutate(svc *corev1.Service) string {
	switch s.rng.IntN(5) {
	case 0:
		s.request(svc)
		return "request"
	case 1:
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		if _, ok := svc.Annotations[allocate.AnnotationAllowSharedIP]; ok {
			delete(svc.Annotations, allocate.AnnotationAllowSharedIP)
		} else {
			svc.Annotations[allocate.AnnotationAllowSharedIP] = pick(s.rng, "k1", "k2")
		}
		return "sharing"
	case 2:
		svc.Spec.Ports[0].Port = pick(s.rng, int32(80), int32(443), int32(8080))
		return "port"
	case 3:
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
			svc.Spec.ExternalTrafficPolicy = ""
			svc.Spec.AllocateLoadBalancerNodePorts = nil
			for i := range svc.Spec.Ports {
				svc.Spec.Ports[i].NodePort = 0
			}
		} else {
			svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		}
		return "type"
	default:
		if svc.Labels == nil {
			svc.Labels = map[string]string{}
		}
		if svc.Labels["tier"] == "web" {
			delete(svc.Labels, "tier")
		} else {
			svc.Labels["tier"] = "web"
		}
		return "labels"
	}
}

func (s *sequence) setAutoAddresses() error {
	ctx := context.Background()
	addresses := basePools()[0].Spec.Addresses
	if s.shrunk {
		addresses = shrunkAuto
	}
	s.h.pools[0].Spec.Addresses = addresses
	list := make([]any, len(addresses))
	for i, a := range addresses {
		list[i] = string(a)
	}
	// MetalLB writes the pool's status meanwhile: retry on conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("metallb.io/v1beta1")
		u.SetKind("IPAddressPool")
		if err := s.h.c.Get(ctx, types.NamespacedName{Namespace: diffNS, Name: "auto"}, u); err != nil {
			return err
		}
		if err := unstructured.SetNestedSlice(u.Object, list, "spec", "addresses"); err != nil {
			return err
		}
		return s.h.c.Update(ctx, u)
	})
	if err != nil {
		return err
	}
	pools, err := allocate.PoolsFrom(s.h.pools, []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: teamNS}}})
	if err != nil {
		return err
	}
	s.model.SetPools(pools)
	// Wait until MetalLB uses the new addresses: its pool status counts
	// them. Otherwise it may still allocate from the old ones.
	full := allocate.NewAllocator(pools, "").Counters("auto")
	deadline := time.Now().Add(stepTimeout)
	for {
		u := unstructuredPool(s.t, s.h.pools[0])
		if err := s.h.c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
			return err
		}
		v4 := nested(u, "assignedIPv4") + nested(u, "availableIPv4")
		v6 := nested(u, "assignedIPv6") + nested(u, "availableIPv6")
		if v4 == full.AvailableIPv4 && v6 == full.AvailableIPv6 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("MetalLB's status of pool auto counts %d IPv4 and %d IPv6 addresses, want %d and %d", v4, v6, full.AvailableIPv4, full.AvailableIPv6)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func nested(u *unstructured.Unstructured, field string) int64 {
	v, _, _ := unstructured.NestedInt64(u.Object, "status", field)
	return v
}

// cleanup deletes the sequence's Services, restores the pools and waits
// until MetalLB's pool statuses count no address in use.
func (s *sequence) cleanup() {
	ctx := context.Background()
	for _, svc := range s.live {
		if err := s.h.c.Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
			s.t.Fatal(err)
		}
	}
	if s.shrunk {
		s.shrunk = false
		if err := s.setAutoAddresses(); err != nil {
			s.t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list unstructured.UnstructuredList
		list.SetAPIVersion("metallb.io/v1beta1")
		list.SetKind("IPAddressPoolList")
		if err := s.h.c.List(ctx, &list, client.InNamespace(diffNS)); err != nil {
			s.t.Fatal(err)
		}
		busy := 0
		for i := range list.Items {
			busy += int(nested(&list.Items[i], "assignedIPv4") + nested(&list.Items[i], "assignedIPv6"))
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("MetalLB's pools still count %d addresses in use after the sequence's Services were deleted", busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describe(svc *corev1.Service) string {
	var parts []string
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		parts = append(parts, string(svc.Spec.Type))
	}
	if svc.Spec.IPFamilyPolicy != nil {
		parts = append(parts, fmt.Sprintf("%s%v", *svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies))
	}
	for _, k := range []string{allocate.AnnotationAllowSharedIP, allocate.AnnotationLoadBalancerIPs, allocate.AnnotationAddressPool} {
		if v, ok := svc.Annotations[k]; ok {
			parts = append(parts, strings.TrimPrefix(k, "metallb.io/")+"="+v)
		}
	}
	if svc.Spec.LoadBalancerIP != "" {
		parts = append(parts, "loadBalancerIP="+svc.Spec.LoadBalancerIP)
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		parts = append(parts, "Local "+fmt.Sprint(svc.Spec.Selector))
	}
	if svc.Labels["tier"] != "" {
		parts = append(parts, "tier=web")
	}
	parts = append(parts, fmt.Sprintf("port %d", svc.Spec.Ports[0].Port))
	return allocate.Key(svc) + " [" + strings.Join(parts, " ") + "]"
}

func pick[T any](rng *rand.Rand, options ...T) T { return options[rng.IntN(len(options))] }

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
