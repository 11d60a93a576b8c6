package scheduler

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
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

// The gauges are computed from the cache when scraped: what Fargate runs
// now, by profile.
var (
	podsDesc        = prometheus.NewDesc("kdp_fargate_pods", "Pods placed on Fargate (bound to their node, not yet deleted), by profile.", []string{"profile"}, nil)
	unsupportedDesc = prometheus.NewDesc("kdp_fargate_pods_unsupported", "Fargate pods Pending because Fargate cannot run them (or no size fits), by profile.", []string{"profile"}, nil)
	vcpuDesc        = prometheus.NewDesc("kdp_fargate_provisioned_vcpu", "vCPU provisioned for Fargate pods (their CapacityProvisioned), by profile.", []string{"profile"}, nil)
	memoryDesc      = prometheus.NewDesc("kdp_fargate_provisioned_memory_gb", "Memory in GB provisioned for Fargate pods (their CapacityProvisioned), by profile.", []string{"profile"}, nil)
)

// collector computes the gauges from the pods the manager's cache holds.
type collector struct{ reader atomic.Pointer[client.Reader] }

var pods = &collector{}

func init() { ctrlmetrics.Registry.MustRegister(pods) }

// CollectFrom makes the gauges read pods from r (the manager's cache).
func CollectFrom(r client.Reader) { pods.reader.Store(&r) }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{podsDesc, unsupportedDesc, vcpuDesc, memoryDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := c.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &corev1.PodList{}
	if err := (*r).List(ctx, list, client.HasLabels{eksv1.LabelFargateProfile}, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	type sums struct {
		pods, unsupported int
		milliCPU, memMiB  int64
	}
	by := map[string]*sums{}
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.SchedulerName != eksv1.FargateScheduler {
			continue
		}
		name := p.Labels[eksv1.LabelFargateProfile]
		s := by[name]
		if s == nil {
			s = &sums{}
			by[name] = s
		}
		if p.Spec.NodeName == "" {
			if unschedulable(p) {
				s.unsupported++
			}
			continue
		}
		s.pods++
		if size, err := sizing.Parse(p.Annotations[sizing.AnnotationCapacityProvisioned]); err == nil {
			s.milliCPU += size.MilliCPU
			s.memMiB += size.MemoryMiB
		}
	}
	for name, s := range by {
		ch <- prometheus.MustNewConstMetric(podsDesc, prometheus.GaugeValue, float64(s.pods), name)
		ch <- prometheus.MustNewConstMetric(unsupportedDesc, prometheus.GaugeValue, float64(s.unsupported), name)
		ch <- prometheus.MustNewConstMetric(vcpuDesc, prometheus.GaugeValue, float64(s.milliCPU)/1000, name)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(s.memMiB)/1024, name)
	}
}

// unschedulable reports whether the pod waits because the
// fargate-scheduler cannot place it (PodScheduled False, Unschedulable).
func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	return false
}
