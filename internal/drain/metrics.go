package drain

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	evictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kdp", Subsystem: "drain", Name: "evictions_total",
		Help: "Pod evictions a drain made, by why the node was drained and its node group.",
	}, []string{"reason", "nodegroup"})
	evictionsBlocked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kdp", Subsystem: "drain", Name: "evictions_blocked_total",
		Help: "Pod evictions refused (a PodDisruptionBudget allowed no disruption), by why the node was drained and its node group.",
	}, []string{"reason", "nodegroup"})
	duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "kdp", Subsystem: "drain", Name: "duration_seconds",
		Help:    "How long drains took, from the first step to the node empty (result drained), given up on (result timeout) or ended by a spot reclaim (result interrupted).",
		Buckets: prometheus.ExponentialBuckets(0.5, 2, 14), // 0.5 s to ~68 min
	}, []string{"reason", "nodegroup", "result"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(evictions, evictionsBlocked, duration)
}

// Results of a drain, for ObserveDrain.
const (
	ResultDrained = "drained"
	ResultTimeout = "timeout"
	// ResultForced is a drain a forced version update gave up on: the
	// node went with the pods budgets kept on it.
	ResultForced = "forced"
	// ResultInterrupted is a drain the cloud ended first: the spot
	// instance was reclaimed with pods still on its node.
	ResultInterrupted = "interrupted"
)

// ObserveDrain records how long a drain took and how it ended.
func ObserveDrain(req Request, result string, took time.Duration) {
	duration.WithLabelValues(req.Reason, req.Group, result).Observe(took.Seconds())
}
