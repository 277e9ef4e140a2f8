// Package loadbench is the controller load benchmark of `make
// bench-controller`: it starts kube-apiserver and etcd (internal/testenv),
// builds a cluster of N nodes and M LoadBalancer Services, runs the real
// `frrgen controller` process until every node's FRRConfiguration holds
// every service's /32, then adds new services at a fixed rate and measures,
// for each one, the time from its Service status write to the moment every
// node's FRRConfiguration holds its /32, as seen by a watch. It also counts
// the FRRConfiguration writes and bytes the watch sees and reads the
// controller's CPU time and peak RSS from /proc.
//
// Nothing in it asserts a timing: it measures and prints.
package loadbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/testenv"
)

// Config is one benchmark run.
type Config struct {
	Nodes       int           // speaker nodes
	Services    int           // LoadBalancer Services before the controller starts
	NewServices int           // Services added once it has converged
	Rate        float64       // new Services per second
	Timeout     time.Duration // for the whole run
	// Frrgen is the frrgen binary ("": <repo>/bin/frrgen).
	Frrgen string
	// ControllerArgs are added to `frrgen controller`'s flags.
	ControllerArgs []string
	// WorkDir keeps the kubeconfig and the controller's log ("": a
	// temporary directory, removed after a run without error).
	WorkDir string
	// Progress is the interval of progress lines (0: 10 s).
	Progress time.Duration
	// MaxSettle bounds each wait for the controller to become quiet, after
	// the initial convergence and after the burst (0: 5 minutes); a run that
	// goes on with a busy controller says so in its report.
	MaxSettle time.Duration
	// CPUProfile, when set, is where the controller's CPU profile of the
	// burst (from its first new Service for NewServices/Rate + 2 s) is
	// written, taken through its --pprof-bind-address.
	CPUProfile string
	// Out receives progress and the report (nil: os.Stdout).
	Out io.Writer
}

// Result is what a run measured. The burst is the time from the first new
// Service to the moment the controller is quiet again after the last one
// was announced.
type Result struct {
	Config Config
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end.
	LoadBefore, LoadAfter string
	// Setup is the time taken to create the cluster's objects.
	Setup time.Duration
	// Convergence runs from the controller's start to the first moment every
	// node's configuration holds every initial service's /32.
	Convergence time.Duration
	// InitialWrites and InitialBytes are the FRRConfiguration write events
	// (and their objects' sizes) until the controller was quiet.
	InitialWrites int
	InitialBytes  int64
	// Latency is the status write → every node holds the /32 time of the
	// new services; Missing counts those never seen announced.
	Latency Latencies
	Missing int
	// Writes and Bytes are the FRRConfiguration write events of the burst.
	Writes int
	Bytes  int64
	// BurstCPU and TotalCPU are the controller's CPU time in the burst and
	// in all; AnnounceCPU, from the first new Service until every new /32
	// was everywhere (the burst's cost even when the controller does not
	// go quiet); PeakRSS is its VmHWM at the end.
	BurstCPU, AnnounceCPU, TotalCPU time.Duration
	PeakRSS                         int64
	// BusyBeforeBurst and BusyAfterBurst say that the controller was still
	// busy when the wait for quiet gave up (MaxSettle): before the burst,
	// the figures include leftover startup work; after it, the burst's writes
	// and CPU may be incomplete.
	BusyBeforeBurst, BusyAfterBurst bool
	// BurstMetrics are the changes of the controller's own counters in the
	// burst (nil when they could not be scraped); MetricsErr says why.
	BurstMetrics metricValues
	MetricsErr   error
}

const (
	createWorkers = 8                // parallel creates of the initial services
	quietWindow   = 3 * time.Second  // no FRRConfiguration write and little controller CPU for this long
	quietCPU      = quietWindow / 10 // "little": under 10% of one core
)

// Run runs the benchmark, printing progress and the report to cfg.Out. It
// always stops what it started; it fails if a child process is left over.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Progress <= 0 {
		cfg.Progress = 10 * time.Second
	}
	if cfg.MaxSettle <= 0 {
		cfg.MaxSettle = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	r := &runner{cfg: cfg, res: &Result{Config: cfg, LoadBefore: loadavg()}, start: time.Now()}
	defer func() { err = errors.Join(err, r.cleanup(err != nil)) }()
	if err := r.run(ctx); err != nil {
		return r.res, err
	}
	return r.res, nil
}

func (c *Config) validate() error {
	switch {
	case c.Nodes < 1:
		return fmt.Errorf("-nodes %d: need at least 1 node", c.Nodes)
	case c.Services < 0:
		return fmt.Errorf("-services %d: cannot be negative", c.Services)
	case c.NewServices < 1:
		return fmt.Errorf("-new-services %d: need at least 1 new service to measure", c.NewServices)
	case c.Services+c.NewServices > MaxServices:
		return fmt.Errorf("-services %d + -new-services %d: at most %d services in all", c.Services, c.NewServices, MaxServices)
	case !(c.Rate > 0):
		return fmt.Errorf("-rate %v: must be a positive number of services per second", c.Rate)
	case c.Timeout <= 0:
		return fmt.Errorf("-timeout %v: must be positive", c.Timeout)
	}
	return nil
}

// runner holds a run's state; cleanup undoes everything run started.
type runner struct {
	cfg   Config
	res   *Result
	start time.Time

	workDir    string
	ownWorkDir bool
	env        *testenv.Env
	builder    *clusterBuilder
	controller *controllerProcess
	obs        *observer
	stopWatch  context.CancelFunc
	watchDone  chan error
}

func (r *runner) run(ctx context.Context) error {
	c, d := r.cfg, r.res
	r.printf("loadbench: %d nodes × %d services, then %d new services at %g/s (timeout %v); load average %s",
		c.Nodes, c.Services, c.NewServices, c.Rate, c.Timeout, d.LoadBefore)
	if err := r.prepare(); err != nil {
		return err
	}
	if err := r.startControlPlane(); err != nil {
		return err
	}
	if err := r.createCluster(ctx); err != nil {
		return err
	}
	if err := r.startWatch(ctx); err != nil {
		return err
	}
	if err := r.converge(ctx); err != nil {
		return err
	}
	if err := r.burst(ctx); err != nil {
		r.report()
		return err
	}
	d.LoadAfter = loadavg()
	r.report()
	return nil
}

func (r *runner) prepare() error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	if r.cfg.Frrgen == "" {
		r.cfg.Frrgen = filepath.Join(root, "bin", "frrgen")
	}
	if _, err := os.Stat(r.cfg.Frrgen); err != nil {
		return fmt.Errorf("the frrgen binary: %w (build it with `make build`, or pass -frrgen)", err)
	}
	if r.workDir = r.cfg.WorkDir; r.workDir == "" {
		if r.workDir, err = os.MkdirTemp("", "frrgen-loadbench-"); err != nil {
			return err
		}
		r.ownWorkDir = true
	}
	return os.MkdirAll(r.workDir, 0o755)
}

func (r *runner) startControlPlane() error {
	r.printf("starting kube-apiserver and etcd")
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	r.env = env
	// The driver's own client is not rate-limited: creating 5000 services
	// at client-go's default 5 requests/s would take an hour.
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS = -1
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}
	r.builder = &clusterBuilder{c: c, nodes: r.cfg.Nodes}
	return nil
}

// createCluster creates the nodes, the MetalLB objects and the initial
// services, before the controller starts.
func (r *runner) createCluster(ctx context.Context) error {
	begin := time.Now()
	if err := r.builder.createBase(ctx); err != nil {
		return err
	}
	var created atomic.Int64
	stop := r.every(func() { r.printf("creating services: %d/%d", created.Load(), r.cfg.Services) })
	defer stop()
	indexes := make(chan int)
	errs := make(chan error, createWorkers)
	var wg sync.WaitGroup
	for range createWorkers {
		wg.Go(func() {
			for i := range indexes {
				if err := r.builder.createService(ctx, i, nil); err != nil {
					errs <- err
					return
				}
				created.Add(1)
			}
		})
	}
	var err error
feed:
	for i := range r.cfg.Services {
		select {
		case indexes <- i:
		case err = <-errs:
			break feed
		}
	}
	close(indexes)
	wg.Wait()
	close(errs)
	if err = errors.Join(err, <-errs); err != nil {
		return err
	}
	r.res.Setup = time.Since(begin)
	r.printf("cluster created in %s: %d nodes, %d peers, 2 advertisements, %d services with a ready endpoint each",
		seconds(r.res.Setup), r.cfg.Nodes, peers, r.cfg.Services)
	return nil
}

func (r *runner) startWatch(ctx context.Context) error {
	initial := make([]string, r.cfg.Services)
	for i := range initial {
		initial[i] = hostPrefix(i)
	}
	r.obs = newObserver(nodeNames(r.cfg.Nodes), initial)
	w, err := newConfigWatcher(r.env.Config, frrK8sNamespace)
	if err != nil {
		return err
	}
	watchCtx, stop := context.WithCancel(ctx)
	r.stopWatch = stop
	events := make(chan rawEvent, 1<<14)
	listed := make(chan struct{})
	r.watchDone = make(chan error, 1)
	go func() { r.watchDone <- w.run(watchCtx, events, listed) }()
	go r.obs.consume(events)
	select {
	case <-listed:
		return nil
	case err := <-r.watchDone:
		return fmt.Errorf("watching FRRConfigurations: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// converge starts the controller and waits until every node holds every
// initial /32 and the controller is quiet.
func (r *runner) converge(ctx context.Context) error {
	kubeconfig := filepath.Join(r.workDir, "kubeconfig")
	if err := r.env.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	logPath := filepath.Join(r.workDir, "controller.log")
	p, err := startController(r.cfg.Frrgen, kubeconfig, logPath, r.cfg.CPUProfile != "", r.cfg.ControllerArgs)
	if err != nil {
		return err
	}
	r.controller = p
	begin := time.Now()
	r.printf("started %s (pid %d, log %s)", strings.Join(append([]string{"frrgen controller"}, r.cfg.ControllerArgs...), " "), p.group.Pid(), logPath)
	stop := r.every(func() {
		o := r.obs.observe()
		phase := "converging"
		if !o.convergedAt.IsZero() {
			phase = "converged, waiting until quiet"
		}
		r.printf("%s: %d/%d nodes hold all %d /32s; %d FRRConfiguration writes (%s); controller CPU %s",
			phase, o.convergedNodes, r.cfg.Nodes, r.cfg.Services, o.events, megabytes(o.bytes), r.cpu())
	})
	defer stop()
	if err := r.waitFor(ctx, "every node holds every initial /32", func(o observation) bool { return !o.convergedAt.IsZero() }); err != nil {
		return err
	}
	r.res.Convergence = r.obs.observe().convergedAt.Sub(begin)
	r.printf("converged in %s after the controller's start; waiting until it is quiet", seconds(r.res.Convergence))
	busy, err := r.waitQuiet(ctx)
	if err != nil {
		return err
	}
	r.res.BusyBeforeBurst = busy
	o := r.obs.observe()
	r.res.InitialWrites, r.res.InitialBytes = o.events, o.bytes
	return nil
}

// burst adds the new services at the configured rate and waits until every
// node holds each one's /32 and the controller is quiet again.
func (r *runner) burst(ctx context.Context) error {
	c := r.cfg
	before := r.obs.observe()
	cpuBefore, err := r.controller.usage()
	if err != nil {
		return err
	}
	metricsBefore, metricsErr := r.controller.scrape(ctx)
	if queued := queuedWork(metricsBefore); queued != "" {
		r.printf("the controller's work queues hold %s as the burst starts", queued)
	}

	var profiled sync.WaitGroup
	if c.CPUProfile != "" {
		d := time.Duration(float64(c.NewServices)/c.Rate*float64(time.Second)) + 2*time.Second
		profiled.Go(func() {
			if err := r.controller.cpuProfile(ctx, d, c.CPUProfile); err != nil {
				r.printf("CPU profile: %v", err)
				return
			}
			r.printf("CPU profile of the burst written to %s", c.CPUProfile)
		})
	}
	defer profiled.Wait()
	var created atomic.Int64
	stop := r.every(func() {
		o := r.obs.observe()
		r.printf("burst: %d/%d services written, %d announced on every node; %d FRRConfiguration writes (%s); controller CPU %s",
			created.Load(), c.NewServices, o.announced, o.events-before.events, megabytes(o.bytes-before.bytes), r.cpu())
	})
	defer stop()
	errs := make(chan error, c.NewServices)
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.Rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for k := range c.NewServices {
		if k > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		i := c.Services + k
		wg.Go(func() {
			err := r.builder.createService(ctx, i, func() { r.obs.expect(hostPrefix(i), time.Now()) })
			if err != nil {
				errs <- err
			}
			created.Add(1)
		})
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(slices.Collect(chanValues(errs))...); err != nil {
		return err
	}
	waitErr := r.waitFor(ctx, "every node holds every new /32", func(o observation) bool { return o.announced == c.NewServices })
	if u, err := r.controller.usage(); err == nil {
		r.res.AnnounceCPU = u.CPU - cpuBefore.CPU
	}
	if waitErr == nil {
		r.res.BusyAfterBurst, waitErr = r.waitQuiet(ctx)
	}

	after := r.obs.observe()
	d := r.res
	d.Latency = Summarize(r.obs.latencies())
	d.Missing = c.NewServices - d.Latency.Count
	d.Writes, d.Bytes = after.events-before.events, after.bytes-before.bytes
	if u, err := r.controller.usage(); err == nil {
		d.BurstCPU, d.TotalCPU, d.PeakRSS = u.CPU-cpuBefore.CPU, u.CPU, u.PeakRSS
	}
	metricsAfter, err := r.controller.scrape(ctx)
	if d.MetricsErr = errors.Join(metricsErr, err); d.MetricsErr == nil {
		d.BurstMetrics = metricDelta(metricsBefore, metricsAfter)
	}
	return waitErr
}

// waitFor polls the observation until done, the controller exits, the watch
// fails or ctx ends.
func (r *runner) waitFor(ctx context.Context, what string, done func(observation) bool) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		o := r.obs.observe()
		switch {
		case o.err != nil:
			return o.err
		case done(o):
			return nil
		}
		if msg := r.controller.exited(); msg != "" {
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", what, ctx.Err())
		case err := <-r.watchDone:
			return fmt.Errorf("the FRRConfiguration watch ended while waiting until %s: %v", what, err)
		case <-t.C:
		}
	}
}

// waitQuiet waits until, for quietWindow, the watch saw no FRRConfiguration
// write and the controller used less than quietCPU (its status writes and
// Events after a change count as work too). It gives up after
// r.cfg.MaxSettle and then reports busy.
func (r *runner) waitQuiet(ctx context.Context) (busy bool, err error) {
	begin := time.Now()
	prev, err := r.controller.usage()
	if err != nil {
		return false, err
	}
	t := time.NewTicker(quietWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("waiting until the controller is quiet: %w", ctx.Err())
		case <-t.C:
		}
		if msg := r.controller.exited(); msg != "" {
			return false, errors.New(msg)
		}
		u, err := r.controller.usage()
		if err != nil {
			return false, err
		}
		o := r.obs.observe()
		if u.CPU-prev.CPU < quietCPU && time.Since(o.lastEventAt) >= quietWindow {
			return false, nil
		}
		if time.Since(begin) > r.cfg.MaxSettle {
			r.printf("note: the controller is still busy %s later (%s CPU in the last %s); going on", r.cfg.MaxSettle, seconds(u.CPU-prev.CPU), quietWindow)
			return true, nil
		}
		prev = u
	}
}

// cleanup stops the controller, the watch and the control plane, removes
// the work directory unless the run failed, and fails if a child process is
// left over.
func (r *runner) cleanup(failed bool) error {
	var errs []error
	if r.controller != nil {
		r.controller.stop()
	}
	if r.stopWatch != nil {
		r.stopWatch()
	}
	if r.env != nil {
		errs = append(errs, r.env.Stop())
	}
	if left := childProcesses(); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes left over after the run: %s", strings.Join(left, ", ")))
	}
	if r.ownWorkDir {
		if failed {
			r.printf("kept the work directory %s (kubeconfig, controller.log)", r.workDir)
		} else {
			errs = append(errs, os.RemoveAll(r.workDir))
		}
	}
	return errors.Join(errs...)
}

// childProcesses lists this process's children still alive ("pid (name)").
func childProcesses() []string {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(s[end+1:]) // state, ppid, ...
		if len(f) > 1 && f[1] == strconv.Itoa(self) && f[0] != "Z" {
			out = append(out, fmt.Sprintf("%d %s", pid, s[strings.IndexByte(s, '('):end+1]))
		}
	}
	return out
}

// every runs f every r.cfg.Progress until the returned stop is called.
func (r *runner) every(f func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.cfg.Progress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (r *runner) cpu() string {
	u, err := r.controller.usage()
	if err != nil {
		return "?"
	}
	return seconds(u.CPU)
}

func (r *runner) printf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Out, "[%6.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

func chanValues[T any](ch <-chan T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for v := range ch {
			if !yield(v) {
				return
			}
		}
	}
}
