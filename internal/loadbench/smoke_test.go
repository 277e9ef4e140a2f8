package loadbench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frrgen/frrgen/internal/testenv"
)

// TestSmoke runs the whole benchmark on a tiny cluster against a real
// apiserver and a freshly built frrgen, so that the driver cannot rot. It
// checks that everything was measured, not how fast.
func TestSmoke(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	frrgen := filepath.Join(t.TempDir(), "frrgen")
	build := exec.Command("go", "build", "-o", frrgen, "./cmd/frrgen")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/frrgen: %v\n%s", err, out)
	}
	workDir := filepath.Join(t.TempDir(), "work")
	var out bytes.Buffer
	cfg := Config{Nodes: 2, Services: 10, NewServices: 5, Rate: 20, Timeout: 4 * time.Minute,
		Frrgen: frrgen, WorkDir: workDir, Progress: 5 * time.Second, Out: &out}
	res, err := Run(context.Background(), cfg)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		if log, readErr := os.ReadFile(filepath.Join(workDir, "controller.log")); readErr == nil {
			t.Logf("controller log:\n%s", log)
		}
		t.Fatalf("Run: %v", err)
	}
	if res.Latency.Count != 5 || res.Missing != 0 || res.Latency.Max <= 0 {
		t.Errorf("latencies of %d services (%d missing, max %v), want all 5 measured", res.Latency.Count, res.Missing, res.Latency.Max)
	}
	// Every node had to receive every new /32, and before that every initial one.
	if res.Writes < cfg.Nodes || res.Bytes <= 0 || res.InitialWrites < cfg.Nodes || res.Convergence <= 0 {
		t.Errorf("burst writes %d (%d bytes), initial writes %d, convergence %v: want at least one write per node and a convergence time",
			res.Writes, res.Bytes, res.InitialWrites, res.Convergence)
	}
	if res.TotalCPU <= 0 || res.BurstCPU < res.AnnounceCPU || res.AnnounceCPU < 0 || res.PeakRSS <= 0 {
		t.Errorf("controller CPU %v (burst %v, until announced %v), peak RSS %d: want them read from /proc", res.TotalCPU, res.BurstCPU, res.AnnounceCPU, res.PeakRSS)
	}
	if res.MetricsErr != nil || res.BurstMetrics[`frrgen_writes_total{kind="FRRConfiguration",verb="update"}`] <= 0 {
		t.Errorf("controller counters %v (%v), want FRRConfiguration updates in the burst", res.BurstMetrics, res.MetricsErr)
	}
	if !strings.Contains(out.String(), "RESULT nodes=2 services=10 new=5 ") {
		t.Error("the report has no RESULT line")
	}
	// Run stopped everything (it fails on a child process left over).
	if left := childProcesses(); len(left) > 0 {
		t.Errorf("processes left over: %v", left)
	}
}
