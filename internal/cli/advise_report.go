package cli

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/advise/cost"
	"github.com/kdp-project/kdp/internal/advise/manifest"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// adviseReport is kdp advise's answer as every output renders it; -o json
// prints it as it is. Names are camelCase; money is USD, rounded to the
// cent, in fields whose names end in Usd; a month is 730 hours.
type adviseReport struct {
	Region    string           `json:"region"`
	Prices    advisePrices     `json:"prices"`
	Workloads []adviseWorkload `json:"workloads"`
	Summary   adviseSummary    `json:"summary"`
	// Rules are the rules the workloads' reasons cite, with their sources.
	Rules   []adviseRule    `json:"rules"`
	Skipped []adviseSkipped `json:"skipped"`
}

type advisePrices struct {
	Fargate   adviseFargatePrices `json:"fargate"`
	EC2       adviseSource        `json:"ec2"`
	Spot      string              `json:"spot"`
	Month     string              `json:"month"`
	Discounts adviseDiscounts     `json:"discounts"`
	Note      string              `json:"note"`
}

type adviseFargatePrices struct {
	adviseSource
	VCPUHourUsd float64 `json:"vcpuHourUsd"`
	GBHourUsd   float64 `json:"gbHourUsd"`
}

type adviseSource struct {
	Source string `json:"source"`
	AsOf   string `json:"asOf"`
	Region string `json:"region"`
}

// adviseDiscounts are fractions off on-demand prices.
type adviseDiscounts struct {
	FargateSavingsPlan float64 `json:"fargateSavingsPlan"`
	EC2SavingsPlan     float64 `json:"ec2SavingsPlan"`
	ReservedInstances  float64 `json:"reservedInstances"`
}

type adviseWorkload struct {
	Source    manifest.Source `json:"source"`
	Kind      string          `json:"kind"`
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	// Replicas is absent for a DaemonSet, which runs on every node.
	Replicas       *int32               `json:"replicas,omitempty"`
	Options        []adviseOption       `json:"options"`
	Recommendation adviseRecommendation `json:"recommendation"`
}

type adviseOption struct {
	Option   string         `json:"option"`
	Feasible bool           `json:"feasible"`
	Reasons  []adviseReason `json:"reasons,omitempty"`
	// MonthlyUsd is on demand, absent where there is no cost of its own.
	MonthlyUsd *float64 `json:"monthlyUsd,omitempty"`
	// FargateSize is each pod's Fargate size, as EKS's
	// CapacityProvisioned annotation gives it; Pods how many.
	FargateSize string `json:"fargateSize,omitempty"`
	Pods        int64  `json:"pods,omitempty"`
	// InstanceType and Nodes are the cheapest EC2 packing of its pods.
	InstanceType string `json:"instanceType,omitempty"`
	Nodes        int64  `json:"nodes,omitempty"`
	Note         string `json:"note,omitempty"`
}

type adviseReason struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type adviseRecommendation struct {
	Option string        `json:"option"`
	Why    string        `json:"why"`
	Levers []adviseLever `json:"levers"`
}

type adviseLever struct {
	Name string `json:"name"`
	Why  string `json:"why"`
	// MonthlyUsd is the workload's cost with the lever; absent for a
	// DaemonSet, whose cost is its nodes'.
	MonthlyUsd *float64 `json:"monthlyUsd,omitempty"`
}

type adviseSummary struct {
	Mix    advisePlan   `json:"mix"`
	Single []advisePlan `json:"single"`
}

type advisePlan struct {
	Name              string            `json:"name"`
	MonthlyUsd        float64           `json:"monthlyUsd"`
	WithLeversUsd     float64           `json:"withLeversUsd"`
	FargateMonthlyUsd float64           `json:"fargateMonthlyUsd"`
	FargateWorkloads  []string          `json:"fargateWorkloads"`
	Pools             []advisePool      `json:"pools"`
	CannotRun         []adviseCannotRun `json:"cannotRun"`
}

type advisePool struct {
	Option        string   `json:"option"`
	GPU           bool     `json:"gpu"`
	Spot          bool     `json:"spot"`
	Graviton      bool     `json:"graviton"`
	InstanceType  string   `json:"instanceType"`
	Nodes         int64    `json:"nodes"`
	MonthlyUsd    float64  `json:"monthlyUsd"`
	WithLeversUsd float64  `json:"withLeversUsd"`
	Workloads     []string `json:"workloads"`
}

type adviseCannotRun struct {
	Workload string `json:"workload"`
	Why      string `json:"why"`
}

type adviseRule struct {
	Rule   string `json:"rule"`
	Source string `json:"source"`
}

type adviseSkipped struct {
	manifest.Source
	Error string `json:"error"`
}

// ec2PriceSource is where the catalogue's on-demand EC2 prices come from,
// as its data file (internal/cloud/sim/catalog/data/instance-types.yaml)
// records it in a comment: the catalogue keeps no source for them as data.
var ec2PriceSource = adviseSource{Source: "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux)", AsOf: "2026-11", Region: "us-east-1"}

func usd(x float64) float64 { return math.Round(x*100) / 100 }

func usdPtr(x float64) *float64 { v := usd(x); return &v }

func newAdviseReport(r advise.Report, cat *catalog.Catalog, problems []manifest.Problem) *adviseReport {
	fp := cat.FargatePrices()
	d := cost.DefaultDiscounts
	out := &adviseReport{
		Region: cat.Region,
		Prices: advisePrices{
			Fargate: adviseFargatePrices{adviseSource: adviseSource{Source: fp.Source, AsOf: fp.AsOf, Region: fp.Region},
				VCPUHourUsd: fp.VCPUPerHour, GBHourUsd: fp.GBPerHour},
			EC2:       ec2PriceSource,
			Spot:      "simulated: the simulated cloud's stable 60–75% off on-demand, by type and zone, averaged over the region's zones",
			Month:     fmt.Sprintf("%dh", cost.HoursPerMonth),
			Discounts: adviseDiscounts{FargateSavingsPlan: d.FargateSavingsPlan, EC2SavingsPlan: d.EC2SavingsPlan, ReservedInstances: d.ReservedInstance},
			Note: fmt.Sprintf("the catalogue has one price set, %s's, for every region: %s is priced at it; Linux, on demand, USD, before tax",
				fp.Region, cat.Region),
		},
		Workloads: []adviseWorkload{},
		Rules:     []adviseRule{},
		Skipped:   []adviseSkipped{},
	}
	rules := map[advise.Rule]bool{}
	for _, a := range r.Advice {
		out.Workloads = append(out.Workloads, workloadView(&a, rules))
	}
	for rule := range rules {
		out.Rules = append(out.Rules, adviseRule{Rule: string(rule), Source: rule.Source()})
	}
	slices.SortFunc(out.Rules, func(a, b adviseRule) int { return cmp.Compare(a.Rule, b.Rule) })
	out.Summary.Mix = planView(r.Summary.Mix)
	for _, p := range r.Summary.Single {
		out.Summary.Single = append(out.Summary.Single, planView(p))
	}
	for _, p := range problems {
		out.Skipped = append(out.Skipped, adviseSkipped{Source: p.Source, Error: p.Err.Error()})
	}
	return out
}

func workloadView(a *advise.Advice, rules map[advise.Rule]bool) adviseWorkload {
	w := a.Workload
	v := adviseWorkload{Source: manifest.Source{File: w.Source.File, Line: w.Source.Line}, Kind: string(w.Kind), Namespace: w.Namespace, Name: w.Name}
	if w.Kind != advise.DaemonSet {
		n := w.Replicas
		v.Replicas = &n
	}
	for _, c := range a.Costs {
		o := adviseOption{Option: string(c.Option), Feasible: c.Feasible, Note: c.Note}
		for _, r := range a.Placement.Why(c.Option) {
			o.Reasons = append(o.Reasons, adviseReason{Rule: string(r.Rule), Field: r.Field, Message: r.Message})
			rules[r.Rule] = true
		}
		if c.Feasible {
			switch {
			case c.Fargate != nil:
				o.MonthlyUsd = usdPtr(c.Monthly)
				o.FargateSize, o.Pods = c.Fargate.Size.CapacityProvisioned(), c.Fargate.Pods
			case c.EC2 != nil:
				o.MonthlyUsd = usdPtr(c.Monthly)
				o.InstanceType, o.Nodes = c.EC2.Type.Name, c.EC2.Nodes
			}
		}
		v.Options = append(v.Options, o)
	}
	rec := a.Recommendation
	v.Recommendation = adviseRecommendation{Option: string(rec.Option), Why: rec.Why, Levers: []adviseLever{}}
	for _, l := range rec.Levers {
		lv := adviseLever{Name: string(l.Name), Why: l.Why}
		if w.Kind != advise.DaemonSet {
			lv.MonthlyUsd = usdPtr(l.Monthly)
		}
		v.Recommendation.Levers = append(v.Recommendation.Levers, lv)
	}
	return v
}

func planView(p advise.Plan) advisePlan {
	v := advisePlan{Name: p.Name, MonthlyUsd: usd(p.Monthly), WithLeversUsd: usd(p.WithLevers), FargateMonthlyUsd: usd(p.Fargate),
		FargateWorkloads: []string{}, Pools: []advisePool{}, CannotRun: []adviseCannotRun{}}
	for id, o := range p.On {
		if o == advise.Fargate {
			v.FargateWorkloads = append(v.FargateWorkloads, id)
		}
	}
	slices.Sort(v.FargateWorkloads)
	for _, pool := range p.Pools {
		v.Pools = append(v.Pools, advisePool{Option: string(pool.Option), GPU: pool.GPU, Spot: pool.Spot, Graviton: pool.Graviton,
			InstanceType: pool.Cost.Type.Name, Nodes: pool.Cost.Nodes, MonthlyUsd: usd(pool.Cost.Monthly), WithLeversUsd: usd(pool.WithLevers),
			Workloads: slices.Clone(pool.Workloads)})
	}
	for _, i := range p.Infeasible {
		v.CannotRun = append(v.CannotRun, adviseCannotRun{Workload: i.Workload, Why: i.Why})
	}
	return v
}
