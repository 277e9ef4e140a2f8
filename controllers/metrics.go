package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Reconcile counts and durations per controller are controller-runtime's own
// controller_runtime_reconcile_total and controller_runtime_reconcile_time_seconds
// (controller="frrconfiguration" and "frrgen-cluster"), served from the same
// registry; the metrics below are frrgen's.
var (
	buildDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "frrgen_translate_build_duration_seconds",
		Help:    "Time taken by one translation of the whole cluster (one per input change, not per node).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	})
	writesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frrgen_writes_total",
		Help: "Objects written by frrgen, by kind (FRRConfiguration, Secret, Service: its frrgen.io/Announced condition, ServiceBGPStatus) and verb (create, update, delete, patch).",
	}, []string{"kind", "verb"})
	writeErrorsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frrgen_write_errors_total",
		Help: "Writes of frrgen's that the apiserver refused or that failed, by kind and verb (the object is retried with backoff).",
	}, []string{"kind", "verb"})
	conflictsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "frrgen_conflicts_total",
		Help: "Times a node's desired FRRConfiguration was found to clash with another FRRConfiguration (counted when the clash appears or changes).",
	})
	staleConfig = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_config_stale",
		Help: "1 when the node keeps an older FRRConfiguration: invalid input could change it, it would clash with another FRRConfiguration, or writing it failed; else 0.",
	}, []string{"node"})
	objectsPerNode = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_node_objects",
		Help: "FRRConfigurations frrgen wants for the node: 1, or its shards when the configuration is larger than --max-object-bytes.",
	}, []string{"node"})
	bytesPerNode = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_node_bytes",
		Help: "JSON size in bytes of the FRRConfigurations frrgen wants for the node, all of its objects together.",
	}, []string{"node"})
	prefixesPerNode = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_prefixes",
		Help: "Prefixes in the FRRConfiguration frrgen wrote for the node (routers' prefixes, all VRFs).",
	}, []string{"node"})
)

func init() {
	metrics.Registry.MustRegister(buildDuration, writesTotal, writeErrorsTotal, conflictsTotal, staleConfig, prefixesPerNode, objectsPerNode, bytesPerNode)
	// Exported from the start at 0, so that an alert on their increase
	// fires on the first failure.
	for _, kind := range []string{kindFRRConfiguration, kindSecret} {
		for _, verb := range []string{verbCreate, verbUpdate, verbDelete} {
			writeErrorsTotal.WithLabelValues(kind, verb)
		}
	}
}

// countWrite records the outcome of one write (err from the client) and
// returns err.
func countWrite(kind, verb string, err error) error {
	if err != nil {
		writeErrorsTotal.WithLabelValues(kind, verb).Inc()
		return err
	}
	writesTotal.WithLabelValues(kind, verb).Inc()
	return nil
}

const (
	kindFRRConfiguration = "FRRConfiguration"
	kindSecret           = "Secret"
	verbCreate           = "create"
	verbUpdate           = "update"
	verbDelete           = "delete"
	verbPatch            = "patch"
)
