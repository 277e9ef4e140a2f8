package loadbench

import (
	"slices"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func upTo(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100 is 50", upTo(100), 50, 50 * time.Millisecond},
		{"p90 of 1..100 is 90", upTo(100), 90, 90 * time.Millisecond},
		{"p99 of 1..100 is 99", upTo(100), 99, 99 * time.Millisecond},
		{"p99 of 200 values is the second largest", upTo(200), 99, 198 * time.Millisecond},
		{"p100 is the maximum", upTo(200), 100, 200 * time.Millisecond},
		{"p50 of an even count is the lower middle, no interpolation", ms(10, 20, 30, 40), 50, 20 * time.Millisecond},
		{"a rank just past a value rounds up", ms(10, 20, 30), 34, 20 * time.Millisecond},
		{"a tiny percentile is the minimum", ms(10, 20, 30), 0.001, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	in := ms(300, 100, 500, 200, 400)
	orig := slices.Clone(in)
	got := Summarize(in)
	want := Latencies{Count: 5, P50: 300 * time.Millisecond, P90: 500 * time.Millisecond, P99: 500 * time.Millisecond, Max: 500 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize(%v) = %+v, want %+v", orig, got, want)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("Summarize reordered its input: %v, was %v", in, orig)
	}
	if got := Summarize(nil); got != (Latencies{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}
