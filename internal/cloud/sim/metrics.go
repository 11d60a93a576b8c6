package sim

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kdp-project/kdp/internal/cloud"
)

// metrics are the cloud's Prometheus metrics, served on kdp's /metrics.
type metrics struct {
	launches     *prometheus.CounterVec
	terminations *prometheus.CounterVec
	events       *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	batchWrites  prometheus.Histogram
	requests     prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
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
	for _, col := range []prometheus.Collector{stateCollector{c}, m.launches, m.terminations, m.events, m.batchSeconds, m.batchWrites, m.requests} {
		if err := r.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// stateCollector counts the cloud's instances and groups when the metrics
// are scraped, not at every batch.
type stateCollector struct{ c *Cloud }

var (
	instancesDesc = prometheus.NewDesc("kdp_sim_instances", "Instances of the simulated cloud, by state.", []string{"state"}, nil)
	groupsDesc    = prometheus.NewDesc("kdp_sim_groups", "Auto Scaling groups of the simulated cloud.", nil, nil)
)

func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- instancesDesc
	ch <- groupsDesc
}

func (s stateCollector) Collect(ch chan<- prometheus.Metric) {
	s.c.mu.RLock()
	counts := map[string]int{cloud.StatePending: 0, cloud.StateRunning: 0, cloud.StateShuttingDown: 0, cloud.StateTerminated: 0}
	for _, i := range s.c.st.instances {
		counts[i.State]++
	}
	groups := len(s.c.st.groups)
	s.c.mu.RUnlock()
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(groups))
}

func (m *metrics) observeBatch(requests, writes int, took time.Duration) {
	if writes == 0 && requests == 0 {
		return
	}
	m.batchSeconds.Observe(took.Seconds())
	m.batchWrites.Observe(float64(writes))
	m.requests.Observe(float64(requests))
}
