//go:build demo

// The demo links envtest (it starts kube-apiserver and etcd), so it is built
// only into bin/frrgen-demo (`make demo`), never into the controller binary.

package main

import (
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/frrgen/frrgen/internal/demo"
)

func init() { subcommands = append(subcommands, newDemoCommand) }

func newDemoCommand() *cobra.Command {
	var opts demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run frrgen on a throw-away local control plane with the seed examples",
		Long: "Starts kube-apiserver and etcd from bin/ on 127.0.0.1, installs the CRDs, creates three\n" +
			"nodes, applies the seed examples from config/samples plus two LoadBalancer services, runs\n" +
			"the controller in-process and prints what each node's frr-k8s receives. Run it from the\n" +
			"repository (`make demo` builds what it needs first).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Ctrl-C cancels the tour; Run still stops every process it started.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return demo.Run(ctx, cmd.OutOrStdout(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "leave the control plane and controller running and print a kubeconfig path (Ctrl-C stops them)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", time.Minute, "how long to wait for the controller at each step")
	return cmd
}
