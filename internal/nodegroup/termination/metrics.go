package termination

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of the pods of a node whose spot instance got an interruption
// notice.
const (
	outcomeLeft     = "left"
	outcomeStranded = "stranded"
)

var interruptedPods = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "kdp", Subsystem: "spot", Name: "interruption_pods_total",
	Help: "Pods on the nodes of spot instances that got an interruption notice, by node group and whether they left before the instance was reclaimed (left) or were still on it (stranded).",
}, []string{"nodegroup", "outcome"})

func init() {
	ctrlmetrics.Registry.MustRegister(interruptedPods)
}
