package main

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/translate"
)

// translationFlags are the settings that change the translation. `frrgen
// controller` and `frrgen render` share them, so that render shows exactly
// what the controller would write with the same flags.
type translationFlags struct {
	namespace       string
	frrk8sNamespace string
	speakerSelector string
	lbClass         string
	ignoreExcludeLB bool
	namePrefix      string
}

func (t *translationFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&t.namespace, "namespace", "metallb-system", "namespace of the MetalLB objects")
	fl.StringVar(&t.frrk8sNamespace, "frrk8s-namespace", "frr-k8s-system", "namespace of the FRRConfigurations and mirrored password Secrets")
	fl.StringVar(&t.speakerSelector, "speaker-node-selector", "", "label selector of the speaker nodes (empty: all nodes)")
	fl.StringVar(&t.lbClass, "lb-class", "", "loadBalancerClass of the services to announce (empty: services without a class)")
	fl.BoolVar(&t.ignoreExcludeLB, "ignore-exclude-lb", false, "announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too")
	fl.StringVar(&t.namePrefix, "name-prefix", "frrgen-", "prefix of the FRRConfiguration names")
}

func (t *translationFlags) options() (translate.Options, error) {
	speakers, err := labels.Parse(t.speakerSelector)
	if err != nil {
		return translate.Options{}, fmt.Errorf("--speaker-node-selector: %w", err)
	}
	return translate.Options{
		Namespace:           t.namespace,
		FRRK8sNamespace:     t.frrk8sNamespace,
		LoadBalancerClass:   t.lbClass,
		IgnoreExcludeLB:     t.ignoreExcludeLB,
		SpeakerNodeSelector: speakers,
		NamePrefix:          t.namePrefix,
	}, nil
}

// layoutFlags choose the objects that carry the nodes' configurations
// (internal/layout). `frrgen render` and `frrgen controller` share them, so
// that render prints the objects the controller writes.
type layoutFlags struct {
	layout         string
	maxObjectBytes int
}

func (l *layoutFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&l.layout, "layout", string(layout.PerNode), "objects to write: per-node (one FRRConfiguration per node) or shared (one object per set of nodes with a common part, plus one per node for the rest; for big clusters)")
	fl.IntVar(&l.maxObjectBytes, "max-object-bytes", 0, fmt.Sprintf("largest FRRConfiguration to write, in bytes of JSON; a larger one is split into self-contained shards (default %d with --layout per-node, %d with shared)",
		layout.DefaultMaxObjectBytes, layout.DefaultSharedMaxObjectBytes))
}

func (l *layoutFlags) layoutOptions(namePrefix string) (layout.Options, error) {
	kind, err := layout.ParseKind(l.layout)
	if err != nil {
		return layout.Options{}, fmt.Errorf("--layout: %w", err)
	}
	if l.maxObjectBytes < 0 {
		return layout.Options{}, fmt.Errorf("--max-object-bytes must be positive, not %d", l.maxObjectBytes)
	}
	// 0 stays 0: layout.Compute then chooses the limit per object.
	return layout.Options{Kind: kind, MaxObjectBytes: l.maxObjectBytes, NamePrefix: namePrefix}, nil
}
