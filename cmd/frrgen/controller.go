package main

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/manager"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/servicebgpstatus"
)

func init() { subcommands = append(subcommands, newControllerCommand) }

// controllerFlags are the settings of `frrgen controller`.
type controllerFlags struct {
	translationFlags
	layoutFlags
	settings   manager.Settings
	schemas    string
	bgpStatus  string
	kubeconfig string
	logFormat  string
	logLevel   string
}

func newControllerCommand() *cobra.Command {
	f := &controllerFlags{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Keep every speaker node's FRRConfiguration in sync with the MetalLB objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runController(f)
		},
	}
	s := &f.settings
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.translationFlags.register(fl)
	fl.StringVar(&s.MetricsAddress, "metrics-bind-address", ":8443", "address of the Prometheus metrics endpoint (0 disables it)")
	fl.BoolVar(&s.MetricsSecure, "metrics-secure", true, "serve metrics over HTTPS to callers allowed to get /metrics (TokenReview + SubjectAccessReview); false: plain HTTP to anyone")
	fl.StringVar(&s.MetricsCertDir, "metrics-cert-path", "", "directory with tls.crt and tls.key for the metrics endpoint, reloaded on change (default: a self-signed certificate)")
	fl.StringVar(&s.ProbeAddress, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints")
	fl.StringVar(&s.PprofAddress, "pprof-bind-address", "0", "address of Go's /debug/pprof profiling endpoints, plain HTTP to anyone (0, the default, disables them; use a loopback address)")
	fl.BoolVar(&s.LeaderElect, "leader-elect", true, "run the controllers only in the replica holding the leader Lease")
	fl.StringVar(&s.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader Lease (default: the pod's namespace; required outside a cluster when --leader-elect is on)")
	fl.StringVar(&s.OwnershipKeyNamespace, "ownership-key-namespace", "metallb-system", "frrgen's own namespace, holding the Secret "+controllers.OwnershipKeySecret+" that proves which objects frrgen wrote (created when absent)")
	fl.IntVar(&s.NodeWorkers, "node-workers", 4, "how many nodes' configurations are checked and written at once")
	f.layoutFlags.register(fl)
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json or console")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info or error (stack traces on errors only with debug)")
	registerAllocateFlag(fl, &s.Allocate)
	fl.StringVar(&f.schemas, "metallb-schemas", string(schemas.Auto), "whose metallb.io CRDs frrgen runs on: auto (read them at start), frrgen (its own, standalone) or metallb (MetalLB's, alongside its controller); frrgen or metallb fails the start when the installed CRDs are the other's")
	fl.StringVar(&f.bgpStatus, "service-bgp-status", string(servicebgpstatus.Auto), "write MetalLB's per-node ServiceBGPStatus objects (which node announces a service to which BGPPeers), as MetalLB's speakers do: auto (on MetalLB's CRDs only), true or false; at 100 nodes and 5,000 services that is up to 500,000 objects")
	return cmd
}

func runController(f *controllerFlags) error {
	logger, err := manager.NewLogger(f.logFormat, f.logLevel, os.Stderr)
	if err != nil {
		return err
	}
	ctrl.SetLogger(logger)
	if f.settings.Translation, err = f.options(); err != nil {
		return err
	}
	if f.settings.Schemas, err = schemas.ParseChoice(f.schemas); err != nil {
		return err
	}
	layoutOptions, err := f.layoutOptions(f.namePrefix)
	if err != nil {
		return err
	}
	f.settings.Layout, f.settings.MaxObjectBytes = layoutOptions.Kind, layoutOptions.MaxObjectBytes
	if f.settings.ServiceBGPStatus, err = servicebgpstatus.ParseMode(f.bgpStatus); err != nil {
		return err
	}
	config, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	return manager.Run(ctrl.SetupSignalHandler(), config, f.settings)
}

// restConfig is the client configuration of kubeconfig (or the usual
// places), with one client-side rate limit whichever way it was found:
// client-go's default (5 requests/s) with --kubeconfig, controller-runtime's
// (20/s) otherwise, either of which makes a burst of Service changes on a
// few dozen nodes queue for seconds (the load benchmark shows it).
func restConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = apiQPS, apiBurst
	return cfg, nil
}

// The client-side rate limit of frrgen's API requests; the apiserver's own
// priority and fairness still applies.
const (
	apiQPS   = 200
	apiBurst = 400
)
