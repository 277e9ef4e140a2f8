// Package procgroup runs a child process in its own process group, so that
// stopping it also stops whatever it forked. Test harnesses (the e2e suite and
// internal/frrk8sdaemon) use it to start real daemons and always stop them.
package procgroup

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Group is a running (or exited) child process and its process group.
type Group struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

// Start runs argv with the current environment plus env, appending its
// stdout and stderr to logPath. The kernel kills the child if the calling
// process dies without stopping it (Pdeathsig; setuid programs drop it).
func Start(logPath string, env []string, argv ...string) (*Group, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	g := &Group{cmd: cmd, done: make(chan struct{})}
	go func() {
		g.err = cmd.Wait()
		close(g.done)
	}()
	return g, nil
}

// Pid is the child's pid, which is also its process-group id.
func (g *Group) Pid() int { return g.cmd.Process.Pid }

// Exited reports whether the child has exited.
func (g *Group) Exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// Err is how the child exited; nil while it runs.
func (g *Group) Err() error {
	if !g.Exited() {
		return nil
	}
	return g.err
}

// Stop sends SIGTERM to the group, SIGKILL after grace, waits for the child to
// be reaped and kills anything still left in the group.
func (g *Group) Stop(grace time.Duration) {
	if !g.Exited() {
		g.signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(grace):
			g.signal(syscall.SIGKILL)
			<-g.done
		}
	}
	g.signal(syscall.SIGKILL)
}

func (g *Group) signal(sig syscall.Signal) {
	if pgid := g.Pid(); pgid > 1 {
		_ = syscall.Kill(-pgid, sig)
	}
}
