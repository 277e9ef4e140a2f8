//go:build allocbench

// The end-to-end allocation benchmark (`make bench-allocation`) takes
// minutes, most of them MetalLB's: it is not part of `make test`.

package metallbbin_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/procgroup"
	"github.com/frrgen/frrgen/internal/testenv"
)

// TestAllocationBenchmark creates FRRGEN_BENCH_SERVICES (default 5,000)
// LoadBalancer Services at once, 32 creates in flight, and measures how long
// each allocator takes to give all of them an address and how many API
// writes it makes: MetalLB v0.15.2's controller and frrgen's controller
// (bin/frrgen controller, default flags: allocation on), one after the
// other on the same apiserver with standalone mode's CRDs (frrgen's), each
// with a fresh namespace and pool (a /18,
// 16,384 addresses) and only its own controller running. Writes are the
// apiserver's own count (apiserver_request_total, mutating verbs, minus the
// benchmark's creates); Service status changes are counted on a watch.
// FRRGEN_BENCH_ORDER (default "metallb,frrgen") sets the order.
func TestAllocationBenchmark(t *testing.T) {
	services := positiveFromEnv(t, "FRRGEN_BENCH_SERVICES", 5000)
	order := strings.Split(cmp.Or(os.Getenv("FRRGEN_BENCH_ORDER"), "metallb,frrgen"), ",")
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	frrgenBin := filepath.Join(root, "bin", "frrgen")
	if _, err := os.Stat(frrgenBin); err != nil {
		t.Fatalf("%v: run `make build` (make bench-allocation does)", err)
	}
	// Standalone mode's CRDs (frrgen's and frr-k8s's), on which MetalLB's
	// controller also runs (README, "frrgen's CRDs and MetalLB").
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c := env.Client
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 2000, 4000 // the benchmark's own client never waits
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := &allocBench{t: t, c: c, cs: cs, root: root, kubeconfig: kubeconfig, frrgen: frrgenBin, services: services}
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchPoolNS}})
	t.Logf("load before: %s", loadAverage())
	var results []benchResult
	for i, name := range order {
		results = append(results, b.run(name, i))
	}
	t.Logf("load after: %s", loadAverage())
	t.Logf("%d Services created at once, one allocator at a time on the same apiserver:", services)
	t.Logf("%-8s %12s %12s %12s %10s %s", "allocator", "created in", "all have IP", "after last", "status", "API writes (by resource and verb)")
	for _, r := range results {
		t.Logf("%-8s %11.1fs %11.1fs %11.1fs %10d %s", r.name, r.created.Seconds(), r.allAllocated.Seconds(), (r.allAllocated - r.created).Seconds(), r.statusChanges, r.writes)
	}
	for _, r := range results {
		t.Logf("%s's Events on the Services, by reason: %s", r.name, r.events)
	}
}

const benchPoolNS = "metallb-system"

type allocBench struct {
	t          *testing.T
	c          client.Client
	cs         *kubernetes.Clientset
	root       string
	kubeconfig string
	frrgen     string
	services   int
}

type benchResult struct {
	name          string
	created       time.Duration // first create to last create returned
	allAllocated  time.Duration // first create to every Service having an address
	statusChanges int           // Service status changes seen on the watch
	writes        string
	events        string // the Services' Events by reason
}

// run measures one allocator: a pool and a namespace of its own, its
// controller started and ready, the Services created, every one allocated,
// then everything removed again.
func (b *allocBench) run(name string, index int) benchResult {
	t, ctx := b.t, context.Background()
	ns := "bench-" + name
	pool := poolObject("pool-"+name, fmt.Sprintf("10.%d.0.0/18", 100+index))
	mustCreate(t, b.c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	mustCreate(t, b.c, pool)
	stop := b.startAllocator(name)
	b.waitForCounters(pool, 16384)

	list, err := b.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := newStatusWatch()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() { watchDone <- w.follow(watchCtx, b.cs, ns, list.ResourceVersion) }()
	before := b.apiserverWrites()

	start := time.Now()
	b.createServices(ns)
	created := time.Since(start)
	deadline := start.Add(30 * time.Minute)
	for w.allocatedCount() < b.services {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d Services have an address after 30 minutes", name, w.allocatedCount(), b.services)
		}
		time.Sleep(50 * time.Millisecond)
	}
	allAllocated := w.lastAllocation().Sub(start)
	// Writes that follow the last address (events, pool counters) count too.
	time.Sleep(5 * time.Second)
	writes := writeDelta(before, b.apiserverWrites())
	stopWatch()
	if err := <-watchDone; err != nil {
		t.Fatal(err)
	}
	if dup := w.duplicate(); dup != "" {
		t.Errorf("%s: %s", name, dup)
	}
	stop()
	r := benchResult{name: name, created: created, allAllocated: allAllocated, statusChanges: w.statusChanges(), writes: writes, events: b.eventReasons(ns)}
	b.cleanup(ns, pool)
	return r
}

// startAllocator starts the named controller and returns its stop function.
func (b *allocBench) startAllocator(name string) func() {
	logPath := filepath.Join(filepath.Dir(b.kubeconfig), name+".log")
	var g *procgroup.Group
	var err error
	switch name {
	case "metallb":
		g, err = metallbbin.StartController(b.root, metallbbin.ControllerOptions{Kubeconfig: b.kubeconfig, Namespace: benchPoolNS, LogPath: logPath, LogLevel: "error"})
	case "frrgen":
		g, err = procgroup.Start(logPath, nil, b.frrgen, "controller", "--kubeconfig", b.kubeconfig,
			"--namespace", benchPoolNS, "--leader-elect=false", "--metrics-bind-address=0",
			"--health-probe-bind-address=0", "--log-level=error")
	default:
		b.t.Fatalf("FRRGEN_BENCH_ORDER: unknown allocator %q (metallb or frrgen)", name)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	return func() {
		if g.Exited() {
			log, _ := os.ReadFile(logPath)
			b.t.Fatalf("%s's controller exited early: %v\n%s", name, g.Err(), log)
		}
		g.Stop(10 * time.Second)
	}
}

func poolObject(name, cidr string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"name": name, "namespace": benchPoolNS},
		"spec":     map[string]any{"addresses": []any{cidr}},
	}}
}

// waitForCounters waits until the allocator has written the pool's
// counters: it has read the pool and is running.
func (b *allocBench) waitForCounters(pool *unstructured.Unstructured, available int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := pool.DeepCopy()
		if err := b.c.Get(context.Background(), client.ObjectKeyFromObject(pool), got); err != nil {
			b.t.Fatal(err)
		}
		if n, found, _ := unstructured.NestedInt64(got.Object, "status", "availableIPv4"); found && n == available {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("pool %s: no status availableIPv4=%d after 2 minutes: %v", pool.GetName(), available, got.Object["status"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createServices creates the Services, 32 at a time.
func (b *allocBench) createServices(ns string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.services) {
					return
				}
				svc := lbService(fmt.Sprintf("svc-%05d", i))
				svc.Namespace = ns
				// 5,000 would exhaust the 2,768 node ports.
				svc.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
				if _, err := b.cs.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.t.Fatal(err)
	}
}

// cleanup deletes the run's Services and pool, so the next allocator starts
// on an apiserver holding none of them.
func (b *allocBench) cleanup(ns string, pool *unstructured.Unstructured) {
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		// Deleting 5,000 Services can outlast the request's 60 s: the
		// apiserver goes on, and the next call deletes what is left.
		err := b.c.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(ns))
		if err != nil && !apierrors.IsTimeout(err) && !apierrors.IsServerTimeout(err) {
			b.t.Fatal(err)
		}
		list, err := b.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			b.t.Fatal(err)
		}
		if len(list.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the Services of %s are still there after 5 minutes", ns)
		}
		time.Sleep(time.Second)
	}
	if err := b.c.Delete(ctx, pool); err != nil {
		b.t.Fatal(err)
	}
}

// eventReasons counts the Events about the namespace's Services by reason
// (the events POSTs: which are the allocator's).
func (b *allocBench) eventReasons(ns string) string {
	list, err := b.cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		b.t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range list.Items {
		counts[e.Reason]++
	}
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", reason, counts[reason]))
	}
	return strings.Join(parts, ", ")
}

// apiserverWrites reads the apiserver's count of mutating requests by
// resource, subresource, verb and code.
func (b *allocBench) apiserverWrites() map[string]float64 {
	raw, err := b.cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.t.Fatalf("reading the apiserver's metrics: %v", err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labelText, value, _ := strings.Cut(strings.TrimPrefix(line, "apiserver_request_total{"), "} ")
		labels := map[string]string{}
		for _, kv := range strings.Split(labelText, ",") {
			k, v, _ := strings.Cut(kv, "=")
			labels[k] = strings.Trim(v, `"`)
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		res := labels["resource"]
		if labels["subresource"] != "" {
			res += "/" + labels["subresource"]
		}
		out[res+" "+labels["verb"]+" "+labels["code"]] += n
	}
	return out
}

// writeDelta lists the writes between two reads, without the benchmark's
// own Service creates.
func writeDelta(before, after map[string]float64) string {
	var parts []string
	total := 0.0
	for _, k := range slices.Sorted(maps.Keys(after)) {
		d := after[k] - before[k]
		if d == 0 || strings.HasPrefix(k, "services POST ") || apiserverOwn(k) {
			continue
		}
		total += d
		parts = append(parts, fmt.Sprintf("%s: %.0f", k, d))
	}
	return fmt.Sprintf("%.0f total (%s)", total, strings.Join(parts, ", "))
}

// apiserverOwn: writes the apiserver makes itself, for every Service created
// (its cluster IP's IPAddress object) or on its own clock (its identity
// Lease); neither allocator makes them (frrgen runs without leader election,
// MetalLB's controller has none).
func apiserverOwn(key string) bool {
	return strings.HasPrefix(key, "ipaddresses ") || strings.HasPrefix(key, "leases ")
}

// statusWatch follows the Services of a namespace: when each first had an
// address, and every change of an ingress list.
type statusWatch struct {
	mu        sync.Mutex
	ingress   map[string]string    // Service -> its ingress addresses, joined
	allocated map[string]time.Time // Service -> when it first had an address
	changes   int
	last      time.Time
}

func newStatusWatch() *statusWatch {
	return &statusWatch{ingress: map[string]string{}, allocated: map[string]time.Time{}}
}

// follow watches from resourceVersion until ctx ends, re-opening the watch
// when the apiserver closes it.
func (w *statusWatch) follow(ctx context.Context, cs *kubernetes.Clientset, ns, resourceVersion string) error {
	for ctx.Err() == nil {
		wi, err := cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watching Services: %w", err)
		}
		for ev := range wi.ResultChan() {
			svc, ok := ev.Object.(*corev1.Service)
			if !ok {
				if ev.Type == watch.Error {
					wi.Stop()
					if ctx.Err() != nil {
						return nil // stopped by the benchmark
					}
					return fmt.Errorf("watch error: %v", ev.Object)
				}
				continue
			}
			resourceVersion = svc.ResourceVersion
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				w.observe(svc, time.Now())
			}
		}
		wi.Stop()
	}
	return nil
}

func (w *statusWatch) observe(svc *corev1.Service, at time.Time) {
	var ips []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		ips = append(ips, ing.IP)
	}
	joined := strings.Join(ips, ",")
	w.mu.Lock()
	defer w.mu.Unlock()
	if prev, seen := w.ingress[svc.Name]; seen && prev != joined || !seen && joined != "" {
		w.changes++
	}
	w.ingress[svc.Name] = joined
	if _, done := w.allocated[svc.Name]; !done && joined != "" {
		w.allocated[svc.Name] = at
		w.last = at
	}
}

func (w *statusWatch) allocatedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.allocated)
}

func (w *statusWatch) lastAllocation() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *statusWatch) statusChanges() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes
}

// duplicate names two Services with the same address, or a malformed one.
func (w *statusWatch) duplicate() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	owner := map[string]string{}
	for name, ips := range w.ingress {
		for _, ip := range strings.Split(ips, ",") {
			if _, err := netip.ParseAddr(ip); err != nil {
				return fmt.Sprintf("Service %s has the address %q", name, ip)
			}
			if other, taken := owner[ip]; taken {
				return fmt.Sprintf("Services %s and %s both have %s", other, name, ip)
			}
			owner[ip] = name
		}
	}
	return ""
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(data))
}
