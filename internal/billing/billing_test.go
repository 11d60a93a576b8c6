package billing

import (
	"math"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func prices() Prices {
	return NewPrices([]cloud.InstanceType{
		{Name: "m5.large", OnDemandPrice: 0.096, SpotPrices: map[string]float64{"us-east-1a": 0.03}},
		{Name: "t3.medium", OnDemandPrice: 0.0416},
	}, catalog.FargatePrices{VCPUPerHour: 0.04048, GBPerHour: 0.004445, EphemeralStorageGBPerHour: 0.000111, IncludedEphemeralStorageGB: 20})
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRate(t *testing.T) {
	p := prices()
	for _, tc := range []struct {
		name string
		i    cloud.Instance
		want float64
		ok   bool
	}{
		{"on demand", cloud.Instance{Type: "m5.large", Lifecycle: cloud.OnDemand}, 0.096, true},
		{"spot at the zone's price", cloud.Instance{Type: "m5.large", Lifecycle: cloud.Spot, Zone: "us-east-1a"}, 0.03, true},
		{"spot without a zone price: on demand", cloud.Instance{Type: "m5.large", Lifecycle: cloud.Spot, Zone: "us-east-1z"}, 0.096, true},
		{"the smallest Fargate size", cloud.Instance{Type: cloud.MicroVMType, MicroVM: &cloud.MicroVM{MilliCPU: 250, MemoryMiB: 512, StorageGiB: 20}},
			0.25*0.04048 + 0.5*0.004445, true},
		{"Fargate storage above the 20 GB included", cloud.Instance{Type: cloud.MicroVMType, MicroVM: &cloud.MicroVM{MilliCPU: 2000, MemoryMiB: 9216, StorageGiB: 50}},
			2*0.04048 + 9*0.004445 + 30*0.000111, true},
		{"a type the catalogue has no price for", cloud.Instance{Type: "x9.mega"}, 0, false},
	} {
		got, ok := p.Rate(tc.i)
		if ok != tc.ok || !near(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBilled(t *testing.T) {
	from := now.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		i    cloud.Instance
		want time.Duration
	}{
		{"running since before the window: the whole window", cloud.Instance{State: cloud.StateRunning, LaunchTime: now.Add(-3 * time.Hour)}, time.Hour},
		{"launched in the window, running", cloud.Instance{State: cloud.StateRunning, LaunchTime: now.Add(-10 * time.Minute)}, 10 * time.Minute},
		{"10 s of life: the one-minute minimum", cloud.Instance{State: cloud.StateTerminated, LaunchTime: now.Add(-30 * time.Minute),
			StateTransitionTime: now.Add(-30*time.Minute + 10*time.Second)}, time.Minute},
		{"terminated in the window, launched before it", cloud.Instance{State: cloud.StateTerminated, LaunchTime: now.Add(-2 * time.Hour),
			StateTransitionTime: now.Add(-15 * time.Minute)}, 45 * time.Minute},
		{"terminated before the window", cloud.Instance{State: cloud.StateTerminated, LaunchTime: now.Add(-3 * time.Hour),
			StateTransitionTime: now.Add(-2 * time.Hour)}, 0},
		{"shutting down is billed", cloud.Instance{State: cloud.StateShuttingDown, LaunchTime: now.Add(-20 * time.Minute),
			StateTransitionTime: now.Add(-time.Minute)}, 20 * time.Minute},
		{"just launched: a minute", cloud.Instance{State: cloud.StatePending, LaunchTime: now.Add(-2 * time.Second)}, time.Minute},
	} {
		if got := billed(tc.i, from, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCompute(t *testing.T) {
	ng := map[string]string{tagNodegroupName: "web"}
	instances := []cloud.Instance{
		{ID: "i-1", Type: "m5.large", Lifecycle: cloud.OnDemand, State: cloud.StateRunning, LaunchTime: now.Add(-2 * time.Hour), Tags: ng, Group: "eks-web-x"},
		{ID: "i-2", Type: "m5.large", Lifecycle: cloud.OnDemand, State: cloud.StateRunning, LaunchTime: now.Add(-30 * time.Minute), Tags: ng, Group: "eks-web-x"},
		{ID: "i-3", Type: "m5.large", Lifecycle: cloud.Spot, Zone: "us-east-1a", State: cloud.StateRunning, LaunchTime: now.Add(-2 * time.Hour), Tags: ng, Group: "eks-web-x"},
		{ID: "i-4", Type: "t3.medium", Lifecycle: cloud.OnDemand, State: cloud.StateTerminated, LaunchTime: now.Add(-90 * time.Minute),
			StateTransitionTime: now.Add(-30 * time.Minute), Group: "self"},
		{ID: "fg-1", Type: cloud.MicroVMType, MicroVM: &cloud.MicroVM{MilliCPU: 250, MemoryMiB: 512, StorageGiB: 20}, State: cloud.StateRunning,
			LaunchTime: now.Add(-5 * time.Second), Tags: map[string]string{tagFargateProfile: "apps"}},
		{ID: "i-9", Type: "x9.mega", State: cloud.StateRunning, LaunchTime: now.Add(-time.Hour)},
	}
	b := Compute(instances, prices(), now, time.Hour)
	type row struct {
		plane          DataPlane
		group, typ, ct string
		running        int
		hourly, accr   float64
	}
	fargate := 0.25*0.04048 + 0.5*0.004445
	want := []row{
		{Fargate, "apps", "0.25vCPU 0.5GB", "ON_DEMAND", 1, fargate, fargate / 60},
		{Managed, "web", "m5.large", "ON_DEMAND", 2, 0.192, 0.096 + 0.096*0.5},
		{Managed, "web", "m5.large", "SPOT", 1, 0.03, 0.03},
		{SelfManaged, "self", "t3.medium", "ON_DEMAND", 0, 0, 0.0416 * 0.5},
	}
	if len(b.Lines) != len(want) {
		t.Fatalf("lines %+v, want %d", b.Lines, len(want))
	}
	for i, w := range want {
		l := b.Lines[i]
		if l.DataPlane != w.plane || l.Group != w.group || l.InstanceType != w.typ || l.CapacityType != w.ct || l.Running != w.running ||
			!near(l.HourlyUSD, w.hourly) || !near(l.AccruedUSD, w.accr) || !near(l.MonthlyUSD, w.hourly*HoursPerMonth) {
			t.Errorf("line %d: %+v, want %+v", i, l, w)
		}
	}
	if !near(b.HourlyUSD, fargate+0.192+0.03) || !near(b.MonthlyUSD, b.HourlyUSD*HoursPerMonth) {
		t.Errorf("total %v/h, %v/month", b.HourlyUSD, b.MonthlyUSD)
	}
	if len(b.Unpriced) != 1 || b.Unpriced[0] != "i-9 (x9.mega)" {
		t.Errorf("unpriced %v", b.Unpriced)
	}
	if again := Compute(instances, prices(), now, 0); again.AccruedUSD != 0 || !near(again.HourlyUSD, b.HourlyUSD) || len(again.Lines) != 3 {
		t.Errorf("without a window: %+v", again)
	}
}
