// Package manager runs `frrgen controller`: the controller-runtime manager
// with frrgen's controllers, its metrics endpoint (HTTPS with Kubernetes
// authentication and authorisation by default), its probes, leader election
// and build information. cmd/frrgen parses flags into Settings; the envtest
// specs run the same Run.
package manager

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/servicebgpstatus"
	"github.com/frrgen/frrgen/internal/translate"
	"github.com/frrgen/frrgen/internal/version"
)

// Settings are the process-level settings of `frrgen controller`.
type Settings struct {
	Translation translate.Options
	// MetricsAddress is where /metrics is served; "0" disables it.
	MetricsAddress string
	// MetricsSecure serves /metrics over HTTPS and lets only callers whose
	// token may `get` the non-resource URL /metrics read it.
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint
	// (reloaded when they change); empty means a self-signed certificate.
	MetricsCertDir string
	// ProbeAddress is where /healthz and /readyz are served; "0" disables them.
	ProbeAddress string
	// PprofAddress is where Go's /debug/pprof endpoints are served; "0" or
	// "" disables them.
	PprofAddress string
	LeaderElect  bool
	// OwnershipKeyNamespace holds the Secret proving what frrgen wrote.
	OwnershipKeyNamespace string
	// NodeWorkers is how many nodes are reconciled at once.
	NodeWorkers int
	// MaxObjectBytes: a node's configuration larger than this is split.
	MaxObjectBytes int
	// Layout: layout.PerNode or layout.Shared (objects shared by nodes).
	Layout layout.Kind
	// Allocate runs the IP allocation controller (standalone mode).
	Allocate bool
	// Schemas is --metallb-schemas; empty means schemas.Auto.
	Schemas schemas.Choice
	// ServiceBGPStatus is --service-bgp-status; empty means
	// servicebgpstatus.Auto.
	ServiceBGPStatus servicebgpstatus.Mode
	// SchemaRecheckInterval is how often the CRDs are read again (a
	// change stops the manager); 0 means DefaultSchemaRecheckInterval.
	SchemaRecheckInterval   time.Duration
	LeaderElectionNamespace string
	// AllowDuplicateControllerNames lets one process run several managers
	// one after another (tests).
	AllowDuplicateControllerNames bool
}

// DefaultSchemaRecheckInterval: reading six CRDs a minute costs nothing.
const DefaultSchemaRecheckInterval = time.Minute

// Run starts the manager and blocks until ctx is done or it fails.
func Run(ctx context.Context, restConfig *rest.Config, s Settings) error {
	log := ctrl.Log.WithName("setup")
	info := version.Get()
	log.Info("starting frrgen", "version", info.Version, "revision", info.Revision, "goVersion", info.GoVersion)
	metricsOptions, err := s.metricsOptions()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  controllers.Scheme(),
		Cache:                   controllers.CacheOptions(s.Translation),
		Metrics:                 metricsOptions,
		HealthProbeBindAddress:  s.ProbeAddress,
		PprofBindAddress:        s.PprofAddress,
		LeaderElection:          s.LeaderElect,
		LeaderElectionID:        "frrgen.frrgen.io",
		LeaderElectionNamespace: s.LeaderElectionNamespace,
		// Release the Lease on a clean shutdown so the other replica takes
		// over at once instead of after the lease duration.
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: &s.AllowDuplicateControllerNames},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	decision, err := controllers.DetectSchemas(ctx, mgr.GetAPIReader(), cmp.Or(s.Schemas, schemas.Auto), s.Allocate)
	if err != nil {
		return err
	}
	log.Info(decision.Summary(), "metallbSchemas", cmp.Or(s.Schemas, schemas.Auto))
	recheck := &controllers.SchemaRecheck{Reader: mgr.GetAPIReader(), Choice: cmp.Or(s.Schemas, schemas.Auto), Allocate: s.Allocate,
		Started: decision, Interval: cmp.Or(s.SchemaRecheckInterval, DefaultSchemaRecheckInterval)}
	if err := mgr.Add(recheck); err != nil {
		return err
	}
	bgpStatus, err := serviceBGPStatusEnabled(mgr, cmp.Or(s.ServiceBGPStatus, servicebgpstatus.Auto), decision)
	if err != nil {
		return err
	}
	log.Info("ServiceBGPStatus objects", "enabled", bgpStatus, "serviceBGPStatus", cmp.Or(s.ServiceBGPStatus, servicebgpstatus.Auto))
	// An unset key namespace is the input namespace, where frrgen runs.
	setup := controllers.Config{Schemas: decision, Translate: s.Translation, OwnershipKeyNamespace: cmp.Or(s.OwnershipKeyNamespace, s.Translation.Namespace),
		NodeWorkers: s.NodeWorkers, MaxObjectBytes: s.MaxObjectBytes, Layout: s.Layout, ServiceBGPStatus: bgpStatus}
	if err := controllers.Setup(ctx, mgr, setup); err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	if s.Allocate {
		if err := controllers.SetupAllocation(mgr, s.Translation); err != nil {
			return fmt.Errorf("setting up the allocation controller: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := addReadinessChecks(mgr); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// metricsOptions serves the metrics as kubebuilder scaffolds them: HTTPS,
// with every request's bearer token checked by a TokenReview and a
// SubjectAccessReview (get on the non-resource URL /metrics).
func (s Settings) metricsOptions() (metricsserver.Options, error) {
	options := metricsserver.Options{BindAddress: s.MetricsAddress}
	if !s.MetricsSecure {
		return options, nil
	}
	options.SecureServing = true
	options.FilterProvider = filters.WithAuthenticationAndAuthorization
	if s.MetricsCertDir != "" {
		// controller-runtime would fall back to a self-signed certificate
		// in silence; a certificate asked for and missing is an error.
		for _, name := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(s.MetricsCertDir, name)); err != nil {
				return options, fmt.Errorf("--metrics-cert-path %s: %w", s.MetricsCertDir, err)
			}
		}
		options.CertDir = s.MetricsCertDir
	}
	return options, nil
}

// serviceBGPStatusEnabled resolves --service-bgp-status: whether the
// apiserver serves the kind is asked through discovery.
func serviceBGPStatusEnabled(mgr ctrl.Manager, mode servicebgpstatus.Mode, decision schemas.Decision) (bool, error) {
	gk := schema.GroupKind{Group: metallbv1beta1.GroupVersion.Group, Kind: "ServiceBGPStatus"}
	_, err := mgr.GetRESTMapper().RESTMapping(gk, metallbv1beta1.GroupVersion.Version)
	if err != nil && !meta.IsNoMatchError(err) {
		return false, fmt.Errorf("finding out whether %s is served: %w", servicebgpstatus.CRD, err)
	}
	return mode.Enabled(decision.Schemas == schemas.MetalLB, err == nil)
}
