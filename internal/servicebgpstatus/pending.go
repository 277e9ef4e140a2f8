package servicebgpstatus

import (
	"slices"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
)

// Pending remembers frrgen's own writes until the cache shows them, so that
// a pass right after a write, on a cache that has not caught up, does not
// write the same again. An entry ends as soon as the cache shows the object
// at a version other than those the write replaced (ours, or someone's
// newer one: the cache is then the truth), or, for a delete, no object.
// The zero value is ready to use; it is not safe for concurrent use.
type Pending struct {
	byName map[string]pendingWrite
}

type pendingWrite struct {
	// stale are the resourceVersions the cache may still show ("" for an
	// object it does not show yet).
	stale []string
	// object is what the write made; nil for a delete.
	object *metallbv1beta1.ServiceBGPStatus
}

// Wrote records a write: the object with name as it is now (nil when
// deleted), which the cache may still show at one of the stale versions
// ("" standing for no object).
func (p *Pending) Wrote(name string, now *metallbv1beta1.ServiceBGPStatus, stale ...string) {
	if p.byName == nil {
		p.byName = map[string]pendingWrite{}
	}
	p.byName[name] = pendingWrite{stale: stale, object: now}
}

// Len is the number of writes the cache does not show yet.
func (p *Pending) Len() int { return len(p.byName) }

// Apply corrects cached (frrgen's objects as the cache lists them; the
// slice is changed in place and returned, possibly longer or shorter) with
// the writes the cache does not show yet, and forgets those it shows.
func (p *Pending) Apply(cached []*metallbv1beta1.ServiceBGPStatus) []*metallbv1beta1.ServiceBGPStatus {
	if len(p.byName) == 0 {
		return cached
	}
	seen := make(map[string]bool, len(p.byName))
	cached = slices.DeleteFunc(cached, func(obj *metallbv1beta1.ServiceBGPStatus) bool {
		w, ok := p.byName[obj.Name]
		if !ok {
			return false
		}
		seen[obj.Name] = true
		if !slices.Contains(w.stale, obj.ResourceVersion) {
			delete(p.byName, obj.Name) // the cache caught up, or someone wrote after us
			return false
		}
		return w.object == nil
	})
	for i, obj := range cached {
		if w, ok := p.byName[obj.Name]; ok && w.object != nil {
			cached[i] = w.object
		}
	}
	for name, w := range p.byName {
		if seen[name] {
			continue
		}
		switch {
		case w.object == nil:
			delete(p.byName, name) // deleted, and the cache says so
		case slices.Contains(w.stale, ""):
			cached = append(cached, w.object) // created, not cached yet
		default:
			delete(p.byName, name) // gone since: the cache is the truth
		}
	}
	return cached
}
