package sim

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
)

func TestFailsLaunchIsSeededAndKeepsItsRate(t *testing.T) {
	draws := func(seed int64, rate float64) []bool {
		out := make([]bool, 2000)
		for n := range out {
			out[n] = failsLaunch(seed, n, rate)
		}
		return out
	}
	count := func(bs []bool) int {
		c := 0
		for _, b := range bs {
			if b {
				c++
			}
		}
		return c
	}
	for _, tc := range []struct {
		rate     float64
		min, max int // of 2000
	}{
		{1, 2000, 2000},
		{0.5, 900, 1100},
		{0.1, 150, 250},
		{0.001, 0, 10},
	} {
		a, b := draws(7, tc.rate), draws(7, tc.rate)
		if n := count(a); n < tc.min || n > tc.max {
			t.Errorf("rate %g: %d of 2000 launches failed, want %d–%d", tc.rate, n, tc.min, tc.max)
		}
		for n := range a {
			if a[n] != b[n] {
				t.Fatalf("rate %g: launch %d fails in one draw and not in the other with the same seed", tc.rate, n)
			}
		}
	}
	// Another seed fails other launches.
	a, b, same := draws(7, 0.5), draws(8, 0.5), 0
	for n := range a {
		if a[n] == b[n] {
			same++
		}
	}
	if same > 1200 {
		t.Errorf("seeds 7 and 8 agree on %d of 2000 launches", same)
	}
}

func TestLaunchFaultsApply(t *testing.T) {
	window := simv1.FaultWindow{From: metav1.NewMicroTime(time.Unix(100, 0)), Until: metav1.NewMicroTime(time.Unix(200, 0))}
	inst := func(instanceType, zone string) *simv1.Instance {
		return &simv1.Instance{Spec: simv1.InstanceSpec{InstanceType: instanceType, Zone: zone}}
	}
	for _, tc := range []struct {
		name        string
		lf          launchFaults
		inst        *simv1.Instance
		wantDelay   time.Duration
		wantFailure bool
		wantMatched int
	}{
		{"no fault", launchFaults{}, inst("m5.large", "us-east-1a"), 0, false, 0},
		{"slow boot", launchFaults{slowBoot: &simv1.SlowBootFault{FaultWindow: window, Delay: metav1.Duration{Duration: 3 * time.Minute}}},
			inst("m5.large", "us-east-1a"), 3 * time.Minute, false, 0},
		{"every launch fails", launchFaults{failure: &simv1.LaunchFailureFault{FaultWindow: window, Rate: "1"}, rate: 1, matched: 4},
			inst("m5.large", "us-east-1a"), 0, true, 5},
		{"of the type and zone", launchFaults{failure: &simv1.LaunchFailureFault{FaultWindow: window, InstanceType: "m5.large", Zone: "us-east-1a", Rate: "1"}, rate: 1},
			inst("m5.large", "us-east-1a"), 0, true, 1},
		{"another type: not counted", launchFaults{failure: &simv1.LaunchFailureFault{FaultWindow: window, InstanceType: "c6i.large", Rate: "1"}, rate: 1},
			inst("m5.large", "us-east-1a"), 0, false, 0},
		{"another zone: not counted", launchFaults{failure: &simv1.LaunchFailureFault{FaultWindow: window, Zone: "us-east-1b", Rate: "1"}, rate: 1},
			inst("m5.large", "us-east-1a"), 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.lf.apply(tc.inst)
			var delay time.Duration
			if tc.inst.Spec.BootDelay != nil {
				delay = tc.inst.Spec.BootDelay.Duration
			}
			if delay != tc.wantDelay || (tc.inst.Spec.LaunchFailure == LaunchFailureReason) != tc.wantFailure || tc.lf.matched != tc.wantMatched {
				t.Errorf("boot delay %s, launch failure %q, matched %d; want %s, %v, %d",
					delay, tc.inst.Spec.LaunchFailure, tc.lf.matched, tc.wantDelay, tc.wantFailure, tc.wantMatched)
			}
		})
	}
}

func TestInWindow(t *testing.T) {
	w := simv1.FaultWindow{From: metav1.NewMicroTime(time.Unix(100, 0)), Until: metav1.NewMicroTime(time.Unix(200, 0))}
	for at, want := range map[int64]bool{99: false, 100: true, 150: true, 199: true, 200: false} {
		if got := inWindow(w, time.Unix(at, 0)); got != want {
			t.Errorf("at %d: %v, want %v", at, got, want)
		}
	}
}

func TestLaunchFailureInputString(t *testing.T) {
	for _, tc := range []struct {
		in   LaunchFailureInput
		want string
	}{
		{LaunchFailureInput{Rate: 1}, "100% of launches"},
		{LaunchFailureInput{Rate: 0.5, InstanceType: "m5.large"}, "50% of launches of m5.large"},
		{LaunchFailureInput{Rate: 0.07, Zone: "us-east-1a"}, "7% of launches in us-east-1a"},
		{LaunchFailureInput{Rate: 1.0 / 3, InstanceType: "m5.large", Zone: "us-east-1a"}, "33.33% of launches of m5.large in us-east-1a"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.in, got, tc.want)
		}
	}
}
