package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/frrgen/frrgen/controllers"
)

func init() { subcommands = append(subcommands, newControllerCommand) }

// controllerFlags are the settings of `frrgen controller`.
type controllerFlags struct {
	translationFlags
	kubeconfig              string
	metricsAddress          string
	probeAddress            string
	leaderElect             bool
	leaderElectionNamespace string
	logLevel                string
	allocate                bool
}

func newControllerCommand() *cobra.Command {
	f := &controllerFlags{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Keep every speaker node's FRRConfiguration in sync with the MetalLB objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runController(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.translationFlags.register(fl)
	fl.StringVar(&f.metricsAddress, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables it)")
	fl.StringVar(&f.probeAddress, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints")
	fl.BoolVar(&f.leaderElect, "leader-elect", true, "run the controllers only in the replica holding the leader Lease")
	fl.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader Lease (default: the pod's namespace; required outside a cluster when --leader-elect is on)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info or error")
	fl.BoolVar(&f.allocate, "allocate", true, "assign LoadBalancer Service addresses from the IPAddressPools, as MetalLB's controller does (turn off when MetalLB's controller runs)")
	return cmd
}

func runController(cmd *cobra.Command, f *controllerFlags) error {
	level, err := zapcore.ParseLevel(f.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))

	options, err := f.options()
	if err != nil {
		return err
	}

	config, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                  controllers.Scheme(),
		Cache:                   controllers.CacheOptions(options),
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddress},
		HealthProbeBindAddress:  f.probeAddress,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "frrgen.frrgen.io",
		LeaderElectionNamespace: f.leaderElectionNamespace,
		// Release the Lease on a clean shutdown so the other replica takes
		// over at once instead of after the lease duration.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if err := controllers.Setup(ctx, mgr, options); err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	if f.allocate {
		if err := controllers.SetupAllocation(mgr, options); err != nil {
			return fmt.Errorf("setting up the allocation controller: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}
