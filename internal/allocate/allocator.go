package allocate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Assignment is what a Service's status should hold.
type Assignment struct {
	// IPs are the status.loadBalancer.ingress addresses; empty: none.
	IPs []netip.Addr
	// Pool is the pool of IPs ("" when none), for the
	// metallb.io/ip-allocated-from-pool annotation.
	Pool string
	// Allocated is set when this call handed out an address the Service's
	// status did not hold (an IPAllocated Event).
	Allocated bool
}

// PoolCounters are the counts MetalLB's IPAddressPool status shows: distinct
// addresses in use (a shared address counts once) and the usable rest.
type PoolCounters struct {
	AssignedIPv4, AssignedIPv6   int64
	AvailableIPv4, AvailableIPv6 int64
}

// Allocator holds the assignments of every Service it was given.
type Allocator struct {
	class     string
	pools     map[string]*Pool
	poolNames []string // sorted
	services  map[string]*assignment
	users     map[netip.Addr]map[string]*assignment // address -> Service key -> its assignment
	inUse     addrSet                               // the addresses of users
	sharedBy  map[shareKey]map[netip.Addr]int       // sharing key -> address -> how many of its users
	assigned  map[string]*[2]int64                  // pool -> distinct addresses in use, IPv4 and IPv6
}

type assignment struct {
	key   string
	pool  string
	ips   []netip.Addr
	ports []Port
	share shareKey
}

// NewAllocator returns an allocator with no assignment, handling the
// LoadBalancer Services of class ("" for Services without a class).
func NewAllocator(pools []Pool, class string) *Allocator {
	a := &Allocator{class: class}
	a.reset(pools)
	return a
}

func (a *Allocator) reset(pools []Pool) {
	a.pools = map[string]*Pool{}
	a.poolNames = nil
	for i := range pools {
		p := pools[i]
		a.pools[p.Name] = &p
		a.poolNames = append(a.poolNames, p.Name)
	}
	slices.Sort(a.poolNames)
	a.services = map[string]*assignment{}
	a.users = map[netip.Addr]map[string]*assignment{}
	a.inUse = addrSet{}
	a.sharedBy = map[shareKey]map[netip.Addr]int{}
	a.assigned = map[string]*[2]int64{}
}

// SetPools replaces the pools, as MetalLB does when IPAddressPools change: an
// assignment whose addresses are no longer all in one pool is dropped, one
// whose addresses moved to another pool follows them. The caller then calls
// Assign for every Service again (those with addresses first, as MetalLB
// does), which also re-checks each pool's serviceAllocation.
func (a *Allocator) SetPools(pools []Pool) {
	old := slices.Collect(maps.Values(a.services))
	slices.SortFunc(old, func(x, y *assignment) int { return strings.Compare(x.key, y.key) })
	a.reset(pools)
	for _, as := range old {
		if p := a.poolFor(as.ips); p != nil {
			as.pool = p.Name
			a.link(as)
		}
	}
}

// Restore records the addresses svc's status holds, when they are still
// allowed, and hands out nothing: called for every existing Service before
// the first Assign, so that no Service takes an address another one already
// has (no address changes on restart).
func (a *Allocator) Restore(svc *corev1.Service) (Assignment, error) {
	return a.converge(svc, false)
}

// Assign decides the addresses of svc with MetalLB's rules: keep what its
// status holds when still allowed and still what it asks for, else hand out
// new ones. On error the returned Assignment is what svc keeps (usually
// none) and the error is an *Error with the reason. A Service the allocator
// does not handle (not a LoadBalancer, another class) is released and gets
// the zero Assignment with no error; its status is not the allocator's.
func (a *Allocator) Assign(svc *corev1.Service) (Assignment, error) {
	return a.converge(svc, true)
}

// Release frees the addresses of the Service key ("namespace/name"): the
// Service was deleted or is no longer ours.
func (a *Allocator) Release(key string) { a.unlink(key) }

// Lookup returns the current assignment of the Service key.
func (a *Allocator) Lookup(key string) (Assignment, bool) {
	as := a.services[key]
	if as == nil {
		return Assignment{}, false
	}
	return Assignment{IPs: slices.Clone(as.ips), Pool: as.pool}, true
}

// Counters returns the counters of the named pool (zero for an unknown one).
func (a *Allocator) Counters(pool string) PoolCounters {
	p := a.pools[pool]
	if p == nil {
		return PoolCounters{}
	}
	v4, v6 := p.capacity()
	var used [2]int64
	if u := a.assigned[pool]; u != nil {
		used = *u
	}
	return PoolCounters{AssignedIPv4: used[0], AssignedIPv6: used[1], AvailableIPv4: v4 - used[0], AvailableIPv6: v6 - used[1]}
}

func (a *Allocator) converge(svc *corev1.Service, allocate bool) (Assignment, error) {
	r := readRequest(svc)
	if !Handles(svc, a.class) {
		a.unlink(r.key)
		return Assignment{}, nil
	}
	if len(a.pools) == 0 {
		a.unlink(r.key)
		return Assignment{}, fail(ReasonNoMatchingPool, "there is no IPAddressPool")
	}
	if r.family == "" {
		a.unlink(r.key)
		return Assignment{}, fail(ReasonInvalidRequest, "spec.clusterIPs %q: cannot tell the Service's address family", svc.Spec.ClusterIPs)
	}
	if r.policy == corev1.IPFamilyPolicyRequireDualStack && r.family != DualStack {
		a.unlink(r.key)
		return Assignment{}, fail(ReasonInvalidRequest, "spec.ipFamilyPolicy RequireDualStack, but spec.clusterIPs %q has one family", svc.Spec.ClusterIPs)
	}
	current := r.current
	if r.badIngress || len(current) > 0 && familyChanged(current, r.family, r.policy) {
		current = nil
	}
	if len(current) == 0 {
		a.unlink(r.key)
	} else {
		var err error
		if current, err = a.keep(r, current); err != nil {
			return Assignment{IPs: current, Pool: a.poolOf(r.key)}, err
		}
	}
	if len(current) == 1 && allocate && r.policy == corev1.IPFamilyPolicyPreferDualStack && r.family == DualStack {
		current = a.addFamily(r, current)
	}
	if len(current) > 0 {
		return Assignment{IPs: slices.Clone(current), Pool: a.poolOf(r.key), Allocated: !sameAddrs(current, r.current)}, nil
	}
	if !allocate {
		return Assignment{}, nil
	}
	ips, err := a.allocate(r)
	if err != nil {
		return Assignment{}, err
	}
	return Assignment{IPs: slices.Clone(ips), Pool: a.poolOf(r.key), Allocated: true}, nil
}

// familyChanged: the status addresses are not of the Service's family (a
// dual-stack Service that prefers dual stack may have one address).
func familyChanged(ips []netip.Addr, family Family, policy corev1.IPFamilyPolicy) bool {
	got, err := familyOfAddrs(ips)
	if err != nil {
		return true
	}
	return got != family && !(family == DualStack && policy == corev1.IPFamilyPolicyPreferDualStack)
}

// keep re-checks the status addresses against the pools, the sharing rules
// and what the Service asks for; it returns what is kept (nil: allocate
// anew). An error means the Service's request cannot be read; the status is
// then kept as it is, as MetalLB does.
func (a *Allocator) keep(r request, current []netip.Addr) ([]netip.Addr, error) {
	if err := a.place(r, current, ReasonNotInPool); err != nil {
		a.unlink(r.key)
		current = nil
	} else if r.pool != "" && a.poolOf(r.key) != r.pool {
		a.unlink(r.key)
		current = nil
	}
	wanted, err := wantedIPs(r.svc)
	if err != nil {
		return current, fail(ReasonInvalidRequest, "%v", err)
	}
	if len(wanted) > 0 && !sameAddrs(current, wanted) {
		a.unlink(r.key)
		current = nil
	}
	return current, nil
}

// addFamily tries to add an address of the missing family, from the pool of
// the one the Service has; failing that it keeps the one.
func (a *Allocator) addFamily(r request, current []netip.Addr) []netip.Addr {
	missing := IPv4
	if familyOf(current[0]) == IPv4 {
		missing = IPv6
	}
	p := a.pools[a.poolOf(r.key)]
	if p == nil {
		return current
	}
	extra := a.freeIn(p, r).get(missing)
	if !extra.IsValid() {
		return current
	}
	both := []netip.Addr{current[0], extra}
	if a.place(r, both, ReasonNoMatchingPool) != nil {
		return current
	}
	return both
}

func (a *Allocator) poolOf(key string) string {
	if as := a.services[key]; as != nil {
		return as.pool
	}
	return ""
}

// allocate hands out addresses to a Service that holds none: the requested
// addresses, else from the requested pool, else from the pools that select
// it by serviceAllocation (by priority) and then from the unrestricted
// automatic pools.
func (a *Allocator) allocate(r request) ([]netip.Addr, error) {
	wanted, err := wantedIPs(r.svc)
	if err != nil {
		return nil, fail(ReasonInvalidRequest, "%v", err)
	}
	if len(wanted) > 0 {
		if f, _ := familyOfAddrs(wanted); f != r.family {
			return nil, fail(ReasonInvalidRequest, "requested addresses %s are %s, the Service (spec.clusterIPs %q) is %s", addrList(wanted), f, r.svc.Spec.ClusterIPs, r.family)
		}
		if err := a.place(r, wanted, ReasonNotInPool); err != nil {
			return nil, err
		}
		if r.pool != "" && a.poolOf(r.key) != r.pool {
			got := a.poolOf(r.key)
			a.unlink(r.key)
			return nil, fail(ReasonNotInPool, "requested addresses %s are in IPAddressPool %s, not in %s (annotation %s)", addrList(wanted), got, r.pool, AnnotationAddressPool)
		}
		return wanted, nil
	}
	if r.pool != "" {
		p := a.pools[r.pool]
		if p == nil {
			return nil, fail(ReasonNoMatchingPool, "there is no IPAddressPool %q (annotation %s)", r.pool, AnnotationAddressPool)
		}
		ips, ok := selectIPs(a.freeIn(p, r), r.family, r.policy)
		if !ok {
			if !hasFamilies(p, r) {
				return nil, fail(ReasonNoMatchingPool, "IPAddressPool %s has no %s addresses for this %s Service", p.Name, r.family, r.family)
			}
			return nil, fail(ReasonPoolExhausted, "IPAddressPool %s has no free %s address", p.Name, r.family)
		}
		if err := a.place(r, ips, ReasonNoMatchingPool); err != nil {
			return nil, err
		}
		return ips, nil
	}
	pinned, open := a.candidatePools(r)
	for _, pools := range [][]*Pool{pinned, open} {
		if ips, ok := a.fromPools(pools, r); ok {
			return ips, nil
		}
	}
	for _, p := range slices.Concat(pinned, open) {
		if hasFamilies(p, r) {
			return nil, fail(ReasonPoolExhausted, "no free %s address in the pools this Service may use (%s)", r.family, poolList(slices.Concat(pinned, open)))
		}
	}
	return nil, fail(ReasonNoMatchingPool, "no IPAddressPool with %s addresses may serve this Service automatically (autoAssign, serviceAllocation)", r.family)
}

// candidatePools returns the automatic pools whose serviceAllocation selects
// the Service (by its namespace or by a service selector), by priority, and
// the automatic pools without serviceAllocation, by name.
func (a *Allocator) candidatePools(r request) (pinned, open []*Pool) {
	for _, name := range a.poolNames {
		p := a.pools[name]
		if !p.AutoAssign {
			continue
		}
		sa := p.Allocation
		switch {
		case sa == nil:
			open = append(open, p)
		case (sa.Namespaces[r.svc.Namespace] || len(sa.ServiceSelectors) > 0) && p.serves(r.svc):
			pinned = append(pinned, p)
		}
	}
	slices.SortStableFunc(pinned, func(x, y *Pool) int { return priorityRank(x) - priorityRank(y) })
	return pinned, open
}

// priorityRank orders pinned pools: priority 1, 2, ... first, then those
// without one (MetalLB's order for any positive priority).
func priorityRank(p *Pool) int {
	if p.Allocation.Priority > 0 {
		return p.Allocation.Priority
	}
	return int(^uint(0) >> 1)
}

// fromPools takes the first pool with a free address of the Service's family
// (or of both, for dual stack); a Service that prefers dual stack falls back
// to the first pool with its primary family, then its secondary one.
func (a *Allocator) fromPools(pools []*Pool, r request) ([]netip.Addr, bool) {
	secondary := IPv6
	if r.primary == IPv6 {
		secondary = IPv4
	}
	var best, fallback *freeAddrs
	for _, p := range pools {
		f := a.freeIn(p, r)
		if r.family != DualStack && f.get(r.family).IsValid() || f.v4.IsValid() && f.v6.IsValid() {
			best = &f
			break
		}
		if r.family != DualStack || r.policy != corev1.IPFamilyPolicyPreferDualStack {
			continue
		}
		if f.get(r.primary).IsValid() && best == nil {
			best = &f
		}
		if f.get(secondary).IsValid() && fallback == nil {
			fallback = &f
		}
	}
	if best == nil {
		best = fallback
	}
	if best == nil {
		return nil, false
	}
	ips, ok := selectIPs(*best, r.family, r.policy)
	if !ok || a.place(r, ips, ReasonNoMatchingPool) != nil {
		return nil, false
	}
	return ips, true
}

// freeAddrs is, for one pool, the address of each family a Service would
// get: the lowest usable one in the pool's first CIDR of that family that
// has one.
type freeAddrs struct {
	pool   *Pool
	v4, v6 netip.Addr
}

func (f freeAddrs) get(fam Family) netip.Addr {
	if fam == IPv4 {
		return f.v4
	}
	if fam == IPv6 {
		return f.v6
	}
	return netip.Addr{}
}

func (a *Allocator) freeIn(p *Pool, r request) freeAddrs {
	f := freeAddrs{pool: p}
	for _, c := range p.CIDRs {
		slot := &f.v6
		if c.Addr().Is4() {
			slot = &f.v4
		}
		if !slot.IsValid() {
			*slot = a.firstUsable(c, p.AvoidBuggyIPs, r)
		}
	}
	return f
}

// selectIPs picks the addresses for the Service's family and policy.
func selectIPs(f freeAddrs, family Family, policy corev1.IPFamilyPolicy) ([]netip.Addr, bool) {
	var out []netip.Addr
	switch {
	case family != DualStack:
		out = []netip.Addr{f.get(family)}
	case f.v4.IsValid() && f.v6.IsValid():
		out = []netip.Addr{f.v4, f.v6}
	case policy == corev1.IPFamilyPolicyPreferDualStack && f.v4.IsValid():
		out = []netip.Addr{f.v4}
	case policy == corev1.IPFamilyPolicyPreferDualStack:
		out = []netip.Addr{f.v6}
	}
	for _, ip := range out {
		if !ip.IsValid() {
			return nil, false
		}
	}
	return out, len(out) > 0
}

// hasFamilies: the pool has addresses of the families the Service needs.
func hasFamilies(p *Pool, r request) bool {
	var v4, v6 bool
	for _, c := range p.CIDRs {
		v4, v6 = v4 || c.Addr().Is4(), v6 || !c.Addr().Is4()
	}
	switch {
	case r.family == IPv4:
		return v4
	case r.family == IPv6:
		return v6
	case r.policy == corev1.IPFamilyPolicyPreferDualStack:
		return v4 || v6
	default:
		return v4 && v6
	}
}

// firstUsable is the lowest address of c the Service may take: free, or
// shared with Services of the same sharing key whose ports do not clash.
func (a *Allocator) firstUsable(c netip.Prefix, avoidBuggy bool, r request) netip.Addr {
	free, ok := a.inUse.lowestFree(c, c.Masked().Addr())
	for ok && avoidBuggy && buggy(free) {
		next := free.Next()
		if !next.IsValid() {
			ok = false
			break
		}
		free, ok = a.inUse.lowestFree(c, next)
	}
	best := netip.Addr{}
	if ok {
		best = free
	}
	if r.share.sharing == "" {
		return best
	}
	for ip := range a.sharedBy[r.share] {
		if !c.Contains(ip) || avoidBuggy && buggy(ip) || best.IsValid() && !ip.Less(best) {
			continue
		}
		if a.checkSharing(r, ip) == nil {
			best = ip
		}
	}
	return best
}

// place records ips as the Service's addresses if MetalLB's rules allow it:
// all in one pool that serves the Service (else notServed), at most one per
// family, and each free or shareable. The previous assignment is replaced
// only on success.
func (a *Allocator) place(r request, ips []netip.Addr, notServed Reason) error {
	p := a.poolFor(ips)
	if p == nil {
		return fail(ReasonNotInPool, "%s", a.notInPool(ips))
	}
	if !p.serves(r.svc) {
		return fail(notServed, "IPAddressPool %s does not serve this Service (spec.serviceAllocation)", p.Name)
	}
	if _, err := familyOfAddrs(ips); err != nil {
		return fail(ReasonInvalidRequest, "addresses %s: %v", addrList(ips), err)
	}
	for _, ip := range ips {
		if err := a.checkSharing(r, ip); err != nil {
			return err
		}
	}
	a.unlink(r.key)
	a.link(&assignment{key: r.key, pool: p.Name, ips: slices.Clone(ips), ports: slices.Clone(r.ports), share: r.share})
	return nil
}

// checkSharing: the Service may use ip alongside its other users.
func (a *Allocator) checkSharing(r request, ip netip.Addr) *Error {
	var others []*assignment
	for key, as := range a.users[ip] {
		if key != r.key {
			others = append(others, as)
		}
	}
	if len(others) == 0 {
		return nil
	}
	slices.SortFunc(others, func(x, y *assignment) int { return strings.Compare(x.key, y.key) })
	other := others[0]
	conflict := func(format string, args ...any) *Error {
		e := fail(ReasonSharingConflict, "address %s is used by Service %s: "+format, append([]any{ip, other.key}, args...)...)
		e.Other = other.key
		return e
	}
	switch {
	case other.share.sharing == "":
		return conflict("it does not allow sharing (annotation %s)", AnnotationAllowSharedIP)
	case r.share.sharing == "":
		return conflict("this Service does not allow sharing (annotation %s)", AnnotationAllowSharedIP)
	case other.share.sharing != r.share.sharing:
		return conflict("sharing key %q differs from %q (annotation %s)", r.share.sharing, other.share.sharing, AnnotationAllowSharedIP)
	case other.share.backend != r.share.backend:
		return conflict("with externalTrafficPolicy Local both must select the same pods (spec.selector %q, %q)", r.share.backend, other.share.backend)
	}
	for _, o := range others {
		for _, port := range r.ports {
			if slices.Contains(o.ports, port) {
				e := fail(ReasonSharingConflict, "address %s is used by Service %s with the same port %s", ip, o.key, port)
				e.Other = o.key
				return e
			}
		}
	}
	return nil
}

// poolFor is the pool holding every one of ips, or nil.
func (a *Allocator) poolFor(ips []netip.Addr) *Pool {
	for _, name := range a.poolNames {
		p := a.pools[name]
		if !slices.ContainsFunc(ips, func(ip netip.Addr) bool { return !p.usable(ip) }) {
			return p
		}
	}
	return nil
}

// notInPool says why no one pool may hand out all of ips: an address in no
// pool's CIDRs, one that a pool's avoidBuggyIPs excludes, or addresses of
// different pools.
func (a *Allocator) notInPool(ips []netip.Addr) string {
	var where []string
	for _, ip := range ips {
		var holder *Pool // the first pool that may hand ip out, else the first holding it
		for _, name := range a.poolNames {
			p := a.pools[name]
			if p.usable(ip) {
				holder = p
				break
			}
			if holder == nil && slices.ContainsFunc(p.CIDRs, func(c netip.Prefix) bool { return c.Contains(ip) }) {
				holder = p
			}
		}
		switch {
		case holder == nil:
			return fmt.Sprintf("%s is not in any IPAddressPool", ip)
		case !holder.usable(ip):
			return fmt.Sprintf("%s is excluded from IPAddressPool %s by its avoidBuggyIPs (no .0 or .255 address)", ip, holder.Name)
		}
		where = append(where, fmt.Sprintf("%s in %s", ip, holder.Name))
	}
	return fmt.Sprintf("%s are not in one IPAddressPool (%s)", addrList(ips), strings.Join(where, ", "))
}

func (a *Allocator) link(as *assignment) {
	a.services[as.key] = as
	for _, ip := range as.ips {
		users := a.users[ip]
		if users == nil {
			users = map[string]*assignment{}
			a.users[ip] = users
			a.inUse.add(ip)
			a.countAddr(as.pool, ip, 1)
		}
		users[as.key] = as
		if as.share.sharing != "" {
			if a.sharedBy[as.share] == nil {
				a.sharedBy[as.share] = map[netip.Addr]int{}
			}
			a.sharedBy[as.share][ip]++
		}
	}
}

func (a *Allocator) unlink(key string) {
	as := a.services[key]
	if as == nil {
		return
	}
	delete(a.services, key)
	for _, ip := range as.ips {
		users := a.users[ip]
		delete(users, key)
		if len(users) == 0 {
			delete(a.users, ip)
			a.inUse.remove(ip)
			a.countAddr(as.pool, ip, -1)
		}
		if as.share.sharing != "" {
			m := a.sharedBy[as.share]
			if m[ip]--; m[ip] == 0 {
				delete(m, ip)
				if len(m) == 0 {
					delete(a.sharedBy, as.share)
				}
			}
		}
	}
}

func (a *Allocator) countAddr(pool string, ip netip.Addr, delta int64) {
	u := a.assigned[pool]
	if u == nil {
		u = &[2]int64{}
		a.assigned[pool] = u
	}
	if ip.Is4() {
		u[0] += delta
	} else {
		u[1] += delta
	}
}

func addrList(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ",")
}

func isAre(ips []netip.Addr) string {
	if len(ips) == 1 {
		return "is"
	}
	return "are"
}

func poolList(pools []*Pool) string {
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Ingress is the status.loadBalancer.ingress that holds the assignment.
func (as Assignment) Ingress() []corev1.LoadBalancerIngress {
	var out []corev1.LoadBalancerIngress
	for _, ip := range as.IPs {
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String()})
	}
	return out
}

// SameIngress compares what the allocator owns of two ingress lists: the
// addresses (and hostnames), in order.
func SameIngress(a, b []corev1.LoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.LoadBalancerIngress) bool { return x.IP == y.IP && x.Hostname == y.Hostname })
}
