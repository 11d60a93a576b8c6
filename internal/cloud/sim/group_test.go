package sim

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

func TestSurplusFollowsDefaultTerminationPolicy(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	inst := func(name, zone, state string, age time.Duration) *simv1.Instance {
		return &simv1.Instance{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))},
			Spec:       simv1.InstanceSpec{Zone: zone},
			Status:     simv1.InstanceStatus{State: state},
		}
	}
	for _, tc := range []struct {
		name   string
		active []*simv1.Instance
		n      int
		want   []string
	}{
		{"from the fullest zone", []*simv1.Instance{
			inst("a1", "a", "running", 3*time.Hour), inst("b1", "b", "running", time.Hour), inst("b2", "b", "running", 2*time.Hour),
		}, 1, []string{"b2"}},
		{"pending before running", []*simv1.Instance{
			inst("a1", "a", "running", 3*time.Hour), inst("a2", "a", "pending", time.Minute),
		}, 1, []string{"a2"}},
		{"oldest first, rebalancing as it goes", []*simv1.Instance{
			inst("a1", "a", "running", 4*time.Hour), inst("a2", "a", "running", 3*time.Hour), inst("b1", "b", "running", 5*time.Hour), inst("c1", "c", "running", time.Hour),
		}, 3, []string{"a1", "b1", "a2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := surplus(tc.active, tc.n)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d, want %v", len(got), tc.want)
			}
			for i := range got {
				if got[i].Name != tc.want[i] {
					t.Errorf("pick %d = %s, want %s", i, got[i].Name, tc.want[i])
				}
			}
		})
	}
}

func TestPoolAvailability(t *testing.T) {
	p := &pool{capacity: Capacity{"m5.large_us-east-1a": 1}, live: map[string]int{}, usedIPs: map[string]bool{}}
	if !p.available("m5.large", "us-east-1a") || !p.available("m5.large", "us-east-1b") || !p.available("c6i.large", "us-east-1a") {
		t.Fatal("capacity refused below its limit or where none is set")
	}
	p.add(&simv1.Instance{Spec: simv1.InstanceSpec{InstanceType: "m5.large", Zone: "us-east-1a", SubnetID: "s", PrivateIP: "10.0.0.4"}})
	if p.available("m5.large", "us-east-1a") {
		t.Fatal("a zone limited to 1 took a second instance")
	}
	ip, err := freeIP(cloud.Subnet{ID: "s", CIDR: "10.0.0.0/20"}, p.usedIPs)
	if err != nil || ip != "10.0.0.5" {
		t.Fatalf("free IP %s, %v; want 10.0.0.5", ip, err)
	}
}

func TestTimingJitterIsDeterministicAndBounded(t *testing.T) {
	timing, err := Profile("realistic", 1)
	if err != nil {
		t.Fatal(err)
	}
	a, b := timing.Jittered(timing.Boot, "i-1"), timing.Jittered(timing.Boot, "i-1")
	if a != b {
		t.Fatal("jitter differs for the same key")
	}
	lo, hi := time.Duration(float64(timing.Boot)*(1-timing.Jitter)), time.Duration(float64(timing.Boot)*(1+timing.Jitter))
	for _, key := range []string{"i-1", "i-2", "i-3", "x"} {
		if d := timing.Jittered(timing.Boot, key); d < lo || d > hi {
			t.Errorf("%s: %s outside [%s, %s]", key, d, lo, hi)
		}
	}
	scaled, _ := Profile("realistic", 120)
	if scaled.SpotNotice != time.Second || scaled.Heartbeat != 10*time.Second {
		t.Errorf("at 120×: spot notice %s (want 1s), heartbeat %s (want 10s, unscaled)", scaled.SpotNotice, scaled.Heartbeat)
	}
	if _, err := Profile("slow", 1); err == nil {
		t.Error("unknown profile accepted")
	}
}
