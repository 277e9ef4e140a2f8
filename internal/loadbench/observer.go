package loadbench

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// observer consumes the FRRConfiguration watch: it keeps the Tracker, counts
// the write events and their bytes, notices when every node holds the
// initial services' /32s, and times each new service from its status write
// to the event after which every node holds its /32.
type observer struct {
	mu      sync.Mutex
	tracker *Tracker
	nodes   []string
	initial []string // the /32s every node must hold to have converged

	converged   map[string]bool
	convergedAt time.Time // zero until every node has converged

	events      int   // write events (ADDED, MODIFIED, DELETED) seen
	bytes       int64 // sum of their objects' sizes (JSON)
	lastEventAt time.Time

	started map[string]time.Time     // new /32 → its Service's status write
	latency map[string]time.Duration // new /32 → status write to every node holding it
	err     error                    // the first event that could not be decoded
}

func newObserver(nodes, initial []string) *observer {
	return &observer{
		tracker: NewTracker(), nodes: nodes, initial: initial,
		converged: map[string]bool{}, started: map[string]time.Time{}, latency: map[string]time.Duration{},
	}
}

// consume applies every event of in until in is closed.
func (o *observer) consume(in <-chan rawEvent) {
	for ev := range in {
		o.mu.Lock()
		if err := o.apply(ev); err != nil && o.err == nil {
			o.err = err
		}
		o.mu.Unlock()
	}
}

func (o *observer) apply(ev rawEvent) error {
	if ev.relisted != nil {
		present := map[string]bool{}
		for _, name := range ev.relisted {
			present[name] = true
		}
		for _, name := range o.tracker.Names() {
			if !present[name] {
				o.tracker.Forget(name)
			}
		}
		return nil
	}
	var we watchEvent
	if err := json.Unmarshal(ev.line, &we); err != nil {
		return fmt.Errorf("decoding a watch event: %w", err)
	}
	cfg := &frrv1beta1.FRRConfiguration{}
	if err := json.Unmarshal(we.Object, cfg); err != nil {
		return fmt.Errorf("decoding the FRRConfiguration of a %s event: %w", we.Type, err)
	}
	switch we.Type {
	case "ADDED", "MODIFIED":
		o.tracker.Observe(cfg)
	case "DELETED":
		o.tracker.Forget(cfg.Name)
	default:
		return nil
	}
	if !ev.listed {
		o.events++
		o.bytes += int64(len(we.Object))
		o.lastEventAt = ev.at
	}
	for _, node := range SelectedNodes(cfg) {
		o.checkConverged(node, ev.at)
	}
	for prefix, start := range o.started {
		if _, done := o.latency[prefix]; !done && o.tracker.HoldsEverywhere(o.nodes, prefix) {
			o.latency[prefix] = ev.at.Sub(start)
		}
	}
	return nil
}

// checkConverged re-examines node, whose configuration just changed, until
// every node has converged once.
func (o *observer) checkConverged(node string, at time.Time) {
	if !o.convergedAt.IsZero() || node == "" {
		return
	}
	o.converged[node] = o.tracker.HasConfig(node) && o.tracker.HoldsAll(node, o.initial)
	for _, n := range o.nodes {
		if !o.converged[n] {
			return
		}
	}
	o.convergedAt = at
}

// expect starts the clock of a new service's /32.
func (o *observer) expect(prefix string, start time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started[prefix] = start
}

// observation is a consistent copy of the observer's counters.
type observation struct {
	events         int
	bytes          int64
	lastEventAt    time.Time
	convergedNodes int
	convergedAt    time.Time
	announced      int // new services whose /32 every node holds
	err            error
}

func (o *observer) observe() observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.converged {
		if c {
			n++
		}
	}
	return observation{events: o.events, bytes: o.bytes, lastEventAt: o.lastEventAt,
		convergedNodes: n, convergedAt: o.convergedAt, announced: len(o.latency), err: o.err}
}

// latencies returns the latencies measured so far.
func (o *observer) latencies() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]time.Duration, 0, len(o.latency))
	for _, l := range o.latency {
		out = append(out, l)
	}
	return out
}
