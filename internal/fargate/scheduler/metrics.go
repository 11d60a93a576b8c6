package scheduler

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var podStart = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "kdp_fargate_pod_start_seconds",
	Help:    "From a Fargate pod's creation (as the fargate-scheduler first saw it) to Running.",
	Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300},
})

func init() { ctrlmetrics.Registry.MustRegister(podStart) }

// observeStart records a bound pod's create→Running latency, once.
func (s *Controller) observeStart(pod *corev1.Pod) {
	if pod.Status.Phase != corev1.PodRunning {
		return
	}
	at, ok := s.seen.LoadAndDelete(pod.UID)
	if !ok {
		return // seen Running already, or first seen after a restart
	}
	podStart.Observe(s.env.Clock.Since(at.(time.Time)).Seconds())
}
