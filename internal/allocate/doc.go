// Package allocate assigns LoadBalancer Service addresses from IPAddressPools
// with the rules of MetalLB v0.15.2's controller (its controller/ and
// internal/allocator/ packages, read for facts): the same pool choice, the
// same lowest-free address, the same sharing rules and the same reactions to
// a Service or pool that changed under an assignment. It is pure: the caller
// feeds it Services and pools and writes what it returns.
//
// State is rebuilt, never persisted: NewAllocator, then Restore for every
// existing Service (what their statuses hold is kept when still allowed),
// then Assign for each; Release when a Service is deleted; SetPools when
// IPAddressPools change, then Assign for every Service again (those with
// addresses first).
//
// Deliberate differences from MetalLB v0.15.2, each where MetalLB's answer is
// random or wrong:
//   - Several pools of equal standing (no serviceAllocation, or the same
//     priority): the lowest name first. MetalLB iterates a Go map, so its
//     choice among them is random.
//   - A PreferDualStack Service with single-family cluster IPs gets one
//     address. MetalLB adds one of the other family, then drops it on the
//     next pass as a family change, and so on for ever.
//   - A Service that stops being ours (type or loadBalancerClass) is
//     released. MetalLB, run with -lb-class, never sees it again and keeps its
//     address reserved until it restarts.
//   - Pool counters saturate at MaxInt64 (MetalLB's sum of huge IPv6 CIDRs
//     overflows) and a /32 .0 or .255 with avoidBuggyIPs has 0 usable
//     addresses (MetalLB counts -1).
//   - The users of an address are tracked per Service; MetalLB forgets the
//     sharing key of an address when the last Service with ports leaves it,
//     which only a LoadBalancer Service without ports (refused by the API
//     server) could reach.
//   - Errors carry a Reason: MetalLB says "no available IPs" both when no
//     pool may serve the Service and when the pools that may are full.
//   - Several Services waiting for an address when every Service is
//     reprocessed (after a delete, a pool edit, a Service losing its
//     addresses or changing its sharing key): they are served by
//     namespace/name. MetalLB serves them in its informer cache's order,
//     which is random, so which of them gets a scarce address (say a
//     dual-stack Service and an IPv4 one wanting the last IPv4 address)
//     depends on timing. Every other answer is determined, and MetalLB's
//     answer there is always the one this package gives for some order of
//     the waiting Services: the same Services served or refused, each from
//     the pool and with the addresses that order gives, no address twice
//     (TestAllocationAgreesWithMetalLB checks exactly that).
//   - (controllers' allocation reconciler) Services waiting for an address are
//     retried whenever one is freed. MetalLB retries them only when a Service
//     is deleted, loses all its addresses, changes its sharing key, or the
//     pools change: an address a Service moves away from stays unused until
//     then. TestAllocationAgreesWithMetalLB (internal/metallbbin) mirrors
//     MetalLB's triggers when it runs this package as a model.
package allocate
