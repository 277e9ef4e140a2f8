// Package controllers keeps every speaker node's FRRConfiguration equal to
// what internal/translate computes from the cluster, and tells users, in the
// status of their objects and in Events, what frrgen did with their input.
//
// # Two reconcilers, one build
//
// The node reconciler has one key per node (the output object). It reads the
// translation result, asks internal/merge whether the node's desired
// configuration merges with the users' FRRConfigurations, and creates,
// updates or deletes only that node's object, and only when the normalised
// spec differs from the stored one.
//
// The cluster reconciler has a single key. It does what is not per node:
// mirroring password Secrets into the frr-k8s namespace, the status
// conditions and counters of the metallb.io objects, and the Services'
// frrgen.io/Announced condition (internal/servicestatus) with an Event when
// a service becomes announced or withdrawn, and, with --service-bgp-status,
// MetalLB's per-node ServiceBGPStatus objects from the same verdict
// (internal/servicebgpstatus). It runs merge.Check for every node
// itself (a pure function of the cache) to set the BGPPeers' Conflict
// condition, rather than sharing state with the node reconciler.
//
// translate.Build computes every node at once, so running it in every node
// reconcile would cost nodes × cluster size per change. Instead both
// reconcilers share a Translator that caches the last Result together with an
// input version: a counter that the watch handlers of the translation inputs
// increment once per event they see, before enqueueing. The informer updates
// its store before it calls the handlers, so a reconcile that finds the
// counter unchanged since the last build knows the cache holds nothing newer,
// and reuses the Result; otherwise it lists the inputs and builds again. A
// burst of N events thus enqueues each node once (the work queue coalesces
// keys) and costs one build per reconcile that observes new input at most —
// never one per service × peer — with no fixed debounce delay. (Both
// controllers' handlers see each event, so one change costs one or two
// builds; the Cost spec measures it.) A content
// fingerprint (resourceVersions of the whole snapshot) would give the same
// answer, but computing it means listing everything in every node reconcile.
//
// Every input event maps to every speaker node (and to the node the event is
// about, so that deleted or unselected nodes lose their object): whether a
// change reaches a node is the translation's business (an advertisement's
// nodeSelectors, a localPref conflict elsewhere, the validity of the whole
// input), and an unchanged node costs one cached comparison and no write.
// FRRConfigurations map to the nodes they select (a user's) or are for
// (ours), so fixing a clashing user object retries exactly those nodes.
//
// Invalid input and merge conflicts are user errors: they are reported in
// conditions, Events and the frrgen_config_stale gauge, the affected nodes
// keep their last good configuration, and the reconcile succeeds; a watch
// event on the fixed object triggers the retry. API errors are returned and
// retried with the work queue's backoff.
//
// # Whose schemas
//
// At start DetectSchemas reads the metallb.io CRDs and internal/schemas
// decides whether they are frrgen's or MetalLB's (SchemaRecheck reads them
// again every minute and stops the manager when the answer changes). On
// MetalLB's, the cluster reconciler writes no status a schema prunes and
// none on IPAddressPools (MetalLB's controller owns it): it keeps the
// conditions it would have written in memory, so that Events still fire on
// transitions only, and reports validity in MetalLB's ConfigurationState
// (internal/configstate) when that kind exists.
package controllers
