package update

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var updates = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "kdp", Subsystem: "nodegroup", Name: "updates_total",
	Help: "Node group updates that ended, by type (ConfigUpdate, VersionUpdate) and result (Successful, Failed, Cancelled).",
}, []string{"type", "result"})

func init() { ctrlmetrics.Registry.MustRegister(updates) }
