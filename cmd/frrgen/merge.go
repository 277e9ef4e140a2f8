package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"github.com/spf13/cobra"
	yamlv3 "gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

func init() { subcommands = append(subcommands, newMergeCommand) }

// exitConflict is the exit status of a merge conflict, kept apart from the
// status 1 of unreadable input or bad flags.
const exitConflict = 2

type mergeFlags struct {
	files           []string
	node            string
	nodeLabels      string
	output          string
	frrk8sNamespace string
}

func newMergeCommand() *cobra.Command {
	f := &mergeFlags{}
	cmd := &cobra.Command{
		Use:   "merge -f FILE|DIR ... --node NAME",
		Short: "Print a node's effective frr-k8s configuration, merged from FRRConfigurations in YAML files",
		Long: `merge reads FRRConfigurations (and optionally Nodes and Secrets) from YAML files
and merges those that select the node as frr-k8s v0.0.21 would, printing the
effective configuration: routers per VRF, neighbors with their session fields,
advertised prefixes, local preferences, communities, receive filters, BFD
profiles and raw config. Passwords are never printed.

Like the frr-k8s daemon, it reads only the FRRConfigurations and Secrets of
--frrk8s-namespace (objects without a namespace belong to it); others are
reported on standard error and ignored.

The node's labels are kubernetes.io/hostname=NAME, then those of the Node
named NAME if the input has one, then --node-labels.

Exit status: 0 merged (warnings, if any, on standard error); 2 the
configurations conflict or one is invalid (the reason on standard error);
1 bad flags or unreadable input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMerge(f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.files, "filename", "f", nil, "YAML file or directory (recursive) to read; repeatable; - for standard input")
	fl.StringVar(&f.node, "node", "", "name of the node")
	fl.StringVar(&f.nodeLabels, "node-labels", "", "labels of the node, k=v,k2=v2, added to or replacing those of the Node in the input")
	fl.StringVarP(&f.output, "output", "o", "yaml", "output format: yaml or json")
	fl.StringVar(&f.frrk8sNamespace, "frrk8s-namespace", "frr-k8s-system", "namespace frr-k8s reads FRRConfigurations and Secrets from")
	_ = cmd.MarkFlagRequired("filename")
	_ = cmd.MarkFlagRequired("node")
	return cmd
}

func runMerge(f *mergeFlags, stdout, stderr io.Writer) error {
	if f.output != "yaml" && f.output != "json" {
		return &exitError{code: 1, err: fmt.Errorf("--output must be yaml or json, not %q", f.output)}
	}
	extraLabels, err := labels.ConvertSelectorToLabelsMap(f.nodeLabels)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("--node-labels: %w", err)}
	}
	objs, err := loadInput(f.files, stderr)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	objs.DefaultNamespaces(f.frrk8sNamespace, f.frrk8sNamespace)

	nodeLabels := map[string]string{"kubernetes.io/hostname": f.node}
	for _, n := range objs.Nodes {
		if n.Name == f.node {
			maps.Copy(nodeLabels, n.Labels)
		}
	}
	maps.Copy(nodeLabels, extraLabels)

	configs := inNamespace(objs.FRRConfigurations, f.frrk8sNamespace, stderr)
	effective, warnings, conflict := merge.ForNode(configs, nodeLabels, objs.Secrets)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if conflict != nil {
		return &exitError{code: exitConflict, err: fmt.Errorf("node %s: %s", f.node, conflict.Message)}
	}
	return writeEffective(stdout, []nodeEffective{{Node: f.node, Effective: effective}}, f.output)
}

// inNamespace keeps the configs frr-k8s would read and says which it skips.
func inNamespace(configs []frrv1beta1.FRRConfiguration, namespace string, stderr io.Writer) []frrv1beta1.FRRConfiguration {
	var kept []frrv1beta1.FRRConfiguration
	for _, c := range configs {
		if c.Namespace != namespace {
			fmt.Fprintf(stderr, "warning: FRRConfiguration %s/%s is ignored: frr-k8s reads only namespace %s (its webhook still checks it)\n",
				c.Namespace, c.Name, namespace)
			continue
		}
		kept = append(kept, c)
	}
	return kept
}

// nodeEffective is one node's effective configuration as printed.
type nodeEffective struct {
	Node string `json:"node"`
	*merge.Effective
}

// writeEffective prints one YAML document per node, or a JSON list.
func writeEffective(w io.Writer, nodes []nodeEffective, format string) error {
	if format == "json" {
		out, err := json.MarshalIndent(nodes, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	for i, n := range nodes {
		out, err := yamlInFieldOrder(n)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// yamlInFieldOrder writes v as block YAML with keys in the order of its JSON
// encoding (struct field order) instead of sorted: JSON is YAML, and
// yaml.v3's node tree keeps the order it reads.
func yamlInFieldOrder(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	blockStyle(&doc)
	var out bytes.Buffer
	enc := yamlv3.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// blockStyle drops the flow and quoting styles the JSON input implied. The
// encoder still quotes strings that would read as numbers; strings with a
// colon stay quoted because YAML 1.1 readers (kubectl) take 65000:1 for a
// base-60 number.
func blockStyle(n *yamlv3.Node) {
	if n.Kind != yamlv3.ScalarNode || !strings.Contains(n.Value, ":") {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// passwordMirrors are the copies of secrets (those of the input namespace)
// that frrgen writes into the frr-k8s namespace for result's peers.
func passwordMirrors(secrets []corev1.Secret, result translate.Result, opts translate.Options) []corev1.Secret {
	var out []corev1.Secret
	for _, m := range result.PasswordSecrets {
		for _, s := range secrets {
			if s.Namespace == opts.Namespace && s.Name == m.SourceName {
				mirror := *s.DeepCopy()
				mirror.Namespace, mirror.Name = opts.FRRK8sNamespace, m.Name
				out = append(out, mirror)
			}
		}
	}
	return out
}

// Offline ownership is how the offline tools (render --effective, explain)
// tell ours from users' objects without the installation's key: an input
// object is taken for ours (a dump of the cluster, say) only when it carries
// a proof, which the controller would verify and they cannot, and has a name
// frrgen gives: a node's configuration (or one of its shards) named for the
// node it is annotated with, a password mirror the translation asks for.
// Every other input object, labelled as ours or not, is a user's.

func configOwnedOffline(c *frrv1beta1.FRRConfiguration, namePrefix string) bool {
	_, proven := c.Annotations[ownership.AnnotationProof]
	node := c.Annotations[translate.AnnotationNode]
	name := translate.ConfigName(namePrefix, node)
	return proven && node != "" && (c.Name == name || c.Annotations[layout.AnnotationShardOf] == name)
}

func secretOwnedOffline(s *corev1.Secret, mirrorNames map[string]bool) bool {
	_, proven := s.Annotations[ownership.AnnotationProof]
	return proven && mirrorNames[s.Name]
}

// offlinePlanInputs splits the input's FRRConfigurations into ours as
// stored (of the frr-k8s namespace) and the users', and returns the Secrets
// frr-k8s will read once the mirrors are written.
func offlinePlanInputs(configs []frrv1beta1.FRRConfiguration, secrets []corev1.Secret, result translate.Result,
	opts translate.Options) (stored, users []frrv1beta1.FRRConfiguration, afterMirroring []corev1.Secret) {
	mirrorNames := map[string]bool{}
	for _, m := range result.PasswordSecrets {
		mirrorNames[m.Name] = true
	}
	for _, c := range configs {
		if c.Namespace == opts.FRRK8sNamespace && configOwnedOffline(&c, opts.NamePrefix) {
			stored = append(stored, c)
		} else {
			users = append(users, c)
		}
	}
	var existing []corev1.Secret
	for _, s := range secrets {
		if s.Namespace == opts.FRRK8sNamespace {
			existing = append(existing, s)
		}
	}
	isOurs := func(s *corev1.Secret) bool { return secretOwnedOffline(s, mirrorNames) }
	return stored, users, nodeplan.SecretsAfterMirroring(existing, passwordMirrors(secrets, result, opts), isOurs)
}

// writeEffectiveConfigs is `frrgen render --effective`: for each generated
// config, the node plan's verdict and effective configuration, as the
// controller would decide them, with the user FRRConfigurations and Secrets
// of the input. Nodes that merge are printed; every conflict goes to stderr
// and makes the exit status 2.
func writeEffectiveConfigs(stdout, stderr io.Writer, generated []frrv1beta1.FRRConfiguration, result translate.Result,
	objs *manifest.Objects, opts translate.Options, format string) error {
	stored, users, secrets := offlinePlanInputs(inNamespace(objs.FRRConfigurations, opts.FRRK8sNamespace, stderr), objs.Secrets, result, opts)
	var printed []nodeEffective
	conflicts := 0
	for _, ours := range generated {
		node := ours.Annotations[translate.AnnotationNode]
		nodeLabels := map[string]string{"kubernetes.io/hostname": node}
		for _, n := range objs.Nodes {
			if n.Name == node {
				maps.Copy(nodeLabels, n.Labels)
			}
		}
		plan := nodeplan.Decide(nodeplan.Input{Node: node, NodeLabels: nodeLabels, Desired: []frrv1beta1.FRRConfiguration{ours},
			Stored: storedFor(stored, node), Others: users, Secrets: secrets, WantEffective: true})
		for _, w := range plan.Warnings {
			fmt.Fprintf(stderr, "warning: node %s: %s\n", node, w)
		}
		if plan.Conflict != nil {
			fmt.Fprintf(stderr, "error: node %s: %s\n", node, plan.Conflict.Message)
			conflicts++
			continue
		}
		printed = append(printed, nodeEffective{Node: node, Effective: plan.Effective})
	}
	if err := writeEffective(stdout, printed, format); err != nil {
		return err
	}
	if conflicts > 0 {
		return &exitError{code: exitConflict, err: fmt.Errorf("%d node(s) have conflicting FRRConfigurations", conflicts)}
	}
	return nil
}

// storedFor keeps the configurations of ours for node.
func storedFor(stored []frrv1beta1.FRRConfiguration, node string) []frrv1beta1.FRRConfiguration {
	var out []frrv1beta1.FRRConfiguration
	for _, c := range stored {
		if c.Annotations[translate.AnnotationNode] == node {
			out = append(out, c)
		}
	}
	return out
}
