package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/frrgen/frrgen/internal/procgroup"
)

// proc is a child process started by the suite in its own process group, so
// that stopping it also stops whatever it forked (the reloader's sleep, FRR's
// helpers). Its process-group id is recorded under <workdir>/pids so that
// `make e2e-clean` can stop it by id if the suite itself was killed.
type proc struct {
	*procgroup.Group
	name    string
	logPath string
}

// procStopGrace is how long a process gets to exit on SIGTERM.
const procStopGrace = 10 * time.Second

var (
	procsMu sync.Mutex
	procs   []*proc
)

// startProc starts argv[0] with argv[1:] and extra environment, logging
// stdout and stderr to <workdir>/logs/<name>.log.
func startProc(name string, env []string, argv ...string) (*proc, error) {
	logPath := filepath.Join(workDir, "logs", name+".log")
	g, err := procgroup.Start(logPath, env, argv...)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{Group: g, name: name, logPath: logPath}
	recordPid(name, g.Pid())
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

// stop ends the process group and forgets its pid file.
func (p *proc) stop() {
	p.Stop(procStopGrace)
	forgetPid(p.name)
}

// stopAllProcs stops every process started by startProc, newest first.
func stopAllProcs() {
	procsMu.Lock()
	list := procs
	procs = nil
	procsMu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop()
	}
}

func pidDir() string { return filepath.Join(workDir, "pids") }

func recordPid(name string, pid int) {
	_ = os.WriteFile(filepath.Join(pidDir(), name+".pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

func forgetPid(name string) {
	_ = os.Remove(filepath.Join(pidDir(), name+".pid"))
}

// recordChildren records the pids of this process's children running
// binaries under dir (kube-apiserver and etcd started by envtest, which
// stops them itself) so that `make e2e-clean` can find them after a crash.
func recordChildren(dir string) {
	me := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 || fields[1] != me {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(exe, dir+"/") {
			continue
		}
		recordPid("envtest-"+filepath.Base(exe), pid)
	}
}

// alivePids lists the recorded pids whose process (or group) still exists.
func alivePids() []string {
	var alive []string
	entries, _ := os.ReadDir(pidDir())
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(pidDir(), e.Name()))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		if syscall.Kill(pid, 0) == nil || syscall.Kill(-pid, 0) == nil {
			alive = append(alive, fmt.Sprintf("%s=%d", e.Name(), pid))
		}
	}
	return alive
}
