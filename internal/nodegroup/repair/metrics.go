package repair

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	repairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kdp", Subsystem: "nodegroup", Name: "repairs_total",
		Help: "Node repairs acted on, by action (Replace, Reboot, NoAction), condition (Ready, KernelReady, ..., NodeMissing) and result (started; no_action; not_supported, for Reboot, which kdp does not do yet).",
	}, []string{"action", "condition", "result"})
	held = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "kdp", Subsystem: "nodegroup", Name: "repairs_held",
		Help: "Nodes of each node group whose repair is due but held back by the unhealthy-node threshold.",
	}, []string{"nodegroup"})
)

func init() { ctrlmetrics.Registry.MustRegister(repairs, held) }
