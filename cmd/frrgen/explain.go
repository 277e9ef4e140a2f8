package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/servicestatus"
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

For a Service: the sentence of its frrgen.io/Announced condition (the one
the controller writes, from the same verdict), its IPs and their pool, every BGPAdvertisement and whether it
applies (pool, serviceSelectors, nodeSelectors, peers), the endpoints, and for
each speaker node the peers, whether it announces the service and to whom, or
why not, in plain words with MetalLB's reason key in parentheses. A node held
by an invalid object (named), or kept back because writing its new
configuration would clash with a user FRRConfiguration (the controller's node
plan decides), is shown with what its last good configuration sends (from
frrgen's stored FRRConfigurations: in the cluster, or among the files).

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
	var in explainInput
	if len(f.files) > 0 {
		objs, err := manifest.Load(f.files...)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		objs.DefaultNamespaces(f.namespace, f.frrk8sNamespace)
		in = explainInput{snapshot: objs.Snapshot(), configs: objs.FRRConfigurations, secrets: objs.Secrets}
	} else {
		if ctx == nil {
			ctx = context.Background()
		}
		in, err = readCluster(ctx, f.kubeconfig, opts)
		if err != nil {
			return err
		}
	}
	snapshot := in.snapshot
	written, result := in.written(opts)
	switch strings.ToLower(kind) {
	case "service", "services", "svc":
		key, err := serviceKey(name)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		ex, err := translate.ExplainService(snapshot, opts, key, written)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		// The sentence of the Service's condition, from the same verdict
		// the controller writes.
		kept := map[string]servicestatus.Keep{}
		for node, why := range written.Kept {
			kept[node] = servicestatus.Keep{Conflict: why}
		}
		status, _ := servicestatus.New(&result, kept, written.Stored).Status(key.Namespace, key.Name)
		return writeServiceExplanation(stdout, ex, status, f.node)
	case "bgppeer", "bgppeers":
		ex, err := translate.ExplainPeer(snapshot, opts, name, written)
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

// explainInput is what explain reads: the translation's input, every
// FRRConfiguration, and the Secrets (those of the frr-k8s namespace are
// what frr-k8s resolves passwords from).
type explainInput struct {
	snapshot translate.Snapshot
	configs  []frrv1beta1.FRRConfiguration
	secrets  []corev1.Secret
}

// written splits the FRRConfigurations into frrgen's stored ones (taken as
// ours by their label in the frr-k8s namespace: the ownership proof needs
// the controller's key) and the users', and asks the node plan, as the
// controller does, which nodes must keep their stored configuration
// because writing the new one would clash with a user's.
func (in *explainInput) written(o translate.Options) (translate.Written, translate.Result) {
	result := translate.Build(in.snapshot, o)
	stored, users, secrets := offlinePlanInputs(in.configs, in.secrets, result, o)
	nodeLabels := map[string]map[string]string{}
	for _, n := range in.snapshot.Nodes {
		nodeLabels[n.Name] = n.Labels
	}
	w := translate.Written{Stored: stored, Kept: map[string]string{}}
	for _, desired := range result.Configs {
		node := desired.Annotations[translate.AnnotationNode]
		plan := nodeplan.Decide(nodeplan.Input{Node: node, NodeLabels: nodeLabels[node], Desired: []frrv1beta1.FRRConfiguration{desired},
			Stored: storedFor(stored, node), Others: users, Secrets: secrets})
		if plan.Conflict != nil {
			w.Kept[node] = plan.Conflict.Message
		}
	}
	return w, result
}

// readCluster reads, with a client of the cluster of kubeconfig, what the
// controller reads, every FRRConfiguration and the frr-k8s namespace's
// Secrets.
func readCluster(ctx context.Context, kubeconfig string, o translate.Options) (explainInput, error) {
	config, err := restConfig(kubeconfig)
	if err != nil {
		return explainInput{}, err
	}
	c, err := client.New(config, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return explainInput{}, err
	}
	snapshot, err := controllers.ReadSnapshot(ctx, c, o)
	if err != nil {
		return explainInput{}, fmt.Errorf("reading the cluster: %w", err)
	}
	var configs frrv1beta1.FRRConfigurationList
	if err := c.List(ctx, &configs); err != nil {
		return explainInput{}, fmt.Errorf("reading the cluster: listing FRRConfigurations: %w", err)
	}
	var secrets corev1.SecretList
	if err := c.List(ctx, &secrets, client.InNamespace(o.FRRK8sNamespace)); err != nil {
		return explainInput{}, fmt.Errorf("reading the cluster: listing Secrets of %s: %w", o.FRRK8sNamespace, err)
	}
	return explainInput{snapshot: snapshot, configs: configs.Items, secrets: append(secrets.Items, snapshot.Secrets...)}, nil
}
