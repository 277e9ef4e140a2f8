package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Readiness (/readyz) says whether this replica does its job. It fails when
//   - "informers": the cache has not synced yet;
//   - "apiserver": GET /version on the apiserver did not answer within
//     probeTimeout (a leader that cannot reach it writes nothing; a standby
//     could not take over);
//   - "reconciles": the last failingReconciles (or more) reconciles of one
//     of the controllers failed; it passes again as soon as one of that
//     controller's reconciles succeeds. Only the leader reconciles, so a
//     standby never fails this check.
//
// Invalid input is status, not a reconcile error (see controllers), so only
// infrastructure trouble (forbidden or failed writes, an unreachable
// apiserver) makes a replica unready.
const (
	probeTimeout      = 2 * time.Second
	failingReconciles = 3
)

func addReadinessChecks(mgr ctrl.Manager) error {
	informers := func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), probeTimeout)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("the informer caches have not synced")
		}
		return nil
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	apiserver := func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), probeTimeout)
		defer cancel()
		if err := disco.RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
			return fmt.Errorf("the apiserver does not answer: %w", err)
		}
		return nil
	}
	health := &reconcileHealth{}
	reconciles := func(*http.Request) error {
		counts, err := gatherReconcileCounts(metrics.Registry)
		if err != nil {
			return err
		}
		return health.observe(counts)
	}
	for name, check := range map[string]func(*http.Request) error{
		"informers": informers, "apiserver": apiserver, "reconciles": reconciles,
	} {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return err
		}
	}
	return nil
}

// reconcileCounts are controller-runtime's reconcile counters of one
// controller.
type reconcileCounts struct{ succeeded, failed float64 }

// reconcileHealth turns successive counter readings, by controller, into
// the verdict of the "reconciles" check. Each controller is judged alone:
// the cluster controller's successes do not hide that every node's write
// fails. Within one reading the order of successes and failures is
// unknown, so a reading with a success ends the streak of failures.
type reconcileHealth struct {
	mu     sync.Mutex
	last   map[string]reconcileCounts
	streak map[string]float64 // failures since the last reading with a success
}

func (h *reconcileHealth) observe(now map[string]reconcileCounts) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last, h.streak = map[string]reconcileCounts{}, map[string]float64{}
	}
	var failing []string
	for controller, counts := range now {
		before := h.last[controller]
		if counts.succeeded > before.succeeded {
			h.streak[controller] = 0
		} else {
			h.streak[controller] += counts.failed - before.failed
		}
		h.last[controller] = counts
		if h.streak[controller] >= failingReconciles {
			failing = append(failing, controller)
		}
	}
	if len(failing) > 0 {
		sort.Strings(failing)
		return fmt.Errorf("the last %d or more reconciles of controller %s failed; see the Reconciler error logs",
			failingReconciles, strings.Join(failing, ", "))
	}
	return nil
}

// gatherReconcileCounts reads controller_runtime_reconcile_total by
// controller: result "error" is a failure, every other result (success,
// requeue, requeue_after) a success.
func gatherReconcileCounts(gatherer prometheus.Gatherer) (map[string]reconcileCounts, error) {
	families, err := gatherer.Gather()
	if err != nil {
		return nil, err
	}
	counts := map[string]reconcileCounts{}
	for _, family := range families {
		if family.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range family.GetMetric() {
			var controller, result string
			for _, label := range m.GetLabel() {
				switch label.GetName() {
				case "controller":
					controller = label.GetValue()
				case "result":
					result = label.GetValue()
				}
			}
			c := counts[controller]
			if result == "error" {
				c.failed += m.GetCounter().GetValue()
			} else {
				c.succeeded += m.GetCounter().GetValue()
			}
			counts[controller] = c
		}
	}
	return counts, nil
}
