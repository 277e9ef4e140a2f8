package loadbench

import (
	"strings"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// proc_pid_stat(5): pid (comm) state ppid pgrp session tty tpgid flags
	// minflt cminflt majflt cmajflt utime stime cutime cstime priority ...
	stat := "4242 (frr gen) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1200 300 40 5 20 0 12 0 500 1000000 2000\n"
	got, err := parseStatCPU(stat)
	if err != nil || got != 1200+300+40+5 {
		t.Errorf("parseStatCPU = %d, %v; want 1545 (utime+stime+cutime+cstime, after a command name with spaces and parentheses)", got, err)
	}
	for _, bad := range []string{"4242 no command name", "4242 (frrgen) S 1 2 3", "4242 (frrgen) S 1 4242 4242 0 -1 4194560 100 0 0 0 x 300 40 5 20"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) accepted a malformed line", bad)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tfrrgen\nVmPeak:\t 2000000 kB\nVmHWM:\t  102400 kB\nVmRSS:\t   51200 kB\n"
	if got, err := parseVmHWM(status); err != nil || got != 102400*1024 {
		t.Errorf("parseVmHWM = %d, %v; want %d (VmHWM, not VmRSS or VmPeak)", got, err, 102400*1024)
	}
	for _, bad := range []string{"VmRSS:\t 1 kB\n", "VmHWM:\t 1 MB\n", "VmHWM:\t x kB\n"} {
		if _, err := parseVmHWM(bad); err == nil {
			t.Errorf("parseVmHWM(%q) accepted it", bad)
		}
	}
}

func TestMetricDelta(t *testing.T) {
	before, err := parseMetrics(strings.NewReader(`# HELP frrgen_writes_total Objects written.
# TYPE frrgen_writes_total counter
frrgen_writes_total{kind="FRRConfiguration",verb="update"} 10
frrgen_writes_total{kind="Secret",verb="create"} 1
frrgen_translate_build_duration_seconds_count 5
frrgen_translate_build_duration_seconds_sum 0.5
go_goroutines 100
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseMetrics(strings.NewReader(`frrgen_writes_total{kind="FRRConfiguration",verb="update"} 25
frrgen_writes_total{kind="FRRConfiguration",verb="create"} 2
frrgen_writes_total{kind="Secret",verb="create"} 1
frrgen_translate_build_duration_seconds_count 9
frrgen_translate_build_duration_seconds_sum 0.9
go_goroutines 120
`))
	if err != nil {
		t.Fatal(err)
	}
	got := metricLines(metricDelta(before, after))
	want := []string{
		`frrgen_translate_build_duration_seconds_count +4`,
		`frrgen_writes_total{kind="FRRConfiguration",verb="create"} +2`,
		`frrgen_writes_total{kind="FRRConfiguration",verb="update"} +15`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("metric changes:\n%s\nwant (reported counters that changed, sorted):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestQueuedWork(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(`workqueue_depth{controller="frrgen-cluster",name="frrgen-cluster",priority="-100"} 96
workqueue_depth{controller="frrgen-cluster",name="frrgen-cluster",priority="0"} 1
workqueue_depth{controller="frrconfiguration",name="frrconfiguration",priority="0"} 0
workqueue_adds_total{controller="frrconfiguration",name="frrconfiguration"} 300
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := queuedWork(m), "frrgen-cluster: 97"; got != want {
		t.Errorf("queuedWork = %q, want %q (non-empty queues, priorities summed)", got, want)
	}
	if got := queuedWork(metricValues{}); got != "" {
		t.Errorf("queuedWork of nothing = %q, want empty", got)
	}
}
