package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/translate"
)

func init() { subcommands = append(subcommands, newRenderCommand) }

// renderFlags are the settings of `frrgen render`.
type renderFlags struct {
	translationFlags
	layoutFlags
	files     []string
	node      string
	output    string
	effective bool
	allocate  bool
}

func newRenderCommand() *cobra.Command {
	f := &renderFlags{}
	cmd := &cobra.Command{
		Use:   "render -f FILE|DIR ...",
		Short: "Print the FRRConfiguration frrgen writes for each node, from YAML files",
		Long: `render reads MetalLB objects, Nodes, Services, EndpointSlices and Secrets from
YAML files (no cluster needed) and prints one FRRConfiguration per speaker node,
sorted by node, exactly as the controller would write them (with --layout and
--max-object-bytes: a node's shards, and the shared objects last). Like the
controller, render first allocates: a LoadBalancer Service without an address
(or with one it may not keep) gets the one the controller would give it, from
the input's IPAddressPools and the addresses the input's Service statuses
already hold; standard error says which ("allocated 192.0.2.0 to default/web
from pool p"). With --allocate=false (MetalLB's controller allocates in the
cluster), the statuses are taken as they are. Problems in the
input are printed on standard error. An invalid object holds the nodes whose
configuration it could change: those are not printed (the controller keeps
their last good configuration), every other node is. The exit status is 0
when no node is held, even if some object is invalid, and 1 when a node is
held.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRender(f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "YAML file or directory (recursive) to read; repeatable; - for standard input")
	fl.StringVar(&f.node, "node", "", "print only the configuration of this node")
	fl.StringVarP(&f.output, "output", "o", "yaml", "output format: yaml (multi-document) or json (a list)")
	f.translationFlags.register(fl)
	f.layoutFlags.register(fl)
	registerAllocateFlag(fl, &f.allocate)
	fl.BoolVar(&f.effective, "effective", false, "print each node's effective frr-k8s configuration: ours merged with the input's FRRConfigurations (exit status 2 on a conflict)")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func runRender(f *renderFlags, stdout, stderr io.Writer) error {
	if f.output != "yaml" && f.output != "json" {
		return &exitError{code: 2, err: fmt.Errorf("--output must be yaml or json, not %q", f.output)}
	}
	opts, err := f.options()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	layoutOpts, err := f.layoutOptions(f.namePrefix)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	objs, err := loadInput(f.files, stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	objs.DefaultNamespaces(f.namespace, f.frrk8sNamespace)
	if f.allocate {
		allocateInput(objs, opts.LoadBalancerClass, stderr)
	}
	result := translate.Build(objs.Snapshot(), opts)
	printDiagnostics(stderr, result)
	configs := result.Configs
	if f.node != "" {
		configs, err = selectNode(configs, f.node, objs, &result)
		if err != nil {
			return err
		}
	}
	if f.effective {
		err = writeEffectiveConfigs(stdout, stderr, configs, result, objs, opts, f.output)
	} else {
		err = writeObjects(stdout, result.Configs, f.node, layoutOpts, f.output)
	}
	if err != nil {
		return err
	}
	return heldError(result.Held)
}

// writeObjects prints the objects the controller writes for configs (all
// nodes: shared objects depend on every node), or those selecting node.
// The effective configurations (--effective) do not depend on the layout.
func writeObjects(stdout io.Writer, configs []frrv1beta1.FRRConfiguration, node string, o layout.Options, format string) error {
	l, err := layout.Compute(configs, o)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	objects := l.Objects()
	if node != "" {
		objects = l.ForNode(node)
	}
	return manifest.Write(stdout, objects, format)
}

// heldError is the exit status 1 for held nodes, naming them.
func heldError(held []translate.HeldNode) error {
	if len(held) == 0 {
		return nil
	}
	nodes := make([]string, len(held))
	for i, h := range held {
		nodes[i] = h.Node
	}
	return &exitError{code: 1, err: fmt.Errorf("%d node(s) held by invalid objects, not rendered: %s", len(held), strings.Join(nodes, ", "))}
}

// selectNode keeps the configuration of one node, or explains its absence.
func selectNode(configs []frrv1beta1.FRRConfiguration, node string, objs *manifest.Objects, result *translate.Result) ([]frrv1beta1.FRRConfiguration, error) {
	for _, c := range configs {
		if c.Annotations[translate.AnnotationNode] == node {
			return []frrv1beta1.FRRConfiguration{c}, nil
		}
	}
	if result.HeldBy(node) != nil {
		return nil, heldError([]translate.HeldNode{{Node: node}})
	}
	if !slices.ContainsFunc(objs.Nodes, func(n corev1.Node) bool { return n.Name == node }) {
		return nil, &exitError{code: 1, err: fmt.Errorf("node %q is not in the input", node)}
	}
	return nil, &exitError{code: 1, err: fmt.Errorf("node %q is not a speaker node (it does not match --speaker-node-selector), so it gets no FRRConfiguration", node)}
}

// loadInput reads the input files, as render and merge take them, and prints
// the loader's notes (skipped kinds, converted peers) on stderr.
func loadInput(files []string, stderr io.Writer) (*manifest.Objects, error) {
	objs, err := manifest.Load(files...)
	if err != nil {
		return nil, err
	}
	for _, n := range objs.Notes() {
		fmt.Fprintln(stderr, "note:", n)
	}
	return objs, nil
}

func printDiagnostics(w io.Writer, r translate.Result) {
	for _, od := range r.Objects {
		for _, p := range od.Problems {
			fmt.Fprintln(w, "error:", p.Message)
		}
		for _, p := range od.Warnings {
			fmt.Fprintln(w, "warning:", p.Message)
		}
	}
	for _, h := range r.Held {
		refs := make([]string, len(h.By))
		for i, ref := range h.By {
			refs[i] = ref.String()
		}
		fmt.Fprintf(w, "held: node %s keeps its last good configuration (not rendered) until these are fixed: %s\n", h.Node, strings.Join(refs, ", "))
	}
}
