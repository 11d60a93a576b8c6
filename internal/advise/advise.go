package advise

import (
	"fmt"

	"github.com/kdp-project/kdp/internal/advise/cost"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// Prices are what the advisor prices with.
type Prices struct {
	Fargate       catalog.FargatePrices
	InstanceTypes []cloud.InstanceType
	Discounts     cost.Discounts
}

// PricesFrom takes the catalogue's prices, with cost.DefaultDiscounts.
func PricesFrom(c *catalog.Catalog) Prices {
	return Prices{Fargate: c.FargatePrices(), InstanceTypes: c.InstanceTypes(), Discounts: cost.DefaultDiscounts}
}

// Input is everything the advisor judges.
type Input struct {
	Workloads      []Workload
	StorageClasses StorageClasses
	Prices         Prices
}

// LeverName is a way to pay less for the same capacity.
type LeverName string

const (
	ComputeSavingsPlan LeverName = "compute-savings-plan"
	ReservedInstances  LeverName = "reserved-instances"
	Spot               LeverName = "spot"
	Graviton           LeverName = "graviton"
)

// Lever is a cost lever that applies to a workload where it is
// recommended to run.
type Lever struct {
	Name LeverName
	// Why says in one line why it applies.
	Why string
	// Monthly is the workload's monthly cost with the lever; 0 for a
	// DaemonSet, whose cost is the nodes'.
	Monthly float64
}

// Recommendation is where a workload should run, and how to pay less there.
type Recommendation struct {
	Option Option
	Why    string
	Levers []Lever
}

// OptionCost is what a workload costs on one option, alone: on Fargate
// its pods' sizes; on EC2 the cheapest type's nodes for its pods and every
// DaemonSet's pod on each of them.
type OptionCost struct {
	Option   Option
	Feasible bool
	// Monthly is on demand, on amd64 types; 0 if infeasible or a DaemonSet.
	Monthly float64
	Fargate *cost.FargateCost
	EC2     *cost.EC2Cost
	// Graviton is the EC2 cost on arm64 types, where allowed.
	Graviton *cost.EC2Cost
	// Note explains a cost that is not there.
	Note string
}

// Advice is the advisor's answer for one workload.
type Advice struct {
	Workload       *Workload
	Placement      Placement
	Recommendation Recommendation
	Costs          []OptionCost
}

// Cost returns the cost on option o.
func (a *Advice) Cost(o Option) OptionCost {
	for _, c := range a.Costs {
		if c.Option == o {
			return c
		}
	}
	return OptionCost{Option: o}
}

// Report is the advisor's answer for all workloads.
type Report struct {
	Advice  []Advice
	Summary Summary
}

// Advise places, recommends and prices every workload, and sums them up.
func Advise(in Input) Report {
	e := newEngine(in)
	r := Report{Advice: make([]Advice, len(in.Workloads))}
	for i := range in.Workloads {
		r.Advice[i] = e.advise(i)
	}
	r.Summary = e.summary(r.Advice)
	return r
}

// engine holds what every workload's advice shares.
type engine struct {
	in       Input
	amd64    []cloud.InstanceType
	arm64    []cloud.InstanceType
	gpuAMD64 []cloud.InstanceType
	gpuARM64 []cloud.InstanceType
	// daemons are the DaemonSets' pods' requests, one per DaemonSet.
	daemons []cost.Resources
	// requests are each workload's pod's requests.
	requests []cost.Resources
}

func newEngine(in Input) *engine {
	t := in.Prices.InstanceTypes
	e := &engine{
		in:       in,
		amd64:    cost.Candidates(t, "amd64", false),
		arm64:    cost.Candidates(t, "arm64", false),
		gpuAMD64: cost.Candidates(t, "amd64", true),
		gpuARM64: cost.Candidates(t, "arm64", true),
		requests: make([]cost.Resources, len(in.Workloads)),
	}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		e.requests[i] = cost.PodRequests(podOf(w))
		if w.Kind == DaemonSet {
			e.daemons = append(e.daemons, e.requests[i])
		}
	}
	return e
}

// types are the candidate instance types for a workload's pods.
func (e *engine) types(gpu, arm bool) []cloud.InstanceType {
	switch {
	case gpu && arm:
		return e.gpuARM64
	case gpu:
		return e.gpuAMD64
	case arm:
		return e.arm64
	}
	return e.amd64
}

func (e *engine) advise(i int) Advice {
	w := &e.in.Workloads[i]
	a := Advice{Workload: w, Placement: Place(w, e.in.StorageClasses)}
	a.Costs = e.costs(i, &a.Placement)
	a.Recommendation = recommend(w, &a, e.in.Prices.Discounts)
	return a
}

func (e *engine) costs(i int, p *Placement) []OptionCost {
	w := &e.in.Workloads[i]
	out := make([]OptionCost, 0, len(Options))
	fargate := OptionCost{Option: Fargate, Feasible: p.Can(Fargate)}
	if fargate.Feasible {
		fc := cost.FargateOfSize(p.FargateSize, w.pods(), e.in.Prices.Fargate, e.in.Prices.Discounts)
		fargate.Fargate, fargate.Monthly = &fc, fc.Monthly
	}
	out = append(out, fargate)

	var ec2 OptionCost
	switch {
	case w.Kind == DaemonSet:
		ec2.Note = "a DaemonSet runs a pod on every EC2 node: its cost is in each node's (see the summary)"
	default:
		req := e.requests[i]
		groups := []cost.Group{{Name: w.ID(), Requests: req, Count: w.pods()}}
		c, err := cost.CheapestEC2(groups, e.daemons, e.types(req.GPUs > 0, false), e.in.Prices.Discounts)
		if err != nil {
			ec2.Note = err.Error()
			break
		}
		ec2.EC2, ec2.Monthly = &c, c.Monthly
		if w.GravitonAllowed() {
			if g, err := cost.CheapestEC2(groups, e.daemons, e.types(req.GPUs > 0, true), e.in.Prices.Discounts); err == nil {
				ec2.Graviton = &g
			}
		}
	}
	for _, o := range []Option{Managed, SelfManaged} {
		c := ec2
		c.Option, c.Feasible = o, p.Can(o) && (ec2.EC2 != nil || w.Kind == DaemonSet)
		out = append(out, c)
	}
	return out
}

// recommend picks Fargate where it can run the workload, managed node
// groups otherwise, self-managed nodes only where nothing else can, and the
// levers that apply there.
func recommend(w *Workload, a *Advice, d cost.Discounts) Recommendation {
	p := &a.Placement
	switch {
	case p.Can(Fargate):
		r := Recommendation{Option: Fargate, Why: "Fargate can run it, with no nodes to operate: Fargate first where it fits"}
		if c := a.Cost(Fargate).Fargate; c != nil {
			r.Levers = []Lever{{Name: ComputeSavingsPlan, Monthly: c.MonthlySavingsPlan,
				Why: fmt.Sprintf("a Compute Savings Plan covers Fargate: ~%.0f%% off steady use (Fargate Spot is not offered on EKS)", 100*d.FargateSavingsPlan)}}
		}
		return r
	case p.Can(Managed):
		r := Recommendation{Option: Managed, Why: "Fargate cannot run it (" + first(p.Why(Fargate)) + "); managed node groups can"}
		r.Levers = ec2Levers(w, a.Cost(Managed), d, false)
		return r
	default:
		r := Recommendation{Option: SelfManaged, Why: "only self-managed nodes can run it (" + first(p.Why(Managed)) + ")"}
		r.Levers = ec2Levers(w, a.Cost(SelfManaged), d, true)
		return r
	}
}

func first(rs []Reason) string {
	if len(rs) == 0 {
		return ""
	}
	return rs[0].String()
}

// ec2Levers are the levers of EC2 nodes: Savings Plans and Reserved
// Instances always, Spot where the workload tolerates interruption, and
// Graviton where its images are multi-arch.
func ec2Levers(w *Workload, c OptionCost, d cost.Discounts, selfManaged bool) []Lever {
	var sp, ri, spot float64
	if c.EC2 != nil {
		sp, ri, spot = c.EC2.SavingsPlan, c.EC2.ReservedInstances, c.EC2.Spot
	}
	out := []Lever{
		{Name: ComputeSavingsPlan, Monthly: sp, Why: fmt.Sprintf("a Compute Savings Plan for the steady minimum: ~%.0f%% off (assumed: 1 year, no upfront)", 100*d.EC2SavingsPlan)},
		{Name: ReservedInstances, Monthly: ri, Why: fmt.Sprintf("Reserved Instances for capacity kept a year in one type: ~%.0f%% off (assumed: 1 year, no upfront, standard)", 100*d.ReservedInstance)},
	}
	if w.TolerantOfInterruption() {
		why := fmt.Sprintf("%d replicas and a PodDisruptionBudget ride out Spot's 2-minute reclaim", w.Replicas)
		if w.Kind == Job || w.Kind == CronJob {
			why = "the Job retries (backoffLimit > 0), so a reclaimed node costs a retry"
		}
		if selfManaged {
			why += "; self-managed Spot needs the AWS Node Termination Handler"
		}
		out = append(out, Lever{Name: Spot, Monthly: spot, Why: why})
	}
	if w.GravitonAllowed() {
		var g float64
		if c.Graviton != nil {
			g = c.Graviton.Monthly
		}
		out = append(out, Lever{Name: Graviton, Monthly: g, Why: "its images are multi-arch: Graviton (arm64) types cost up to 20% less"})
	}
	return out
}
