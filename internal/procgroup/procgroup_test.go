package procgroup

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStopEndsTheWholeGroup starts a shell that forks a child ignoring
// SIGTERM, and checks Stop leaves neither alive.
func TestStopEndsTheWholeGroup(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	g, err := Start(log, nil, "bash", "-c", `trap "" TERM; sleep 600 & wait`)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let bash fork its child
	if g.Exited() {
		t.Fatalf("exited early: %v", g.Err())
	}
	g.Stop(500 * time.Millisecond)
	if !g.Exited() {
		t.Fatal("still running after Stop")
	}
	// Killed members are reaped by init asynchronously (they were orphaned
	// when bash died), so give the kernel a moment to forget them.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-g.Pid(), 0) != syscall.ESRCH {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has members after Stop", g.Pid())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
