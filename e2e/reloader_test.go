package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frrgen/frrgen/internal/procgroup"
)

const (
	// reloaderReadyTimeout bounds the reloader's start (bash, one trap);
	// reloaderHearTimeout the wait for it to count one SIGHUP (its loop wakes
	// at once on a trapped signal, at the latest after 1 s).
	reloaderReadyTimeout = 10 * time.Second
	reloaderHearTimeout  = 5 * time.Second
)

// reloaderArgv is the command that starts testdata/frr-reloader.sh with
// SIGHUP at its default disposition. A process started with SIGHUP ignored
// (`nohup make e2e`) passes SIG_IGN on through every exec, Go's os/exec
// included, and bash cannot trap a signal that was ignored on entry: the
// reloader would never hear frr-k8s. `env --default-signal=HUP` resets it for
// the reloader only; the suite's other children keep what they inherited, so
// nohup still protects them.
func reloaderArgv(config, pathspace, stateDir string) ([]string, error) {
	script, err := filepath.Abs("testdata/frr-reloader.sh")
	if err != nil {
		return nil, err
	}
	return []string{"env", "--default-signal=HUP", script, config, pathspace, stateDir}, nil
}

// startReloader starts the reloader for the node's pathspace, checks that it
// hears SIGHUP, and writes its pid where the frr-k8s daemon will look for it
// (FRR_RELOADER_PID_FILE).
func startReloader() (string, error) {
	if err := os.MkdirAll(reloaderDir(), 0o755); err != nil {
		return "", err
	}
	argv, err := reloaderArgv(frrConfFile(), nodeName, reloaderDir())
	if err != nil {
		return "", err
	}
	p, err := startProc("frr-reloader", nil, argv...)
	if err != nil {
		return "", err
	}
	if err := awaitReloaderHears(p.Group, reloaderDir(), p.logPath); err != nil {
		return "", err
	}
	pidFile := filepath.Join(reloaderDir(), "reloader.pid")
	return pidFile, os.WriteFile(pidFile, []byte(strconv.Itoa(p.Pid())), 0o644)
}

// awaitReloaderHears sends the reloader one SIGHUP, as frr-k8s will, and
// waits until it has handled it. A reloader that cannot hear frr-k8s then
// stops the suite at start with the reason, instead of every spec timing out
// on a BGP session that never leaves ACTIVE.
func awaitReloaderHears(g *procgroup.Group, stateDir, logPath string) error {
	// until polls done until it reports true, the reloader exits or timeout
	// passes.
	until := func(timeout time.Duration, done func() bool) bool {
		for deadline := time.Now().Add(timeout); !g.Exited() && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if done() {
				return true
			}
		}
		return false
	}
	exited := func() error {
		return fmt.Errorf("the reloader exited (%v); its log %s:\n%s", g.Err(), logPath, readTail(logPath))
	}
	// Before its trap is in place a SIGHUP would kill it.
	if !until(reloaderReadyTimeout, func() bool {
		_, err := os.Stat(filepath.Join(stateDir, "ready"))
		return err == nil
	}) {
		if g.Exited() {
			return exited()
		}
		return fmt.Errorf("the reloader did not start within %s; its log %s:\n%s", reloaderReadyTimeout, logPath, readTail(logPath))
	}
	before := reloaderRequests(stateDir)
	if err := syscall.Kill(g.Pid(), syscall.SIGHUP); err != nil {
		return fmt.Errorf("sending SIGHUP to the reloader (pid %d): %w", g.Pid(), err)
	}
	if !until(reloaderHearTimeout, func() bool { return reloaderRequests(stateDir) > before }) {
		if g.Exited() {
			return exited()
		}
		return fmt.Errorf("the reloader (pid %d) did not react to SIGHUP within %s, so FRR would never be reloaded "+
			"(is SIGHUP ignored? see SigIgn in /proc/%d/status); its log %s:\n%s",
			g.Pid(), reloaderHearTimeout, g.Pid(), logPath, readTail(logPath))
	}
	return nil
}

// reloaderRequests is how many SIGHUPs the reloader has handled.
func reloaderRequests(stateDir string) int {
	b, err := os.ReadFile(filepath.Join(stateDir, "requests"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func readTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// reloaderTestDirEnv, when set, makes TestReloaderWithSIGHUPIgnored the
// child run that does the work, in that directory.
const reloaderTestDirEnv = "FRRGEN_E2E_RELOADER_TEST_DIR"

// TestReloaderWithSIGHUPIgnored runs this test binary again with SIGHUP
// ignored, as `nohup make e2e` starts it, and there starts the reloader the
// way the suite does: it must hear SIGHUP and reload. It also checks that
// the script, started directly from such a process, refuses to run and says
// why. It needs neither root nor FRR: frr-reload.py is replaced by a stub.
func TestReloaderWithSIGHUPIgnored(t *testing.T) {
	dir := os.Getenv(reloaderTestDirEnv)
	if dir == "" {
		cmd := exec.Command("env", "--ignore-signal=HUP", os.Args[0], "-test.run=^TestReloaderWithSIGHUPIgnored$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), reloaderTestDirEnv+"="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the run with SIGHUP ignored failed (%v):\n%s", err, out)
		}
		t.Logf("the run with SIGHUP ignored:\n%s", out)
		return
	}
	if !signal.Ignored(syscall.SIGHUP) {
		t.Fatal("harness: this run was meant to start with SIGHUP ignored, and it is not")
	}

	// The stub records each call; --test and --reload both succeed.
	calls := filepath.Join(dir, "calls")
	stub := filepath.Join(dir, "frr-reload-stub.py")
	if err := os.WriteFile(stub, []byte("import sys\nwith open("+strconv.Quote(calls)+", 'a') as f:\n    f.write(' '.join(sys.argv[1:]) + '\\n')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "frr.conf")
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	argv, err := reloaderArgv(config, "pathspace", state)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "reloader.log")
	g, err := procgroup.Start(logPath, []string{"FRR_RELOAD_PY=" + stub}, argv...)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop(procStopGrace)
	if err := awaitReloaderHears(g, state, logPath); err != nil {
		t.Fatal(err)
	}

	// What frr-k8s does: write frr.conf, then SIGHUP the reloader.
	if err := os.WriteFile(config, []byte("hostname x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(g.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(reloaderHearTimeout, func() error {
		if s := reloaderStatusIn(state); s != "success" {
			return fmt.Errorf("reloader status %q, want success; log:\n%s", s, readTail(logPath))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"--test", "--reload"} {
		if want := mode + " --stdout -N pathspace --rundir " + state + " " + config; !strings.Contains(string(b), want) {
			t.Errorf("frr-reload.py was not called as %q; calls:\n%s", want, b)
		}
	}

	// Without the reset, the script must stop at once and say why.
	direct := exec.Command(argv[2], argv[3:]...)
	var stderr strings.Builder
	direct.Stderr = &stderr
	done := make(chan error, 1)
	if err := direct.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- direct.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "SIGHUP is ignored") {
			t.Errorf("started directly with SIGHUP ignored: %v, stderr %q; want exit status 2 naming the ignored SIGHUP", err, stderr.String())
		}
	case <-time.After(reloaderReadyTimeout):
		_ = direct.Process.Kill()
		<-done
		t.Errorf("started directly with SIGHUP ignored, the script kept running deaf to SIGHUP")
	}
}
