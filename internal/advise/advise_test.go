package advise

import (
	"math"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

func prices(t testing.TB) Prices {
	t.Helper()
	c, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	return PricesFrom(c)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func named(name string) func(*Workload) { return func(w *Workload) { w.Name = name } }

func replicas(n int32, pdb bool) func(*Workload) {
	return func(w *Workload) { w.Replicas, w.HasPDB = n, pdb }
}

var privileged = spec(func(s *corev1.PodSpec) {
	s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
})

func levers(t *testing.T, r Recommendation) []LeverName {
	t.Helper()
	var out []LeverName
	for _, l := range r.Levers {
		out = append(out, l.Name)
		if l.Why == "" {
			t.Errorf("lever %s has no why", l.Name)
		}
	}
	return out
}

func TestRecommendation(t *testing.T) {
	for _, c := range []struct {
		name       string
		w          Workload
		want       Option
		wantLevers []LeverName
	}{
		{"Fargate first where it fits", workload(Deployment), Fargate, []LeverName{ComputeSavingsPlan}},
		{"Fargate first even with a PDB and multi-arch images", workload(Deployment, replicas(3, true), func(w *Workload) { w.MultiArch = true }), Fargate, []LeverName{ComputeSavingsPlan}},
		{"a DaemonSet: managed nodes, no Spot", workload(DaemonSet), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances}},
		{"privileged, 3 replicas and a PDB: Spot", workload(Deployment, privileged, replicas(3, true)), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances, Spot}},
		{"privileged, 3 replicas, no PDB: no Spot", workload(Deployment, privileged, replicas(3, false)), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances}},
		{"privileged, 1 replica and a PDB: no Spot", workload(Deployment, privileged, replicas(1, true)), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances}},
		{"a GPU Job that retries: Spot", workload(Job, request("nvidia.com/gpu", "1"), func(w *Workload) { w.Retries = true }), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances, Spot}},
		{"a GPU Job that does not retry", workload(Job, request("nvidia.com/gpu", "1")), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances}},
		{"multi-arch by annotation: Graviton", workload(Deployment, privileged, annotate(AnnotationMultiArch, "true")), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances, Graviton}},
		{"multi-arch by flag: Graviton", workload(Deployment, privileged, func(w *Workload) { w.MultiArch = true }), Managed, []LeverName{ComputeSavingsPlan, ReservedInstances, Graviton}},
		{"Wavelength: self-managed", workload(Deployment, nodeSelector("topology.kubernetes.io/zone", "us-east-1-wl1-bos-wlz-1"), replicas(2, true)), SelfManaged, []LeverName{ComputeSavingsPlan, ReservedInstances, Spot}},
		{"an Outpost: self-managed", workload(Deployment, annotate(AnnotationPlacement, "outposts")), SelfManaged, []LeverName{ComputeSavingsPlan, ReservedInstances}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Advise(Input{Workloads: []Workload{c.w}, Prices: prices(t)})
			got := r.Advice[0].Recommendation
			if got.Option != c.want || got.Why == "" {
				t.Errorf("recommended %s (%q), want %s", got.Option, got.Why, c.want)
			}
			if l := levers(t, got); !slices.Equal(l, c.wantLevers) {
				t.Errorf("levers %v, want %v", l, c.wantLevers)
			}
		})
	}
}

func TestLeverCosts(t *testing.T) {
	p := prices(t)
	r := Advise(Input{Workloads: []Workload{
		workload(Deployment, named("web")),
		workload(Deployment, named("db"), privileged, replicas(2, true), func(w *Workload) { w.MultiArch = true }),
		workload(Deployment, named("wl"), nodeSelector("topology.kubernetes.io/zone", "us-east-1-wl1-bos-wlz-1"), replicas(2, true)),
	}, Prices: p})

	// web: 500m and 1Gi + 256Mi → 0.5 vCPU / 2 GB, 2 pods.
	web := r.Advice[0]
	f := web.Cost(Fargate)
	wantFargate := 2 * 730 * (0.5*0.04048 + 2*0.004445)
	if !f.Feasible || f.Fargate.Size.CapacityProvisioned() != "0.5vCPU 2GB" || !near(f.Monthly, wantFargate) {
		t.Errorf("web on Fargate: %+v, want 0.5vCPU 2GB at %v", f, wantFargate)
	}
	if l := web.Recommendation.Levers[0]; !near(l.Monthly, wantFargate/2) {
		t.Errorf("web's savings plan: %v, want %v", l.Monthly, wantFargate/2)
	}
	// On EC2 alone: two 500m/1Gi pods fit one c6i.large, the cheapest
	// amd64 type that holds them.
	m := web.Cost(Managed)
	if !m.Feasible || m.EC2.Type.Name != "c6i.large" || m.EC2.Nodes != 1 || !near(m.Monthly, 0.085*730) {
		t.Errorf("web on managed nodes: %+v, want 1 c6i.large", m)
	}

	db := r.Advice[1]
	if db.Cost(Fargate).Feasible {
		t.Error("a privileged workload is not feasible on Fargate")
	}
	byName := map[LeverName]Lever{}
	for _, l := range db.Recommendation.Levers {
		byName[l.Name] = l
	}
	ec2 := db.Cost(Managed).EC2
	if !near(byName[ComputeSavingsPlan].Monthly, ec2.Monthly*0.72) || !near(byName[ReservedInstances].Monthly, ec2.Monthly*0.63) || !near(byName[Spot].Monthly, ec2.Spot) {
		t.Errorf("db's levers %+v on %+v", byName, ec2)
	}
	// Graviton: the cheapest arm64 type for two 500m/1Gi pods is a
	// c7g.large (0.0725/h), less than the c6i.large.
	if g := db.Cost(Managed).Graviton; g == nil || g.Type.Name != "c7g.large" || !near(byName[Graviton].Monthly, 0.0725*730) {
		t.Errorf("db on Graviton: %+v, lever %+v", g, byName[Graviton])
	}

	wl := r.Advice[2]
	if wl.Cost(Managed).Feasible || !wl.Cost(SelfManaged).Feasible {
		t.Errorf("Wavelength: managed %v, self-managed %v", wl.Cost(Managed).Feasible, wl.Cost(SelfManaged).Feasible)
	}
}

func TestSummary(t *testing.T) {
	ds := workload(DaemonSet, named("logs"), request("cpu", "100m"), request("memory", "128Mi"))
	r := Advise(Input{Workloads: []Workload{
		workload(Deployment, named("web")),
		workload(Deployment, named("db"), privileged, replicas(4, false)),
		workload(Deployment, named("edge"), annotate(AnnotationPlacement, "outposts")),
		workload(Deployment, named("huge"), request("cpu", "64")),
		ds,
	}, Prices: prices(t)})
	s := r.Summary

	infeasible := func(p Plan) []string {
		var out []string
		for _, i := range p.Infeasible {
			out = append(out, i.Workload)
			if i.Why == "" {
				t.Errorf("%s: %s is infeasible without a why", p.Name, i.Workload)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		plan Plan
		name string
		want []string
	}{
		{s.Single[0], "fargate", []string{"DaemonSet default/logs", "Deployment default/db", "Deployment default/edge", "Deployment default/huge"}},
		{s.Single[1], "managed-node-group", []string{"Deployment default/edge", "Deployment default/huge"}},
		{s.Single[2], "self-managed", []string{"Deployment default/huge"}},
	} {
		if c.plan.Name != c.name {
			t.Errorf("plan %s, want %s", c.plan.Name, c.name)
		}
		if got := infeasible(c.plan); !slices.Equal(got, c.want) {
			t.Errorf("%s: infeasible %v, want %v", c.name, got, c.want)
		}
	}
	webFargate := r.Advice[0].Cost(Fargate).Monthly
	if !near(s.Single[0].Monthly, webFargate) || len(s.Single[0].Pools) != 0 {
		t.Errorf("all on Fargate: %v with %d pools, want web's %v", s.Single[0].Monthly, len(s.Single[0].Pools), webFargate)
	}
	// On managed nodes web and db share a pool (neither tolerates Spot nor
	// may run on Graviton), with the DaemonSet's pod on every node.
	if ps := s.Single[1].Pools; len(ps) != 1 || !slices.Equal(ps[0].Workloads, []string{"Deployment default/web", "Deployment default/db"}) ||
		ps[0].Cost.DaemonSets.MilliCPU != 100 || ps[0].Cost.DaemonSets.MemoryMiB != 128 {
		t.Errorf("managed pools %+v", s.Single[1].Pools)
	}

	mix := s.Mix
	if got := infeasible(mix); !slices.Equal(got, []string{"Deployment default/huge"}) {
		t.Errorf("mix: infeasible %v, want only huge", got)
	}
	if mix.On["Deployment default/edge"] != SelfManaged || mix.On["Deployment default/db"] != Managed {
		t.Errorf("mix: %v", mix.On)
	}
	if !slices.Contains([]string{StrategyFargateFirst, StrategyNodesFirst, StrategyCheapestEach}, mix.Name) {
		t.Errorf("mix strategy %q", mix.Name)
	}
	var sum, levers float64
	sum, levers = mix.Fargate, 0
	for _, p := range mix.Pools {
		sum += p.Cost.Monthly
		levers += p.WithLevers
		if !near(p.WithLevers, p.Cost.SavingsPlan) {
			t.Errorf("pool %v without Spot: with levers %v, want its savings plan %v", p.Workloads, p.WithLevers, p.Cost.SavingsPlan)
		}
	}
	if !near(mix.Monthly, sum) || mix.WithLevers >= mix.Monthly {
		t.Errorf("mix monthly %v, want the parts' %v; with levers %v", mix.Monthly, sum, mix.WithLevers)
	}
	// web alone: 2 Fargate pods cost less than its share of a node? Either
	// way the mix is no dearer than putting web on Fargate.
	e := newEngine(Input{Workloads: []Workload{
		workload(Deployment, named("web")), workload(Deployment, named("db"), privileged, replicas(4, false)),
		workload(Deployment, named("edge"), annotate(AnnotationPlacement, "outposts")), workload(Deployment, named("huge"), request("cpu", "64")), ds,
	}, Prices: prices(t)})
	for _, name := range []string{StrategyFargateFirst, StrategyNodesFirst} {
		on := map[string]Option{}
		for k, v := range mix.On {
			on[k] = v
		}
		if name == StrategyFargateFirst {
			on["Deployment default/web"] = Fargate
		} else {
			on["Deployment default/web"] = Managed
		}
		if p := e.plan(name, r.Advice, on); p.Monthly < mix.Monthly-1e-9 {
			t.Errorf("%s costs %v, less than the mix's %v", name, p.Monthly, mix.Monthly)
		}
	}
}

func TestSpotPool(t *testing.T) {
	r := Advise(Input{Workloads: []Workload{
		workload(Deployment, named("a"), privileged, replicas(3, true)),
		workload(Deployment, named("b"), privileged, replicas(3, false)),
	}, Prices: prices(t)})
	pools := r.Summary.Mix.Pools
	if len(pools) != 2 || pools[0].Spot || !pools[1].Spot {
		t.Fatalf("pools %+v, want one on-demand, one Spot", pools)
	}
	if !near(pools[1].WithLevers, pools[1].Cost.Spot) || pools[1].WithLevers >= pools[1].Cost.Monthly*0.5 {
		t.Errorf("Spot pool with levers %v, want its spot price %v", pools[1].WithLevers, pools[1].Cost.Spot)
	}
}

func TestPlanLeavesItsAssignmentAlone(t *testing.T) {
	in := Input{Workloads: []Workload{workload(Deployment, named("huge"), request("cpu", "64"))}, Prices: prices(t)}
	e := newEngine(in)
	advice := []Advice{e.advise(0)}
	on := map[string]Option{"Deployment default/huge": Managed}
	p := e.plan("test", advice, on)
	if len(p.Infeasible) != 1 || on["Deployment default/huge"] != Managed {
		t.Errorf("infeasible %v, assignment after %v", p.Infeasible, on)
	}
	if _, ok := p.On["Deployment default/huge"]; ok {
		t.Error("the plan still runs the workload it cannot place")
	}
}
