package loadbench

import (
	"math"
	"slices"
	"time"
)

// Latencies summarises the per-service latencies of a burst.
type Latencies struct {
	Count              int
	P50, P90, P99, Max time.Duration
}

// Summarize computes the percentiles of values (in any order; values is not
// modified).
func Summarize(values []time.Duration) Latencies {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	l := Latencies{Count: len(sorted)}
	if len(sorted) == 0 {
		return l
	}
	l.P50 = Percentile(sorted, 50)
	l.P90 = Percentile(sorted, 90)
	l.P99 = Percentile(sorted, 99)
	l.Max = sorted[len(sorted)-1]
	return l
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, an
// ascending slice, by the nearest-rank method: the smallest value that at
// least p% of the values do not exceed. It is always one of the measured
// values (no interpolation), so a p99 of 200 services is the second largest.
// It returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
