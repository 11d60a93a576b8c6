package sim

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
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

func TestCapacity(t *testing.T) {
	c := NewCapacity()
	if !c.Take("m5.large", "us-east-1a") {
		t.Fatal("unlimited capacity refused")
	}
	c.Set("m5.large", "us-east-1a", 1)
	if !c.Take("m5.large", "us-east-1a") || c.Take("m5.large", "us-east-1a") {
		t.Fatal("a limit of 1 did not allow exactly one")
	}
	c.Return("m5.large", "us-east-1a")
	if !c.Take("m5.large", "us-east-1a") {
		t.Fatal("returned capacity not available")
	}
	if !c.Take("m5.large", "us-east-1b") {
		t.Fatal("a limit in one zone applied to another")
	}
	c.Set("m5.large", "us-east-1a", -1)
	if !c.Take("m5.large", "us-east-1a") {
		t.Fatal("removing the limit did not restore capacity")
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
