package manager

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/frrgen/frrgen/internal/version"
)

// buildInfo is the conventional constant 1 gauge whose labels say which
// build runs (join on it to break any metric down by version).
var buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "frrgen_build_info",
	Help: "Always 1; the labels are the version, git revision and Go version of the running frrgen.",
}, []string{"version", "revision", "goversion"})

func init() {
	metrics.Registry.MustRegister(buildInfo)
	info := version.Get()
	buildInfo.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)
}
