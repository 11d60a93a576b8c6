package sim

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kdp-project/kdp/internal/cloud"
)

// metrics are the cloud's Prometheus metrics, served on kdp's /metrics.
type metrics struct {
	instances    *prometheus.GaugeVec
	groups       prometheus.Gauge
	launches     *prometheus.CounterVec
	terminations *prometheus.CounterVec
	events       *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	batchWrites  prometheus.Histogram
	requests     prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		instances: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kdp_sim_instances",
			Help: "Instances of the simulated cloud, by state."}, []string{"state"}),
		groups: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kdp_sim_groups",
			Help: "Auto Scaling groups of the simulated cloud."}),
		launches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kdp_sim_launches_total",
			Help: "Instances launched, by lifecycle (on-demand, spot)."}, []string{"lifecycle"}),
		terminations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kdp_sim_terminations_total",
			Help: "Instances terminated, by state reason."}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kdp_sim_events_total",
			Help: "Events published, by detail type."}, []string{"detail_type"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kdp_sim_batch_seconds",
			Help:    "Time to apply and write one batch of the cloud's loop, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		batchWrites: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kdp_sim_batch_writes",
			Help: "Records written by one batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		requests: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kdp_sim_batch_requests",
			Help: "Requests answered by one batch (group commit).", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
	}
}

// Register adds the cloud's metrics to a registry (kdp's /metrics).
func (c *Cloud) Register(r prometheus.Registerer) error {
	m := c.metrics
	for _, col := range []prometheus.Collector{m.instances, m.groups, m.launches, m.terminations, m.events, m.batchSeconds, m.batchWrites, m.requests} {
		if err := r.Register(col); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) observeState(st *state) {
	counts := map[string]int{cloud.StatePending: 0, cloud.StateRunning: 0, cloud.StateShuttingDown: 0, cloud.StateTerminated: 0}
	for _, i := range st.instances {
		counts[i.State]++
	}
	for s, n := range counts {
		m.instances.WithLabelValues(s).Set(float64(n))
	}
	m.groups.Set(float64(len(st.groups)))
}

func (m *metrics) observeBatch(requests, writes int, took time.Duration) {
	if writes == 0 && requests == 0 {
		return
	}
	m.batchSeconds.Observe(took.Seconds())
	m.batchWrites.Observe(float64(writes))
	m.requests.Observe(float64(requests))
}
