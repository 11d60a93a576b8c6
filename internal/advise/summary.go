package advise

import (
	"errors"
	"maps"
	"slices"

	"github.com/kdp-project/kdp/internal/advise/cost"
	"github.com/kdp-project/kdp/internal/cloud"
)

// Pool is EC2 workloads packed together onto nodes of one type: one node
// group's worth. Workloads share a pool when they share an option, whether
// they need GPUs, whether they tolerate Spot and whether they may run on
// Graviton; every pool's nodes also run every DaemonSet's pod.
type Pool struct {
	Option   Option
	GPU      bool
	Spot     bool
	Graviton bool
	// Workloads are the IDs of the workloads in the pool.
	Workloads []string
	// Cost is the cheapest packing: amd64 types, and arm64 ones too for a
	// Graviton pool.
	Cost cost.EC2Cost
	// WithLevers is the monthly cost at the spot price for a Spot pool,
	// with a Compute Savings Plan otherwise.
	WithLevers float64
}

// Plan is a cost of the whole cluster: where each workload runs and what
// it comes to per month.
type Plan struct {
	// Name says how the plan was made: an Option for a single-option plan,
	// or the mix's strategy.
	Name string
	// On maps a workload's ID to the option it runs on; DaemonSets run on
	// every EC2 node and are not in it.
	On map[string]Option
	// Fargate is the Fargate pods' monthly cost, on demand; Pools are the
	// EC2 nodes.
	Fargate float64
	Pools   []Pool
	// Monthly is the whole, on demand; WithLevers with each part's levers
	// (Savings Plans; Spot for the pools that tolerate it).
	Monthly, WithLevers float64
	// Infeasible are the workloads the plan cannot run, each with why:
	// rules keep them off its option, or no instance type holds their pods.
	Infeasible []Infeasible
}

// Infeasible is a workload a plan leaves out, and why.
type Infeasible struct {
	Workload string
	Why      string
}

// Summary is the cluster as a whole.
type Summary struct {
	// Mix is the cheapest plan that keeps every rule (see Advise).
	Mix Plan
	// Single is the whole on each option alone, in Options' order.
	Single []Plan
}

// The strategies the mix is chosen from.
const (
	StrategyFargateFirst = "fargate-first"
	StrategyNodesFirst   = "nodes-first"
	StrategyCheapestEach = "cheapest-each"
)

// summary tries three assignments that all keep every rule and takes the
// cheapest on demand: Fargate wherever it can run a workload (the
// recommendation); nodes wherever they can; and each workload on Fargate
// only where its Fargate price is less than its share of the nodes-first
// pools (its pods' dominant share of each node's allocatable CPU, memory
// or pod slots).
func (e *engine) summary(advice []Advice) Summary {
	var s Summary
	for _, o := range Options {
		on := map[string]Option{}
		var out []Infeasible
		for i := range advice {
			a := &advice[i]
			switch {
			case a.Workload.Kind == DaemonSet && o != Fargate:
			case a.Placement.Can(o):
				on[a.Workload.ID()] = o
			default:
				out = append(out, Infeasible{Workload: a.Workload.ID(), Why: first(a.Placement.Why(o))})
			}
		}
		p := e.plan(string(o), advice, on)
		p.Infeasible = append(out, p.Infeasible...)
		s.Single = append(s.Single, p)
	}

	fargateFirst, nodesFirst := map[string]Option{}, map[string]Option{}
	for i := range advice {
		a := &advice[i]
		if a.Workload.Kind == DaemonSet {
			continue
		}
		id := a.Workload.ID()
		fargateFirst[id] = a.Recommendation.Option
		nodesFirst[id] = SelfManaged
		if a.Placement.Can(Managed) {
			nodesFirst[id] = Managed
		}
	}
	plans := []Plan{e.plan(StrategyFargateFirst, advice, fargateFirst), e.plan(StrategyNodesFirst, advice, nodesFirst)}

	nodes := plans[1]
	share := e.shares(advice, nodes)
	cheapest := map[string]Option{}
	for i := range advice {
		a := &advice[i]
		id := a.Workload.ID()
		if a.Workload.Kind == DaemonSet {
			continue
		}
		cheapest[id] = nodesFirst[id]
		if f := a.Cost(Fargate); f.Feasible {
			if s, ok := share[id]; !ok || f.Monthly < s {
				cheapest[id] = Fargate
			}
		}
	}
	plans = append(plans, e.plan(StrategyCheapestEach, advice, cheapest))
	s.Mix = plans[0]
	for _, p := range plans[1:] {
		if len(p.Infeasible) < len(s.Mix.Infeasible) || len(p.Infeasible) == len(s.Mix.Infeasible) && p.Monthly < s.Mix.Monthly {
			s.Mix = p
		}
	}
	return s
}

// poolKey is what sets a pool apart.
type poolKey struct {
	option              Option
	gpu, spot, graviton bool
}

// plan prices an assignment of workloads to options; on is not modified.
func (e *engine) plan(name string, advice []Advice, on map[string]Option) Plan {
	p := Plan{Name: name, On: maps.Clone(on)}
	pools := map[poolKey]*Pool{}
	var keys []poolKey
	groups := map[poolKey][]cost.Group{}
	for i := range advice {
		a := &advice[i]
		w := a.Workload
		o, ok := p.On[w.ID()]
		if !ok {
			continue
		}
		if o == Fargate {
			c := a.Cost(Fargate)
			p.Fargate += c.Fargate.Monthly
			p.WithLevers += c.Fargate.MonthlySavingsPlan
			continue
		}
		k := poolKey{option: o, gpu: e.requests[i].GPUs > 0, spot: w.TolerantOfInterruption(), graviton: w.GravitonAllowed()}
		if pools[k] == nil {
			pools[k] = &Pool{Option: o, GPU: k.gpu, Spot: k.spot, Graviton: k.graviton}
			keys = append(keys, k)
		}
		pools[k].Workloads = append(pools[k].Workloads, w.ID())
		groups[k] = append(groups[k], cost.Group{Name: w.ID(), Requests: e.requests[i], Count: w.pods()})
	}
	slices.SortFunc(keys, func(a, b poolKey) int {
		if c := slices.Index(Options, a.option) - slices.Index(Options, b.option); c != 0 {
			return c
		}
		return bits(a) - bits(b)
	})
	p.Monthly = p.Fargate
	for _, k := range keys {
		pool := pools[k]
		types := e.types(k.gpu, false)
		if k.graviton {
			types = append(slices.Clip(types), e.types(k.gpu, true)...)
		}
		g := groups[k]
		for {
			c, err := cost.CheapestEC2(g, e.daemons, types, e.in.Prices.Discounts)
			var nf *cost.NoFitError
			if errors.As(err, &nf) {
				drop := nf.Groups
				if nf.DaemonSets {
					drop = pool.Workloads
				}
				g = e.drop(&p, pool, g, drop, err.Error())
				if len(g) == 0 {
					break
				}
				continue
			}
			pool.Cost = c
			pool.WithLevers = c.SavingsPlan
			if k.spot {
				pool.WithLevers = c.Spot
			}
			p.Monthly += c.Monthly
			p.WithLevers += pool.WithLevers
			p.Pools = append(p.Pools, *pool)
			break
		}
	}
	return p
}

// drop takes the named groups out of a pool, into the plan's infeasible.
func (e *engine) drop(p *Plan, pool *Pool, groups []cost.Group, names []string, why string) []cost.Group {
	var kept []cost.Group
	pool.Workloads = pool.Workloads[:0]
	for _, g := range groups {
		if slices.Contains(names, g.Name) {
			p.Infeasible = append(p.Infeasible, Infeasible{Workload: g.Name, Why: why})
			delete(p.On, g.Name)
			continue
		}
		kept = append(kept, g)
		pool.Workloads = append(pool.Workloads, g.Name)
	}
	return kept
}

func bits(k poolKey) int {
	n := 0
	for i, b := range []bool{k.gpu, k.spot, k.graviton} {
		if b {
			n |= 1 << i
		}
	}
	return n
}

// shares are each EC2 workload's share of its pool's monthly cost in plan:
// its pods' dominant share (the largest of CPU, memory and pod slots, of
// each node's room after DaemonSets) of the pool's total.
func (e *engine) shares(advice []Advice, plan Plan) map[string]float64 {
	index := map[string]int{}
	for i := range advice {
		index[advice[i].Workload.ID()] = i
	}
	out := map[string]float64{}
	for _, pool := range plan.Pools {
		t := pool.Cost.Type
		weights := make([]float64, len(pool.Workloads))
		var total float64
		for j, id := range pool.Workloads {
			i := index[id]
			weights[j] = float64(advice[i].Workload.pods()) * dominant(e.requests[i], pool.Cost, t)
			total += weights[j]
		}
		for j, id := range pool.Workloads {
			if total > 0 {
				out[id] = pool.Cost.Monthly * weights[j] / total
			}
		}
	}
	return out
}

func dominant(r cost.Resources, c cost.EC2Cost, t cloud.InstanceType) float64 {
	room := c.Allocatable
	d := 1 / float64(max(1, t.MaxPods()))
	if cpu := room.MilliCPU - c.DaemonSets.MilliCPU; cpu > 0 {
		d = max(d, float64(r.MilliCPU)/float64(cpu))
	}
	if mem := room.MemoryMiB - c.DaemonSets.MemoryMiB; mem > 0 {
		d = max(d, float64(r.MemoryMiB)/float64(mem))
	}
	return d
}
