package billing

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Instances are every instance the cloud lists (terminated ones for as
// long as it keeps them).
func Instances(ctx context.Context, p cloud.Provider) ([]cloud.Instance, error) {
	var all []cloud.Instance
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		is, next, err := p.ListInstances(ctx, cloud.InstanceFilter{}, page)
		if err != nil {
			return nil, err
		}
		all = append(all, is...)
		if next == "" {
			return all, nil
		}
		page.NextToken = next
	}
}

// Collector exports the cluster's cost as kdp_cost_dollars_per_hour, per
// data plane and group, computed from the cloud's instances at each
// scrape.
type Collector struct {
	cloud  cloud.Provider
	prices Prices
	now    func() time.Time
	desc   *prometheus.Desc
}

// NewCollector returns a Collector over the cloud's instances.
func NewCollector(p cloud.Provider, prices Prices) *Collector {
	return &Collector{cloud: p, prices: prices, now: time.Now, desc: prometheus.NewDesc("kdp_cost_dollars_per_hour",
		"What the cluster's running instances cost per hour, in USD: managed node groups, Fargate profiles and self-managed nodes, at on-demand, spot and Fargate prices.",
		[]string{"data_plane", "group"}, nil)}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	instances, err := Instances(ctx, c.cloud)
	if err != nil {
		klog.ErrorS(err, "listing the cloud's instances for kdp_cost_dollars_per_hour")
		return
	}
	type key struct {
		plane DataPlane
		group string
	}
	sums := map[key]float64{}
	for _, l := range Compute(instances, c.prices, c.now(), 0).Lines {
		sums[key{l.DataPlane, l.Group}] += l.HourlyUSD
	}
	for k, v := range sums {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, string(k.plane), k.group)
	}
}
