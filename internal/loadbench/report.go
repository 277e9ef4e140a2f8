package loadbench

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The controller counters the report shows (their change in the burst).
var reportedMetrics = []string{
	"frrgen_translate_build_duration_seconds_count",
	"frrgen_writes_total",
	"controller_runtime_reconcile_total",
}

func (r *runner) report() {
	c, d := r.cfg, r.res
	w := r.cfg.Out
	fmt.Fprintf(w, "\n== frrgen controller load benchmark: %d nodes × %d services, %d new services at %g/s ==\n",
		c.Nodes, c.Services, c.NewServices, c.Rate)
	fmt.Fprintf(w, "machine: %d CPUs, load average %s before, %s after\n", runtime.NumCPU(), d.LoadBefore, orUnknown(d.LoadAfter))
	fmt.Fprintf(w, "cluster created in %s; initial convergence %s after the controller's start (%d FRRConfiguration writes, %s, until quiet)\n",
		seconds(d.Setup), seconds(d.Convergence), d.InitialWrites, megabytes(d.InitialBytes))
	if d.BusyBeforeBurst {
		fmt.Fprintf(w, "NOTE: the controller was still busy %s after converging; the burst competed with that work\n", c.MaxSettle)
	}
	if d.BusyAfterBurst {
		fmt.Fprintf(w, "NOTE: the controller was still busy %s after the last announcement; the burst's writes and CPU are counted until then\n", c.MaxSettle)
	}
	fmt.Fprintf(w, "new services announced on every node: %d of %d\n", d.Latency.Count, c.NewServices)
	fmt.Fprintf(w, "latency, Service status write → /32 in every node's FRRConfiguration: p50 %s  p90 %s  p99 %s  max %s\n",
		seconds(d.Latency.P50), seconds(d.Latency.P90), seconds(d.Latency.P99), seconds(d.Latency.Max))
	fmt.Fprintf(w, "FRRConfiguration writes seen by the watch in the burst: %d events, %s\n", d.Writes, megabytes(d.Bytes))
	fmt.Fprintf(w, "controller: CPU %s until every new /32 was everywhere, %s until quiet, %s in all; peak RSS %s\n",
		seconds(d.AnnounceCPU), seconds(d.BurstCPU), seconds(d.TotalCPU), megabytes(d.PeakRSS))
	if d.MetricsErr != nil {
		fmt.Fprintf(w, "controller metrics: unavailable (%v)\n", d.MetricsErr)
	} else {
		fmt.Fprintf(w, "controller counters, change in the burst:\n")
		for _, line := range metricLines(d.BurstMetrics) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintf(w, "RESULT nodes=%d services=%d new=%d rate=%g p50=%s p90=%s p99=%s max=%s missing=%d writes=%d bytes=%s announce_cpu=%s burst_cpu=%s total_cpu=%s peak_rss=%s convergence=%s busy_before=%v busy_after=%v load_before=%q load_after=%q\n",
		c.Nodes, c.Services, c.NewServices, c.Rate,
		compact(d.Latency.P50), compact(d.Latency.P90), compact(d.Latency.P99), compact(d.Latency.Max), d.Missing,
		d.Writes, strings.ReplaceAll(megabytes(d.Bytes), " ", ""), compact(d.AnnounceCPU), compact(d.BurstCPU), compact(d.TotalCPU),
		strings.ReplaceAll(megabytes(d.PeakRSS), " ", ""), compact(d.Convergence), d.BusyBeforeBurst, d.BusyAfterBurst, d.LoadBefore, orUnknown(d.LoadAfter))
}

// metricDelta returns after − before for the reported counters, without the
// ones that did not change.
func metricDelta(before, after metricValues) metricValues {
	out := metricValues{}
	for name, v := range after {
		if !isReported(name) {
			continue
		}
		if delta := v - before[name]; delta != 0 {
			out[name] = delta
		}
	}
	return out
}

func isReported(sample string) bool {
	for _, m := range reportedMetrics {
		if sample == m || strings.HasPrefix(sample, m+"{") {
			return true
		}
	}
	return false
}

func metricLines(m metricValues) []string {
	lines := make([]string, 0, len(m))
	for name, v := range m {
		lines = append(lines, fmt.Sprintf("%s +%g", name, v))
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		lines = append(lines, "(none changed)")
	}
	return lines
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
func compact(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// megabytes prints a byte count in MB (10^6), or kB below 1 MB.
func megabytes(b int64) string {
	if b < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// queuedWork sums the controller's workqueue_depth samples per controller
// ("frrgen-cluster: 96"), "" when every queue is empty.
func queuedWork(m metricValues) string {
	depth := map[string]float64{}
	for sample, v := range m {
		if !strings.HasPrefix(sample, "workqueue_depth{") || v == 0 {
			continue
		}
		_, rest, _ := strings.Cut(sample, `name="`)
		name, _, _ := strings.Cut(rest, `"`)
		depth[name] += v
	}
	var parts []string
	for name, v := range depth {
		parts = append(parts, fmt.Sprintf("%s: %g", name, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
