package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// nodeOutcome is what the last reconcile of a node did: the status of the
// metallb.io objects and the Service Events are made from it, so that they
// say what was written, not what was wanted.
type nodeOutcome struct {
	// build is the input version of the translation the reconcile acted on
	// (Translation.version). A number, not the Translation: a record must
	// not keep an old translation, and its configurations, alive.
	build uint64
	// held: invalid objects could change the node; it keeps what it has.
	held []translate.ObjectRef
	// conflict: writing would make frr-k8s refuse the node's configuration.
	conflict *merge.Conflict
	// writeError is the error of the write that failed, "" if none did.
	writeError string
}

// current tells whether the node has the configuration translation wants.
func (o nodeOutcome) current(translation *Translation) bool {
	return o.build == translation.version && len(o.held) == 0 && o.conflict == nil && o.writeError == ""
}

func (o nodeOutcome) sameReport(p nodeOutcome) bool {
	return o.build == p.build && slices.Equal(o.held, p.held) && o.writeError == p.writeError &&
		(o.conflict == nil) == (p.conflict == nil) && (o.conflict == nil || o.conflict.Message == p.conflict.Message)
}

// nodeOutcomes is shared by the node reconcilers (which record) and the
// cluster reconciler (which reads, and is woken when an outcome changes).
type nodeOutcomes struct {
	mu     sync.Mutex
	byNode map[string]nodeOutcome
	// verdicts caches each node's merge verdict by the content it judged.
	verdicts map[string]cachedVerdict
	// changed wakes the cluster reconciler; sends never block.
	changed chan event.GenericEvent
}

type cachedVerdict struct {
	key     [sha256.Size]byte
	verdict *nodeplan.Verdict
}

func newNodeOutcomes() *nodeOutcomes {
	return &nodeOutcomes{byNode: map[string]nodeOutcome{}, verdicts: map[string]cachedVerdict{},
		changed: make(chan event.GenericEvent, 1)}
}

func (s *nodeOutcomes) record(node string, o nodeOutcome) {
	s.mu.Lock()
	previous, known := s.byNode[node]
	s.byNode[node] = o
	s.mu.Unlock()
	if !known || !previous.sameReport(o) {
		s.wake()
	}
}

func (s *nodeOutcomes) forget(node string) {
	s.mu.Lock()
	_, known := s.byNode[node]
	delete(s.byNode, node)
	delete(s.verdicts, node)
	s.mu.Unlock()
	if known {
		s.wake()
	}
}

func (s *nodeOutcomes) wake() {
	select {
	case s.changed <- event.GenericEvent{Object: &frrv1beta1.FRRConfiguration{}}:
	default: // a wake-up is already pending
	}
}

// all returns a copy of every node's outcome.
func (s *nodeOutcomes) all() map[string]nodeOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]nodeOutcome, len(s.byNode))
	for k, v := range s.byNode {
		out[k] = v
	}
	return out
}

// verdict returns the cached verdict for node if it judged the same content.
func (s *nodeOutcomes) verdict(node string, key [sha256.Size]byte) *nodeplan.Verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.verdicts[node]; ok && c.key == key {
		return c.verdict
	}
	return nil
}

func (s *nodeOutcomes) keepVerdict(node string, key [sha256.Size]byte, v *nodeplan.Verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verdicts[node] = cachedVerdict{key: key, verdict: v}
}

// verdictKey digests everything the merge check of in reads: our desired
// objects, the node's labels, and the other configurations and Secrets
// (by name and resourceVersion, which changes with their content).
func verdictKey(in *nodeplan.Input) [sha256.Size]byte {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(in.Desired)
	h.Write([]byte(labels.Set(in.NodeLabels).String()))
	for i := range in.Others {
		o := &in.Others[i]
		h.Write([]byte("\x00c" + o.Namespace + "/" + o.Name + "@" + o.ResourceVersion))
	}
	for i := range in.Secrets {
		// Mirrors about to be written have no resourceVersion yet: their
		// data counts (it stays inside the digest).
		sec := &in.Secrets[i]
		h.Write([]byte("\x00s" + sec.Namespace + "/" + sec.Name + "@" + sec.ResourceVersion + "/" + string(sec.Type)))
		_ = enc.Encode(sec.Data)
	}
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))
	return key
}
