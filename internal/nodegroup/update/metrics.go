package update

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kdp", Subsystem: "nodegroup", Name: "updates_total",
		Help: "Node group updates that ended, by type (ConfigUpdate, VersionUpdate) and result (Successful, Failed, Cancelled).",
	}, []string{"type", "result"})
	phases = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "kdp", Subsystem: "nodegroup", Name: "update_phase_duration_seconds",
		Help:    "How long the phases of version updates took (Setup, ScaleUp, Upgrade, ScaleDown), by update strategy.",
		Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
	}, []string{"phase", "strategy"})
	replaced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kdp", Subsystem: "nodegroup", Name: "update_nodes_replaced_total",
		Help: "Old nodes version updates terminated to replace them, by how their drain ended (drained, forced).",
	}, []string{"nodegroup", "drain"})
)

func init() { ctrlmetrics.Registry.MustRegister(updates, phases, replaced) }
