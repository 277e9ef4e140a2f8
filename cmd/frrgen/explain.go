package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/translate"
)

func init() { subcommands = append(subcommands, newExplainCommand) }

// explainFlags are the settings of `frrgen explain`.
type explainFlags struct {
	translationFlags
	files      []string
	kubeconfig string
	node       string
}

func newExplainCommand() *cobra.Command {
	f := &explainFlags{}
	cmd := &cobra.Command{
		Use:   "explain (service NAMESPACE/NAME | bgppeer NAME) (-f FILE|DIR ... | --kubeconfig FILE)",
		Short: "Tell why a Service is (not) announced from each node, or what a BGPPeer is sent",
		Long: `explain runs the translation the controller runs and tells how it decided.

For a Service: its IPs and their pool, every BGPAdvertisement and whether it
applies (pool, serviceSelectors, nodeSelectors, peers), the endpoints, and for
each speaker node the peers, whether it announces the service and to whom, or
why not, in plain words with MetalLB's reason key in parentheses. A node held
by an invalid object is named with the objects holding it, and what its last
good configuration sends (from frrgen's stored FRRConfigurations: in the
cluster, or among the files).

For a BGPPeer: the speaker nodes it selects, the held ones, and the prefixes
each node sends it.

The input is read from files (-f, as for render) or from a cluster
(--kubeconfig). Exit status: 0 when explained, 1 when the object is not in
the input, 2 for bad arguments.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), f, args[0], args[1], cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "YAML file or directory (recursive) to read; repeatable; - for standard input")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "read the objects from the cluster of this kubeconfig instead of files")
	fl.StringVar(&f.node, "node", "", "for a Service: explain this node only")
	f.translationFlags.register(fl)
	return cmd
}

func runExplain(ctx context.Context, f *explainFlags, kind, name string, stdout io.Writer) error {
	opts, err := f.options()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if (len(f.files) == 0) == (f.kubeconfig == "") {
		return &exitError{code: 2, err: fmt.Errorf("give either -f or --kubeconfig")}
	}
	var snapshot translate.Snapshot
	var stored []frrv1beta1.FRRConfiguration
	if len(f.files) > 0 {
		objs, err := manifest.Load(f.files...)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		objs.DefaultNamespaces(f.namespace, f.frrk8sNamespace)
		snapshot, stored = objs.Snapshot(), objs.FRRConfigurations
	} else {
		if ctx == nil {
			ctx = context.Background()
		}
		snapshot, stored, err = readCluster(ctx, f.kubeconfig, opts)
		if err != nil {
			return err
		}
	}
	switch strings.ToLower(kind) {
	case "service", "services", "svc":
		key, err := serviceKey(name)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		ex, err := translate.ExplainService(snapshot, opts, key, stored)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		return writeServiceExplanation(stdout, ex, f.node)
	case "bgppeer", "bgppeers":
		ex, err := translate.ExplainPeer(snapshot, opts, name, stored)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		writePeerExplanation(stdout, ex)
		return nil
	}
	return &exitError{code: 2, err: fmt.Errorf("can explain a service or a bgppeer, not %q", kind)}
}

// serviceKey reads NAMESPACE/NAME; a bare NAME is in namespace default.
func serviceKey(arg string) (types.NamespacedName, error) {
	ns, name, found := strings.Cut(arg, "/")
	if !found {
		ns, name = "default", arg
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("service %q: want NAMESPACE/NAME", arg)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// readCluster reads, with a client of the cluster of kubeconfig, what the
// controller reads and frrgen's stored FRRConfigurations. A stored object is
// taken as ours by its label: the ownership proof needs the controller's key.
func readCluster(ctx context.Context, kubeconfig string, o translate.Options) (translate.Snapshot, []frrv1beta1.FRRConfiguration, error) {
	config, err := restConfig(kubeconfig)
	if err != nil {
		return translate.Snapshot{}, nil, err
	}
	c, err := client.New(config, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return translate.Snapshot{}, nil, err
	}
	snapshot, err := controllers.ReadSnapshot(ctx, c, o)
	if err != nil {
		return translate.Snapshot{}, nil, fmt.Errorf("reading the cluster: %w", err)
	}
	stored, err := controllers.ReadStoredConfigs(ctx, c, o)
	if err != nil {
		return translate.Snapshot{}, nil, fmt.Errorf("reading the cluster: %w", err)
	}
	return snapshot, stored, nil
}
