package lifecycle

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// collector reports the node groups by status and their nodes by state,
// read from the manager's cache when scraped (so they are never stale).
type collector struct {
	reader atomic.Pointer[client.Reader]
}

var (
	groupsDesc = prometheus.NewDesc("kdp_nodegroups", "Node groups, by status.", []string{"status"}, nil)
	nodesDesc  = prometheus.NewDesc("kdp_nodegroup_nodes", "Nodes of each node group, by state: ready, notready (registered, not Ready), joining (an instance with no node yet).", []string{"nodegroup", "state"}, nil)
	metrics    = &collector{}
)

func init() { ctrlmetrics.Registry.MustRegister(metrics) }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- groupsDesc
	ch <- nodesDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := c.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups := &eksv1.NodeGroupList{}
	if (*r).List(ctx, groups) != nil {
		return
	}
	byStatus := map[eksv1.Status]int{}
	for _, s := range []eksv1.Status{eksv1.StatusCreating, eksv1.StatusActive, eksv1.StatusUpdating, eksv1.StatusDeleting, eksv1.StatusCreateFailed, eksv1.StatusDeleteFailed, eksv1.StatusDegraded} {
		byStatus[s] = 0
	}
	for _, g := range groups.Items {
		s := g.Status.Status
		if s == "" {
			s = eksv1.StatusCreating
		}
		byStatus[s]++
		n := g.Status.Nodes
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(n.Ready), g.Name, "ready")
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(n.Total-n.Ready), g.Name, "notready")
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(max(n.Instances-n.Total, 0)), g.Name, "joining")
	}
	for s, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(n), string(s))
	}
}

// serveMetrics makes the collector read node groups through r.
func serveMetrics(r client.Reader) { metrics.reader.Store(&r) }
