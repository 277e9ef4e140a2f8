package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/translate"
)

func init() { subcommands = append(subcommands, newControllerCommand) }

// controllerFlags are the settings of `frrgen controller`.
type controllerFlags struct {
	kubeconfig              string
	namespace               string
	frrk8sNamespace         string
	speakerSelector         string
	lbClass                 string
	ignoreExcludeLB         bool
	namePrefix              string
	metricsAddress          string
	probeAddress            string
	leaderElect             bool
	leaderElectionNamespace string
	logLevel                string
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
	fl.StringVar(&f.namespace, "namespace", "metallb-system", "namespace of the MetalLB objects")
	fl.StringVar(&f.frrk8sNamespace, "frrk8s-namespace", "frr-k8s-system", "namespace of the FRRConfigurations and mirrored password Secrets")
	fl.StringVar(&f.speakerSelector, "speaker-node-selector", "", "label selector of the speaker nodes (empty: all nodes)")
	fl.StringVar(&f.lbClass, "lb-class", "", "loadBalancerClass of the services to announce (empty: services without a class)")
	fl.BoolVar(&f.ignoreExcludeLB, "ignore-exclude-lb", false, "announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too")
	fl.StringVar(&f.namePrefix, "name-prefix", "frrgen-", "prefix of the FRRConfiguration names")
	fl.StringVar(&f.metricsAddress, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables it)")
	fl.StringVar(&f.probeAddress, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints")
	fl.BoolVar(&f.leaderElect, "leader-elect", true, "run the controllers only in the replica holding the leader Lease")
	fl.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader Lease (default: the pod's namespace; required outside a cluster when --leader-elect is on)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info or error")
	return cmd
}

func runController(cmd *cobra.Command, f *controllerFlags) error {
	level, err := zapcore.ParseLevel(f.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))

	speakers, err := labels.Parse(f.speakerSelector)
	if err != nil {
		return fmt.Errorf("--speaker-node-selector: %w", err)
	}
	options := translate.Options{
		Namespace:           f.namespace,
		FRRK8sNamespace:     f.frrk8sNamespace,
		LoadBalancerClass:   f.lbClass,
		IgnoreExcludeLB:     f.ignoreExcludeLB,
		SpeakerNodeSelector: speakers,
		NamePrefix:          f.namePrefix,
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
