// Package frrk8sdaemon is test support, for differential tests only: it runs
// the real frr-k8s v0.0.21 node daemon (bin/frr-k8s-controller, built by
// `make frr-k8s-controller`) against a real kube-apiserver (internal/testenv)
// on sets of FRRConfigurations, and returns its verdict (the FRRNodeState's
// lastConversionResult) and the frr.conf it rendered. render.go reads that
// frr.conf back into the facts a merge decides.
//
// Isolation, so that a verdict can never be stale or borrowed from another
// case: each Case gets its own namespace and Node (both named after the
// case), and its own daemon process started with --namespace <name>
// --node-name <name>, only after every object of the case exists. The
// daemon's caches are synced before its first conversion, its inputs never
// change afterwards, and its FRRNodeState cannot exist before the daemon
// creates it, so the first non-empty lastConversionResult is the verdict on
// exactly the case's objects. Daemons run in parallel, Workers at a time.
//
// It imports internal/testenv, which imports the controllers (and so
// translate and merge): only external test packages (package x_test) can use
// it.
package frrk8sdaemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/procgroup"
	"github.com/frrgen/frrgen/internal/testenv"
)

const (
	// Workers is how many daemons run at once. Each is mostly idle (waiting
	// for its 3 s render debounce), so this exceeds the core count.
	Workers = 16
	// verdictTimeout bounds the wait for lastConversionResult, renderTimeout
	// the wait for frr.conf after a "success" (the debounce is 3 s).
	verdictTimeout = 90 * time.Second
	renderTimeout  = 60 * time.Second
	// daemonStopGrace is how long a daemon gets to exit on SIGTERM.
	daemonStopGrace = 5 * time.Second
)

// Case is one daemon run: a Node and the objects its daemon reads.
type Case struct {
	// Name names the case's namespace, Node and daemon: a DNS label, unique
	// among the cases of a Runner.
	Name string
	// NodeLabels are the Node's labels (what nodeSelectors match).
	NodeLabels map[string]string
	// Namespace is the namespace the objects' daemon would read
	// (frr-k8s-system). Objects in it are created in the case's namespace,
	// which this daemon reads; objects of another namespace X in <Name>-X,
	// which it never reads.
	Namespace string
	Secrets   []corev1.Secret
	Configs   []frrv1beta1.FRRConfiguration
}

// Outcome is what the real daemon did with one case.
type Outcome struct {
	// Rejected is set when the apiserver refused one of the case's objects
	// (CRD schema, core validation); the daemon then never ran.
	Rejected string
	// Err is a failure of the harness itself (timeout, process).
	Err error
	// Verdict is FRRNodeState.status.lastConversionResult.
	Verdict string
	// FRRConf is the rendered file, on success.
	FRRConf string
	// Log is the tail of the daemon's log when Err is set or the verdict is
	// not "success", for failure messages.
	Log string
}

// Runner runs daemons against one control plane.
type Runner struct {
	// Client talks to the control plane directly.
	Client          client.Client
	daemon          string
	kubeconfig      string
	reloaderPidFile string
	work            string
}

// Binary returns the path of bin/frr-k8s-controller, or an error saying how
// to build it.
func Binary() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	daemon := filepath.Join(root, "bin", "frr-k8s-controller")
	if st, err := os.Stat(daemon); err != nil || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("the frr-k8s node daemon %s is missing (%v): run `make frr-k8s-controller` in %s (cold build: about 4.5 minutes)", daemon, err, root)
	}
	return daemon, nil
}

// Start starts a control plane and the stand-in for frr-k8s's reloader, all
// stopped by t's cleanups. It fails t (never skips) when the daemon binary
// or the control plane binaries are missing.
func Start(t testing.TB) *Runner {
	t.Helper()
	daemon, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	work := t.TempDir()
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	return &Runner{Client: env.Client, daemon: daemon, kubeconfig: kubeconfig,
		reloaderPidFile: startReloader(t, work), work: work}
}

// RunAll runs every case, Workers at a time, and returns their outcomes in
// the cases' order.
func (r *Runner) RunAll(cases []Case) []Outcome {
	outcomes := make([]Outcome, len(cases))
	sem := make(chan struct{}, Workers)
	var wg sync.WaitGroup
	for i := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = r.Run(cases[i])
		}()
	}
	wg.Wait()
	return outcomes
}

// Run creates a case's objects, runs a daemon on them and stops it.
func (r *Runner) Run(tc Case) (o Outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), verdictTimeout+renderTimeout+time.Minute)
	defer cancel()
	name := tc.Name
	namespaceFor := func(ns string) string {
		if ns == tc.Namespace {
			return name
		}
		return name + "-" + ns
	}

	namespaces := map[string]bool{name: true}
	for _, c := range tc.Configs {
		namespaces[namespaceFor(c.Namespace)] = true
	}
	for _, s := range tc.Secrets {
		namespaces[namespaceFor(s.Namespace)] = true
	}
	for ns := range namespaces {
		if err := r.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			o.Err = fmt.Errorf("creating namespace %s: %w", ns, err)
			return o
		}
	}
	for _, s := range tc.Secrets {
		s := s.DeepCopy()
		s.Namespace = namespaceFor(s.Namespace)
		if err := r.Client.Create(ctx, s); err != nil {
			if apierrors.IsInvalid(err) {
				o.Rejected = fmt.Sprintf("Secret %s: %v", s.Name, err)
			} else {
				o.Err = fmt.Errorf("creating Secret %s/%s: %w", s.Namespace, s.Name, err)
			}
			return o
		}
	}
	for _, c := range tc.Configs {
		c := c.DeepCopy()
		c.Namespace = namespaceFor(c.Namespace)
		if err := r.Client.Create(ctx, c); err != nil {
			if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				o.Rejected = fmt.Sprintf("FRRConfiguration %s: %v", c.Name, err)
			} else {
				o.Err = fmt.Errorf("creating FRRConfiguration %s/%s: %w", c.Namespace, c.Name, err)
			}
			return o
		}
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: tc.NodeLabels}}
	if err := r.Client.Create(ctx, node); err != nil {
		if apierrors.IsInvalid(err) {
			o.Rejected = fmt.Sprintf("Node %s: %v", name, err)
		} else {
			o.Err = fmt.Errorf("creating Node %s: %w", name, err)
		}
		return o
	}
	// The daemon creates its FRRNodeState; one left by anything else would
	// be a stale verdict.
	if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, &frrv1beta1.FRRNodeState{}); !apierrors.IsNotFound(err) {
		o.Err = fmt.Errorf("FRRNodeState %s exists before its daemon started (%v)", name, err)
		return o
	}

	dir := filepath.Join(r.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		o.Err = err
		return o
	}
	confPath := filepath.Join(dir, "frr.conf")
	logPath := filepath.Join(dir, "daemon.log")
	p, err := procgroup.Start(logPath, []string{"FRR_CONFIG_FILE=" + confPath, "FRR_RELOADER_PID_FILE=" + r.reloaderPidFile},
		r.daemon, "--node-name", name, "--namespace", name, "--kubeconfig", r.kubeconfig,
		"--metrics-bind-address", "0")
	if err != nil {
		o.Err = err
		return o
	}
	defer func() {
		p.Stop(daemonStopGrace)
		if o.Err != nil || o.Verdict != "success" {
			o.Log = tail(logPath, 30)
		}
	}()

	deadline := time.Now().Add(verdictTimeout)
	for {
		var state frrv1beta1.FRRNodeState
		err := r.Client.Get(ctx, types.NamespacedName{Name: name}, &state)
		if err == nil && state.Status.LastConversionResult != "" {
			o.Verdict = state.Status.LastConversionResult
			break
		}
		if err != nil && !apierrors.IsNotFound(err) {
			o.Err = fmt.Errorf("reading FRRNodeState %s: %w", name, err)
			return o
		}
		if p.Exited() {
			o.Err = fmt.Errorf("the daemon exited before reporting a conversion result: %v", p.Err())
			return o
		}
		if time.Now().After(deadline) {
			o.Err = fmt.Errorf("no lastConversionResult in FRRNodeState %s after %s", name, verdictTimeout)
			return o
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o.Verdict != "success" {
		return o
	}

	// The daemon writes frr.conf after its debounce, then signals the
	// reloader; read it until two reads 200 ms apart agree.
	deadline = time.Now().Add(renderTimeout)
	last := ""
	for {
		b, err := os.ReadFile(confPath)
		if err == nil && len(b) > 0 && string(b) == last {
			o.FRRConf = last
			break
		}
		if err == nil {
			last = string(b)
		} else if !errors.Is(err, os.ErrNotExist) {
			o.Err = err
			return o
		}
		if time.Now().After(deadline) {
			o.Err = fmt.Errorf("lastConversionResult is success but %s was not written within %s", confPath, renderTimeout)
			return o
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Inputs never change, so the verdict must not have either.
	var state frrv1beta1.FRRNodeState
	if err := r.Client.Get(ctx, types.NamespacedName{Name: name}, &state); err != nil {
		o.Err = err
	} else if state.Status.LastConversionResult != o.Verdict {
		o.Err = fmt.Errorf("lastConversionResult changed from %q to %q with unchanged inputs", o.Verdict, state.Status.LastConversionResult)
	}
	return o
}

// startReloader starts a stand-in for frr-k8s's reloader sidecar: a process
// that survives SIGHUP, whose pid the daemons signal after writing frr.conf.
// It is a single process (sleep ignoring HUP, inherited across exec), so
// Pdeathsig stops it too if the test binary dies.
// It returns the pid file (no trailing newline: the daemon parses it with
// Atoi).
func startReloader(t testing.TB, work string) string {
	t.Helper()
	g, pidFile, err := startReloaderIn(work)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop(daemonStopGrace) })
	return pidFile
}

func startReloaderIn(work string) (*procgroup.Group, string, error) {
	g, err := procgroup.Start(filepath.Join(work, "reloader.log"), nil,
		"bash", "-c", `trap "" HUP; exec sleep infinity`)
	if err != nil {
		return nil, "", err
	}
	pidFile := filepath.Join(work, "reloader.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(g.Pid())), 0o644); err != nil {
		g.Stop(daemonStopGrace)
		return nil, "", err
	}
	return g, pidFile, nil
}

// NodeDaemon is a frr-k8s daemon that runs for a node as long as a test
// needs it, against a control plane the test already has (envtest specs:
// the daemon writes the node's FRRNodeState as it would in a cluster).
// There is no FRR: the reload is the stand-in's, so lastReloadResult stays
// empty, and there is no BGPSessionState.
type NodeDaemon struct {
	daemon, reloader *procgroup.Group
	// Log is the daemon's log file.
	Log string
}

// StartNode starts the daemon for node, reading FRRConfigurations in
// namespace, with its files in dir and the control plane of kubeconfig.
func StartNode(dir, kubeconfig, node, namespace string) (*NodeDaemon, error) {
	daemon, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	reloader, pidFile, err := startReloaderIn(dir)
	if err != nil {
		return nil, err
	}
	d := &NodeDaemon{reloader: reloader, Log: filepath.Join(dir, "daemon.log")}
	d.daemon, err = procgroup.Start(d.Log, []string{"FRR_CONFIG_FILE=" + filepath.Join(dir, "frr.conf"), "FRR_RELOADER_PID_FILE=" + pidFile},
		daemon, "--node-name", node, "--namespace", namespace, "--kubeconfig", kubeconfig, "--metrics-bind-address", "0")
	if err != nil {
		reloader.Stop(daemonStopGrace)
		return nil, err
	}
	return d, nil
}

// Stop stops the daemon and its reloader.
func (d *NodeDaemon) Stop() {
	d.daemon.Stop(daemonStopGrace)
	d.reloader.Stop(daemonStopGrace)
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
