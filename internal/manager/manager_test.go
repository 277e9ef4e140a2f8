package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestReconcileHealth(t *testing.T) {
	// A reading is the counters of controllers "nodes" and "cluster".
	type reading struct {
		nodes, cluster reconcileCounts
		ready          bool
	}
	ok := func(n float64) reconcileCounts { return reconcileCounts{succeeded: n} }
	c := func(succeeded, failed float64) reconcileCounts { return reconcileCounts{succeeded, failed} }
	cases := map[string][]reading{
		"no reconcile yet (a standby) is ready":          {{c(0, 0), c(0, 0), true}, {c(0, 0), c(0, 0), true}},
		"successes are ready":                            {{ok(5), ok(1), true}, {ok(9), ok(2), true}},
		"failures with a success in each reading":        {{c(5, 2), ok(1), true}, {c(6, 10), ok(1), true}},
		"fewer failures than the threshold are ready":    {{ok(5), ok(1), true}, {c(5, 2), ok(1), true}},
		"the threshold in one reading":                   {{ok(5), ok(1), true}, {c(5, 3), ok(1), false}},
		"failures add up across readings (backoff)":      {{ok(5), ok(1), true}, {c(5, 1), ok(1), true}, {c(5, 2), ok(1), true}, {c(5, 3), ok(1), false}},
		"another controller's successes do not hide it":  {{c(0, 3), ok(1), false}, {c(0, 4), ok(7), false}},
		"stays unready while no reconcile runs":          {{c(0, 4), ok(1), false}, {c(0, 4), ok(1), false}},
		"one success makes it ready again":               {{c(0, 4), ok(1), false}, {c(1, 9), ok(1), true}},
		"the first reading counts from zero":             {{c(0, 3), ok(0), false}},
		"a success resets the count of earlier failures": {{c(0, 2), ok(0), true}, {c(1, 2), ok(0), true}, {c(1, 4), ok(0), true}, {c(1, 5), ok(0), false}},
	}
	for name, readings := range cases {
		t.Run(name, func(t *testing.T) {
			h := &reconcileHealth{}
			for i, r := range readings {
				err := h.observe(map[string]reconcileCounts{"nodes": r.nodes, "cluster": r.cluster})
				if (err == nil) != r.ready {
					t.Fatalf("reading %d %+v: err = %v, want ready=%v", i, r, err, r.ready)
				}
				if err != nil && !strings.Contains(err.Error(), "controller nodes ") {
					t.Errorf("error %q does not name the failing controller", err)
				}
			}
		})
	}
}

func TestGatherReconcileCounts(t *testing.T) {
	registry := prometheus.NewRegistry()
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "controller_runtime_reconcile_total"}, []string{"controller", "result"})
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "frrgen_conflicts_total"})
	registry.MustRegister(total, other)
	total.WithLabelValues("a", "success").Add(2)
	total.WithLabelValues("a", "requeue_after").Add(1)
	total.WithLabelValues("b", "requeue").Add(1)
	total.WithLabelValues("a", "error").Add(3)
	total.WithLabelValues("b", "error").Add(1)
	other.Add(100)
	got, err := gatherReconcileCounts(registry)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]reconcileCounts{"a": {succeeded: 3, failed: 3}, "b": {succeeded: 1, failed: 1}}
	if len(got) != 2 || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
}

func TestNewLogger(t *testing.T) {
	failure := errors.New("write failed")
	for _, c := range []struct {
		format, level string
		json          bool
		stacktrace    bool
	}{
		{"json", "info", true, false},
		{"json", "error", true, false},
		{"json", "debug", true, true},
		{"console", "info", false, false},
		{"console", "debug", false, true},
	} {
		var out bytes.Buffer
		log, err := NewLogger(c.format, c.level, &out)
		if err != nil {
			t.Fatal(err)
		}
		log.Error(failure, "Reconciler error", "node", "a")
		line := out.String()
		var entry map[string]any
		isJSON := json.Unmarshal([]byte(strings.SplitN(line, "\n", 2)[0]), &entry) == nil
		if isJSON != c.json || !strings.Contains(line, "write failed") {
			t.Errorf("%s/%s: %q; want json=%v with the error", c.format, c.level, line, c.json)
		}
		// A stack trace names this test function.
		if got := strings.Contains(line, "TestNewLogger"); got != c.stacktrace {
			t.Errorf("%s/%s: stack trace present = %v, want %v:\n%s", c.format, c.level, got, c.stacktrace, line)
		}
	}
	for _, bad := range [][2]string{{"text", "info"}, {"json", "warn"}, {"json", "verbose"}} {
		if _, err := NewLogger(bad[0], bad[1], &bytes.Buffer{}); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestMetricsCertPathMustHoldTheCertificate(t *testing.T) {
	dir := t.TempDir()
	s := Settings{MetricsAddress: ":0", MetricsSecure: true, MetricsCertDir: dir}
	if _, err := s.metricsOptions(); err == nil || !strings.Contains(err.Error(), "--metrics-cert-path "+dir) {
		t.Fatalf("missing tls.crt: err = %v, want one naming --metrics-cert-path", err)
	}
	for _, name := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	options, err := s.metricsOptions()
	if err != nil || options.CertDir != dir || !options.SecureServing || options.FilterProvider == nil {
		t.Fatalf("options = %+v, %v", options, err)
	}
	plain, err := Settings{MetricsAddress: ":0"}.metricsOptions()
	if err != nil || plain.SecureServing || plain.FilterProvider != nil {
		t.Fatalf("--metrics-secure=false: %+v, %v", plain, err)
	}
}
