package merge_test

// TestDaemonAgrees is a differential test: every case of TestForNode's table,
// 100 config sets of the property tests' generator and 100 wilder ones
// (differential_wild_test.go) are applied to a real kube-apiserver and
// converted by the real frr-k8s v0.0.21 node daemon (bin/frr-k8s-controller),
// and the daemon's verdict is compared with ours.
//
// Isolation, so that a verdict can never be stale or borrowed from another
// case: case i gets its own namespace and Node (both named "d<i>"), and its
// own daemon process started with --namespace d<i> --node-name d<i>, only
// after every object of the case exists. The daemon's caches are synced
// before its first conversion, its inputs never change afterwards, and the
// FRRNodeState "d<i>" cannot exist before the daemon creates it, so the first
// non-empty lastConversionResult is the verdict on exactly this case's
// objects. Daemons run in parallel, one per case.
//
// What the daemon sees, and so what we predict: the case's configs and
// Secrets of namespace frr-k8s-system are created in d<i>; those of another
// namespace X are created in d<i>-X, which the daemon never reads. Our
// prediction is therefore ForNode over the frr-k8s-system configs and Secrets
// only (the rule Check applies for the controller).
//
// The comparison: our Conflict ⇔ "failed: ..."; when both reject, the
// daemon's message names the same problem (daemonReasons); and on success
// the rendered frr.conf must hold exactly what our Effective says (routers,
// ids, networks, imports, neighbors with their session lines and families,
// advertised prefixes, local preferences, communities, receive filters, BFD
// profiles, raw config), see differential_render_test.go.
//
// It needs bin/frr-k8s-controller (`make frr-k8s-controller`) and fails,
// saying so, without it; `make test` builds it first.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/testenv"
)

const (
	// daemonWorkers is how many daemons run at once. Each is mostly idle
	// (waiting for its 3 s render debounce), so this exceeds the core count.
	daemonWorkers = 16
	// verdictTimeout bounds the wait for lastConversionResult, renderTimeout
	// the wait for frr.conf after a "success" (the debounce is 3 s).
	verdictTimeout = 90 * time.Second
	renderTimeout  = 60 * time.Second
	// randomCases and wildCasesN are how many generated config sets run
	// after the table.
	randomCases = 100
	wildCasesN  = 100
)

// daemonOutcome is what the real daemon did with one case.
type daemonOutcome struct {
	// rejected is set when the apiserver refused one of the case's objects
	// (CRD schema); the daemon then never ran.
	rejected string
	// harnessErr is a failure of the harness itself (timeout, process).
	harnessErr error
	// verdict is FRRNodeState.status.lastConversionResult.
	verdict string
	// frrConf is the rendered file, on success.
	frrConf string
	// log is the tail of the daemon's log, for failure messages.
	log string
}

func TestDaemonAgrees(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	daemon := filepath.Join(root, "bin", "frr-k8s-controller")
	if st, err := os.Stat(daemon); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("the frr-k8s node daemon %s is missing (%v): run `make frr-k8s-controller` in %s (cold build: about 4.5 minutes)", daemon, err, root)
	}

	// TestForNode's table, then configs from the property tests' generator,
	// then wilder ones (differential_wild_test.go).
	table := merge.TableCases(t)
	cases := slices.Concat(table, merge.RandomCases(randomCases), wildCases(wildCasesN))

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
	reloaderPidFile := startReloader(t, work)

	started := time.Now()
	h := &harness{c: env.Client, daemon: daemon, kubeconfig: kubeconfig, reloaderPidFile: reloaderPidFile, work: work}
	outcomes := make([]daemonOutcome, len(cases))
	sem := make(chan struct{}, daemonWorkers)
	var wg sync.WaitGroup
	for i := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = h.run(fmt.Sprintf("d%03d", i), cases[i])
		}()
	}
	wg.Wait()
	t.Logf("%d cases converted by the daemon in %s (%d at a time)", len(cases), time.Since(started).Round(time.Second), daemonWorkers)

	var agreedSuccess, agreedConflict, rejected, wildRejected int
	for i, tc := range cases {
		ok := t.Run(tc.Name, func(t *testing.T) {
			o := outcomes[i]
			if o.rejected != "" {
				rejected++
				if strings.HasPrefix(tc.Name, "wild ") {
					wildRejected++
					t.Logf("not comparable: %s", o.rejected)
					return
				}
				if _, known := rejectedByAPIServer[tc.Name]; !known {
					t.Fatalf("the apiserver rejected an object of this case, so the daemon never saw it: %s\n(add the case to rejectedByAPIServer only if that is expected)", o.rejected)
				}
				return
			}
			if reason, known := rejectedByAPIServer[tc.Name]; known {
				t.Fatalf("rejectedByAPIServer lists this case (%s) but the apiserver accepted every object", reason)
			}
			if o.harnessErr != nil {
				t.Fatalf("harness: %v\ndaemon log (tail):\n%s", o.harnessErr, o.log)
			}
			compareWithDaemon(t, tc, i < len(table), o)
		})
		switch {
		case !ok || outcomes[i].rejected != "":
		case outcomes[i].verdict == "success":
			agreedSuccess++
		default:
			agreedConflict++
		}
	}
	t.Logf("daemon and ForNode agree on %d of %d cases: %d converted with the same frr.conf facts, %d rejected by both; %d not applicable (refused by the apiserver)",
		agreedSuccess+agreedConflict, len(cases), agreedSuccess, agreedConflict, rejected)
	// Generated objects the apiserver refuses are not compared; they must
	// stay few, or the wild cases would test nothing.
	if wildRejected > wildCasesN/5 {
		t.Errorf("the apiserver refused %d of %d wild cases; the generator needs fixing", wildRejected, wildCasesN)
	}
}

// rejectedByAPIServer lists the table cases holding an object that the
// frr-k8s CRD schema (or core validation) refuses, with the reason: the
// daemon can never see them. The test fails if a listed case turns out to be
// accepted, or an unlisted one rejected.
var rejectedByAPIServer = map[string]string{
	"connectTime is truncated to whole seconds": "connectTime 1500ms: the CRD wants whole seconds",
	"unknown dynamicASN":                        "dynamicASN outer: the CRD's enum is internal, external",
}

// compareWithDaemon checks one case's daemon outcome against ForNode over
// what the daemon can see.
func compareWithDaemon(t *testing.T, tc merge.TableCase, perConfig bool, o daemonOutcome) {
	t.Helper()
	var configs []frrv1beta1.FRRConfiguration
	for _, c := range tc.Configs {
		if c.Namespace == merge.TestNamespace {
			configs = append(configs, c)
		}
	}
	var secrets []corev1.Secret
	for _, s := range tc.Secrets {
		if s.Namespace == merge.TestNamespace {
			secrets = append(secrets, s)
		}
	}
	eff, warnings, conflict := merge.ForNode(configs, tc.Labels, secrets)

	failed := strings.HasPrefix(o.verdict, "failed: ")
	switch {
	case o.verdict != "success" && !failed:
		t.Fatalf("unexpected lastConversionResult %q", o.verdict)
	case conflict != nil && !failed:
		t.Fatalf("DISAGREEMENT: we predict a conflict, the daemon converted the configs\n  ours: %s\ndaemon: %s", conflict.Message, o.verdict)
	case conflict == nil && failed:
		t.Fatalf("DISAGREEMENT: the daemon rejects the node, we predict no conflict\ndaemon: %s", o.verdict)
	case failed:
		t.Logf("both reject\n  ours: %s\ndaemon: %s", conflict.Message, o.verdict)
		// With several clashes, the one the daemon meets first depends on
		// its (random) reading order: any order's first conflict will do.
		var reasons []string
		for _, c := range merge.ConflictsInEveryOrder(configs, tc.Labels, secrets) {
			alternatives := daemonReasons(c, perConfig)
			if alternatives == nil {
				return // a wording we do not compare
			}
			for _, reason := range alternatives {
				if strings.Contains(o.verdict, reason) {
					return
				}
			}
			reasons = append(reasons, alternatives...)
		}
		slices.Sort(reasons)
		t.Fatalf("DISAGREEMENT on the reason: both reject, but the daemon's message has none of %q\n  ours: %s\ndaemon: %s", slices.Compact(reasons), conflict.Message, o.verdict)
	}
	got, err := parseFRRConf(o.frrConf, expectedRaw(eff))
	if err != nil {
		t.Fatalf("reading the daemon's frr.conf: %v\n%s", err, o.frrConf)
	}
	want := expectedRendering(eff, warnings)
	if len(warnings) > 0 { // graceful restart is the daemon's random pick
		for i := range got.Routers {
			for j := range got.Routers[i].Neighbors {
				n := &got.Routers[i].Neighbors[j]
				n.Session = slices.DeleteFunc(n.Session, func(s string) bool { return s == "graceful-restart" })
			}
		}
	}
	if diff := diffRendering(want, got); diff != "" {
		t.Fatalf("DISAGREEMENT in the rendered frr.conf (-ours +daemon):\n%s\nfrr.conf:\n%s", diff, o.frrConf)
	}
}

// daemonReasons are parts of the daemon's error message, one of which must
// appear when it rejects the node for the same problem as c. Clashes between
// two definitions (frr-k8s's merge.go), duplicate BFD profiles and invalid
// node selectors have a fixed wording and are always checked. Problems inside
// one config are checked only when perConfig is set (hand-written cases with
// one problem each): with several, which one is met first depends on the
// order of checks, which differs between the daemon and us. nil means the
// reason is not compared (both messages are logged).
func daemonReasons(c *merge.Conflict, perConfig bool) []string {
	merged := strings.Contains(c.Message, " conflicts with ") || strings.Contains(c.Message, " twice: ")
	switch {
	case c.Field == "nodeSelector":
		return []string{"could not parse nodeSelector"}
	case c.Field == "bfdProfiles":
		return []string{"duplicate bfd profile name"}
	case !merged && !perConfig:
		return nil
	case !merged:
		return map[string][]string{
			"prefixes":                     {"unknown ipfamily for"},
			"imports":                      {"imports vrf", "not found in prefixes in router"},
			"address":                      {"has no address and no interface", "failed to find ipfamily"},
			"interface":                    {"has both Address and Interface"},
			"asn":                          {"has no ASN or DynamicASN"},
			"dynamicASN":                   {"has both ASN and DynamicASN", "invalid DynamicASN"},
			"bfdProfile":                   {"referencing non existing BFDProfile"},
			"holdTime":                     {"invalid timers"},
			"keepaliveTime":                {"invalid keepaliveTime"},
			"passwordSecret":               {"cleartext password and secret ref", "secret"},
			"toReceive.allowed.prefixes":   {"invalid selector lengths", "failed to parse prefix"},
			"toAdvertise.allowed.prefixes": {"invalid allowed prefixes", "trying to advertise non configured prefix"},
			"toAdvertise.withLocalPref":    {"local pref", "localPref", "local preference", "localpref"},
			"toAdvertise.withCommunity":    {"community"},
		}[c.Field]
	case c.Neighbor == "" && c.Field == "asn":
		return []string{"different asns"}
	case c.Neighbor == "" && c.Field == "id":
		return []string{"different router ids"}
	}
	phrase, ok := map[string]string{
		"asn":                       "multiple asns specified for ",
		"port":                      "multiple ports specified for ",
		"sourceaddress":             "multiple source addresses specified for ",
		"password":                  "multiple passwords specified for ",
		"bfdProfile":                "multiple bfd profiles specified for ",
		"ebgpMultiHop":              "conflicting ebgp-multihop specified for ",
		"dualStackAddressFamily":    "conflicting advertiseDualStack specified for ",
		"holdTime":                  "multiple hold times specified for ",
		"keepaliveTime":             "multiple keepalive times specified for ",
		"connectTime":               "multiple connect times specified for ",
		"toAdvertise.withLocalPref": "multiple local prefs",
	}[c.Field]
	switch {
	case !ok || c.Neighbor == "":
		return nil
	case c.Field == "toAdvertise.withLocalPref":
		return []string{phrase}
	}
	return []string{phrase + c.Neighbor}
}

// harness creates a case's objects and runs a daemon on them.
type harness struct {
	c               client.Client
	daemon          string
	kubeconfig      string
	reloaderPidFile string
	work            string
}

func (h *harness) run(name string, tc merge.TableCase) (o daemonOutcome) {
	ctx, cancel := context.WithTimeout(context.Background(), verdictTimeout+renderTimeout+time.Minute)
	defer cancel()
	namespaceFor := func(ns string) string {
		if ns == merge.TestNamespace {
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
		if err := h.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			o.harnessErr = fmt.Errorf("creating namespace %s: %w", ns, err)
			return o
		}
	}
	for _, s := range tc.Secrets {
		s := s.DeepCopy()
		s.Namespace = namespaceFor(s.Namespace)
		if err := h.c.Create(ctx, s); err != nil {
			if apierrors.IsInvalid(err) {
				o.rejected = fmt.Sprintf("Secret %s: %v", s.Name, err)
			} else {
				o.harnessErr = fmt.Errorf("creating Secret %s/%s: %w", s.Namespace, s.Name, err)
			}
			return o
		}
	}
	for _, c := range tc.Configs {
		c := c.DeepCopy()
		c.Namespace = namespaceFor(c.Namespace)
		if err := h.c.Create(ctx, c); err != nil {
			if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				o.rejected = fmt.Sprintf("FRRConfiguration %s: %v", c.Name, err)
			} else {
				o.harnessErr = fmt.Errorf("creating FRRConfiguration %s/%s: %w", c.Namespace, c.Name, err)
			}
			return o
		}
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: tc.Labels}}
	if err := h.c.Create(ctx, node); err != nil {
		o.harnessErr = fmt.Errorf("creating Node %s: %w", name, err)
		return o
	}
	// The daemon creates its FRRNodeState; one left by anything else would
	// be a stale verdict.
	if err := h.c.Get(ctx, types.NamespacedName{Name: name}, &frrv1beta1.FRRNodeState{}); !apierrors.IsNotFound(err) {
		o.harnessErr = fmt.Errorf("FRRNodeState %s exists before its daemon started (%v)", name, err)
		return o
	}

	dir := filepath.Join(h.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		o.harnessErr = err
		return o
	}
	confPath := filepath.Join(dir, "frr.conf")
	logPath := filepath.Join(dir, "daemon.log")
	p, err := startGroup(logPath, []string{"FRR_CONFIG_FILE=" + confPath, "FRR_RELOADER_PID_FILE=" + h.reloaderPidFile},
		h.daemon, "--node-name", name, "--namespace", name, "--kubeconfig", h.kubeconfig,
		"--metrics-bind-address", "0")
	if err != nil {
		o.harnessErr = err
		return o
	}
	defer func() {
		p.stop()
		if o.harnessErr != nil || o.verdict != "success" {
			o.log = tail(logPath, 30)
		}
	}()

	deadline := time.Now().Add(verdictTimeout)
	for {
		var state frrv1beta1.FRRNodeState
		err := h.c.Get(ctx, types.NamespacedName{Name: name}, &state)
		if err == nil && state.Status.LastConversionResult != "" {
			o.verdict = state.Status.LastConversionResult
			break
		}
		if err != nil && !apierrors.IsNotFound(err) {
			o.harnessErr = fmt.Errorf("reading FRRNodeState %s: %w", name, err)
			return o
		}
		if p.exited() {
			o.harnessErr = fmt.Errorf("the daemon exited before reporting a conversion result: %v", p.err)
			return o
		}
		if time.Now().After(deadline) {
			o.harnessErr = fmt.Errorf("no lastConversionResult in FRRNodeState %s after %s", name, verdictTimeout)
			return o
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o.verdict != "success" {
		return o
	}

	// The daemon writes frr.conf after its debounce, then signals the
	// reloader; read it until two reads 200 ms apart agree.
	deadline = time.Now().Add(renderTimeout)
	last := ""
	for {
		b, err := os.ReadFile(confPath)
		if err == nil && len(b) > 0 && string(b) == last {
			o.frrConf = last
			break
		}
		if err == nil {
			last = string(b)
		} else if !errors.Is(err, os.ErrNotExist) {
			o.harnessErr = err
			return o
		}
		if time.Now().After(deadline) {
			o.harnessErr = fmt.Errorf("lastConversionResult is success but %s was not written within %s", confPath, renderTimeout)
			return o
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Inputs never change, so the verdict must not have either.
	var state frrv1beta1.FRRNodeState
	if err := h.c.Get(ctx, types.NamespacedName{Name: name}, &state); err != nil {
		o.harnessErr = err
	} else if state.Status.LastConversionResult != o.verdict {
		o.harnessErr = fmt.Errorf("lastConversionResult changed from %q to %q with unchanged inputs", o.verdict, state.Status.LastConversionResult)
	}
	return o
}

// group is a child process running in its own process group.
type group struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startGroup(logPath string, env []string, argv ...string) (*group, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: the kernel kills the child if the test binary dies without
	// running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	g := &group{cmd: cmd, done: make(chan struct{})}
	go func() {
		g.err = cmd.Wait()
		close(g.done)
	}()
	return g, nil
}

func (g *group) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the group, SIGKILL after 5 s, and reaps the process.
func (g *group) stop() {
	pgid := g.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-g.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // anything left in the group
}

// startReloader starts a stand-in for frr-k8s's reloader sidecar: a process
// that survives SIGHUP, whose pid the daemons signal after writing frr.conf.
// It is a single process (sleep ignoring HUP, inherited across exec), so
// Pdeathsig stops it too if the test binary dies.
// It returns the pid file (no trailing newline: the daemon parses it with
// Atoi).
func startReloader(t *testing.T, work string) string {
	t.Helper()
	g, err := startGroup(filepath.Join(work, "reloader.log"), nil,
		"bash", "-c", `trap "" HUP; exec sleep infinity`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.stop)
	pidFile := filepath.Join(work, "reloader.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(g.cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	return pidFile
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
