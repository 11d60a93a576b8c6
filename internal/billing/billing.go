// Package billing prices what the running cluster's cloud runs: each
// instance at its type's on-demand price (or the zone's spot price, for
// spot instances), each Fargate micro-VM at its provisioned size (its
// CapacityProvisioned: vCPU-hours, GB-hours, and ephemeral storage above
// the 20 GB included), grouped by data plane (managed node groups, Fargate
// profiles, self-managed nodes) and group. It is pure: instances and
// prices in, a Bill out; kdp cost and kdp's metrics feed it.
//
// Accrued cost over a window follows AWS's billing: per second, with a
// one-minute minimum for an instance (EC2 Linux) and for a Fargate pod,
// counted from launch until the instance is terminated. It covers what
// the cloud still lists, which on EC2 (and kdp's simulated cloud) keeps a
// terminated instance for an hour.
package billing

import (
	"cmp"
	"slices"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
)

// HoursPerMonth is how AWS's monthly estimates count a month.
const HoursPerMonth = 730

// MinimumBilled is the least an instance or a Fargate pod is billed for.
const MinimumBilled = time.Minute

// DataPlane is where an instance belongs.
type DataPlane string

// The data planes.
const (
	Managed     DataPlane = "managed"
	Fargate     DataPlane = "fargate"
	SelfManaged DataPlane = "self-managed"
)

// Tags that say whose an instance is: a managed node group's instances
// carry their group's name (EKS's tag), a micro-VM its Fargate profile's.
const (
	tagNodegroupName  = "eks:nodegroup-name"
	tagFargateProfile = "eks.kdp.dev/fargate-profile"
)

// Prices are what instances cost: the catalogue's types (on-demand and
// spot prices per zone) and Fargate's rates.
type Prices struct {
	Types   map[string]cloud.InstanceType
	Fargate catalog.FargatePrices
}

// NewPrices indexes instance types.
func NewPrices(types []cloud.InstanceType, fargate catalog.FargatePrices) Prices {
	p := Prices{Types: make(map[string]cloud.InstanceType, len(types)), Fargate: fargate}
	for _, t := range types {
		p.Types[t.Name] = t
	}
	return p
}

// Line is the cost of one kind of instance of one group.
type Line struct {
	DataPlane DataPlane `json:"dataPlane"`
	// Group is the node group's, the Fargate profile's or the Auto Scaling
	// group's name ("" for standalone instances).
	Group string `json:"group"`
	// InstanceType is the instance type, or the micro-VM size as EKS
	// writes it (0.25vCPU 0.5GB) for Fargate.
	InstanceType string `json:"instanceType"`
	// CapacityType is ON_DEMAND or SPOT (Fargate's is always ON_DEMAND).
	CapacityType string `json:"capacityType"`
	// Running is how many run now.
	Running    int     `json:"running"`
	HourlyUSD  float64 `json:"hourlyUsd"`
	MonthlyUSD float64 `json:"monthlyUsd"`
	// AccruedUSD is what the line cost over the window (Bill.Since).
	AccruedUSD float64 `json:"accruedUsd"`
}

// Bill is the cluster's cost at one moment.
type Bill struct {
	At time.Time `json:"at"`
	// Since is the window of the accrued cost (0: none asked for).
	Since      time.Duration `json:"-"`
	Lines      []Line        `json:"lines"`
	HourlyUSD  float64       `json:"hourlyUsd"`
	MonthlyUSD float64       `json:"monthlyUsd"`
	AccruedUSD float64       `json:"accruedUsd"`
	// Unpriced are the instances whose type has no price in the catalogue.
	Unpriced []string `json:"unpriced,omitempty"`
}

// Classify says where an instance belongs, and to which group.
func Classify(i cloud.Instance) (DataPlane, string) {
	switch {
	case i.MicroVM != nil:
		return Fargate, i.Tags[tagFargateProfile]
	case i.Tags[tagNodegroupName] != "":
		return Managed, i.Tags[tagNodegroupName]
	}
	return SelfManaged, i.Group
}

// Rate is what an instance costs per hour, and whether its type has a
// price.
func (p Prices) Rate(i cloud.Instance) (float64, bool) {
	if vm := i.MicroVM; vm != nil {
		f := p.Fargate
		gb := float64(vm.MemoryMiB) / 1024
		extra := max(0, float64(vm.StorageGiB-f.IncludedEphemeralStorageGB))
		return float64(vm.MilliCPU)/1000*f.VCPUPerHour + gb*f.GBPerHour + extra*f.EphemeralStorageGBPerHour, true
	}
	t, ok := p.Types[i.Type]
	if !ok {
		return 0, false
	}
	if i.Lifecycle == cloud.Spot {
		if price, ok := t.SpotPrices[i.Zone]; ok {
			return price, true
		}
	}
	return t.OnDemandPrice, true
}

// running reports whether an instance is billed now.
func running(i cloud.Instance) bool {
	return i.State == cloud.StatePending || i.State == cloud.StateRunning || i.State == cloud.StateShuttingDown
}

// billed is how long of the window [from, now] an instance is billed for:
// from its launch (or the window's start) to its termination (or now),
// at least a minute if it was launched in the window.
func billed(i cloud.Instance, from, now time.Time) time.Duration {
	end := now
	if !running(i) && !i.StateTransitionTime.IsZero() {
		end = i.StateTransitionTime
	}
	start := i.LaunchTime
	if start.IsZero() || end.Before(from) {
		return 0
	}
	if start.Before(from) {
		start = from
	}
	d := end.Sub(start)
	if !i.LaunchTime.Before(from) {
		d = max(d, MinimumBilled) // launched in the window: at least a minute
	}
	return max(d, 0)
}

// SizeName is a micro-VM's size as EKS's CapacityProvisioned writes it.
func SizeName(vm cloud.MicroVM) string {
	return sizing.Result{MilliCPU: vm.MilliCPU, MemoryMiB: vm.MemoryMiB, EphemeralStorageGiB: vm.StorageGiB}.CapacityProvisioned()
}

// Compute bills the instances at now; since > 0 adds what they cost over
// the window before now.
func Compute(instances []cloud.Instance, p Prices, now time.Time, since time.Duration) Bill {
	type key struct {
		plane                   DataPlane
		group, typ, capacityTyp string
	}
	lines := map[key]*Line{}
	b := Bill{At: now, Since: since}
	for _, i := range instances {
		rate, ok := p.Rate(i)
		if !ok {
			b.Unpriced = append(b.Unpriced, i.ID+" ("+i.Type+")")
			continue
		}
		plane, group := Classify(i)
		k := key{plane, group, i.Type, "ON_DEMAND"}
		if i.MicroVM != nil {
			k.typ = SizeName(*i.MicroVM)
		} else if i.Lifecycle == cloud.Spot {
			k.capacityTyp = "SPOT"
		}
		l := lines[k]
		if l == nil {
			l = &Line{DataPlane: plane, Group: group, InstanceType: k.typ, CapacityType: k.capacityTyp}
			lines[k] = l
		}
		if running(i) {
			l.Running++
			l.HourlyUSD += rate
		}
		if since > 0 {
			l.AccruedUSD += rate * billed(i, now.Add(-since), now).Hours()
		}
	}
	for _, l := range lines {
		if l.Running == 0 && l.AccruedUSD == 0 {
			continue // gone before the window
		}
		l.MonthlyUSD = l.HourlyUSD * HoursPerMonth
		b.Lines = append(b.Lines, *l)
		b.HourlyUSD += l.HourlyUSD
		b.AccruedUSD += l.AccruedUSD
	}
	b.MonthlyUSD = b.HourlyUSD * HoursPerMonth
	slices.SortFunc(b.Lines, func(x, y Line) int {
		return cmp.Or(cmp.Compare(x.DataPlane, y.DataPlane), cmp.Compare(x.Group, y.Group),
			cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.CapacityType, y.CapacityType))
	})
	slices.Sort(b.Unpriced)
	return b
}
