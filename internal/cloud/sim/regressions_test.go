package sim

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// A zone without capacity: the group's launches there fail once per
// retry, and AZ rebalancing does not try it again and again meanwhile.
func TestShortZoneFailsOncePerRetry(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	zones := h.c.Catalog().Zones()
	if err := h.p.SetCapacity(ctx, "m5.large", zones[0], 0); err != nil {
		t.Fatal(err)
	}
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 3})
	h.step(time.Second)
	failed := func() int {
		as, _, _ := h.p.ListActivities(ctx, "g", cloud.Page{})
		n := 0
		for _, a := range as {
			if a.StatusCode == cloud.ActivityFailed {
				n++
			}
		}
		return n
	}
	if n := failed(); n != 1 {
		t.Errorf("%d failed activities after the boot, want 1 (the rebalancing launch)", n)
	}
	h.step(10 * time.Second)
	if n := failed(); n != 2 {
		t.Errorf("%d failed activities after a retry, want 2", n)
	}
	if got := byState(h.instances("g")); got["running/InService"] != 3 {
		t.Errorf("instances %v: want 3 in service in the zones with capacity", got)
	}
}

// A capacity retry survives a restart.
func TestCapacityRetryAfterRestart(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	for _, z := range h.c.Catalog().Zones() {
		if err := h.p.SetCapacity(ctx, "m5.large", z, 0); err != nil {
			t.Fatal(err)
		}
	}
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 2})
	h.sync()
	h.restart()
	for _, z := range h.c.Catalog().Zones() {
		if err := h.p.SetCapacity(ctx, "m5.large", z, -1); err != nil {
			t.Fatal(err)
		}
	}
	h.step(10*time.Second - time.Nanosecond)
	if n := len(h.instances("g")); n != 0 {
		t.Fatalf("%d instances before the retry", n)
	}
	h.step(time.Nanosecond)
	if n := len(h.instances("g")); n != 2 {
		t.Errorf("%d instances at the retry, want 2", n)
	}
}

// A spot instance goes when its notice runs out, even while a hook holds
// it on its way in or out; its Node's end is its shutdown, not the request.
func TestSpotReclaimDoesNotWaitOnHooks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// hold puts the instance on a hook before its notice runs out.
		hook cloud.LifecycleHook
		hold func(h *harness, id string)
	}{
		{"waiting on its launching hook", cloud.LifecycleHook{Name: "warm", Transition: cloud.HookLaunching, HeartbeatTimeout: cloud.Duration{Duration: time.Hour}},
			func(*harness, string) {}},
		{"waiting on its terminating hook", cloud.LifecycleHook{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: cloud.Duration{Duration: time.Hour}},
			func(h *harness, id string) {
				if err := h.p.TerminateInstance(ctx, id, false); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 1, CapacityType: cloud.Spot, LifecycleHooks: []cloud.LifecycleHook{tc.hook}})
			h.step(time.Second)
			i := h.instances("g")[0]
			if err := h.p.Interrupt(ctx, i.ID); err != nil {
				t.Fatal(err)
			}
			tc.hold(h, i.ID)
			h.sync()
			if l, _ := h.p.Launched(ctx, i.ID); l.Ended != nil {
				t.Errorf("ended while held by a hook: %s", l.Ended)
			}
			h.step(2*time.Minute - time.Nanosecond)
			if got := h.instance(i.ID); got.State != cloud.StateRunning {
				t.Fatalf("a tick before the notice runs out: %s", got.State)
			}
			h.step(time.Nanosecond)
			got := h.instance(i.ID)
			if got.State != cloud.StateShuttingDown || got.StateReason != SpotReclaimReason {
				t.Fatalf("when the notice runs out: %s (%s)", got.State, got.StateReason)
			}
			if l, _ := h.p.Launched(ctx, i.ID); l.Ended == nil || !l.Ended.Equal(got.StateTransitionTime) {
				t.Errorf("ended %v, want %s", l.Ended, got.StateTransitionTime)
			}
		})
	}
}

// Deleting a group whose instance waits on its launching hook: the launch
// is abandoned and the instance goes through the terminating hook at once.
func TestDeleteGroupWhileLaunchingHookWaits(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
		{Name: "warm", Transition: cloud.HookLaunching, HeartbeatTimeout: cloud.Duration{Duration: time.Hour}}}})
	h.step(time.Second)
	i := h.instances("g")[0]
	if err := h.p.DeleteGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	h.sync()
	if got := h.instance(i.ID); got.State != cloud.StateShuttingDown {
		t.Errorf("deleting the group of an instance on its launching hook: %s/%s", got.State, got.LifecycleState)
	}
}

// A request made once the cloud has stopped is answered, never left
// hanging.
func TestRequestsAfterStop(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.stop()
	for range 100 {
		if _, err := h.p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "late"}); err != ErrStopped {
			t.Fatalf("after stop: %v", err)
		}
	}
	if _, err := h.p.Subscribe(ctx, cloud.FromNow); err != ErrStopped {
		t.Errorf("subscribing after stop: %v", err)
	}
}

// A group made again under a name has none of the old one's instances.
func TestGroupMadeAgain(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 2})
	h.step(time.Second)
	if err := h.p.DeleteGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	h.step(2 * time.Second)
	if _, err := h.p.CreateGroup(ctx, cloud.GroupInput{Name: "g", LaunchTemplate: cloud.TemplateRef{Name: "tmpl-g"}, MaxSize: 3, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	h.step(time.Second)
	if got := byState(h.instances("g")); got["running/InService"] != 1 || len(got) != 1 {
		t.Errorf("the new group's instances: %v", got)
	}
	if g := h.getGroup("g"); g.InService != 1 || g.Pending != 0 {
		t.Errorf("the new group counts %d in service, %d pending", g.InService, g.Pending)
	}
}

// A spot storm interrupts one instance every 1/rate minutes of its
// duration, each at its moment, and each interrupted instance goes 2
// minutes after its notice.
func TestSpotStorm(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 8, MaxSize: 20, CapacityType: cloud.Spot})
	h.step(time.Second)
	sc, err := scenario.Parse([]byte("seed: 5\nsteps:\n- {at: 10s, spotStorm: {group: web, ratePerMinute: 4, duration: 1m}}\n"), h.c.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.StartScenario(ctx, sc); err != nil {
		t.Fatal(err)
	}
	started := h.clk.Now()
	for range 60 * 4 {
		h.step(time.Second)
	}
	var notices, reclaims []time.Duration
	for _, e := range h.history() {
		switch {
		case e.DetailType == cloud.DetailSpotInterruption:
			notices = append(notices, e.Time.Sub(started))
		case e.DetailType == cloud.DetailStateChange && strings.Contains(string(e.Detail), `"shutting-down"`):
			reclaims = append(reclaims, e.Time.Sub(started))
		}
	}
	want := []time.Duration{10 * time.Second, 25 * time.Second, 40 * time.Second, 55 * time.Second}
	if !slices.Equal(notices, want) {
		t.Errorf("notices at %v, want %v", notices, want)
	}
	for i := range want {
		want[i] += 2 * time.Minute
	}
	if !slices.Equal(reclaims, want) {
		t.Errorf("reclaims at %v, want %v (2 minutes after each notice)", reclaims, want)
	}
}

// TestFailCondition: a failed node monitoring condition is recorded on the
// instance with its reason (durably: a restart keeps it), announced once,
// and a bad condition or a missing reason changes nothing.
func TestFailCondition(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 1})
	h.step(time.Second)
	id := h.instances("web")[0].ID
	for _, bad := range [][2]string{{"Ready", "KubeletDown"}, {"KernelReady", ""}} {
		if err := h.p.FailCondition(ctx, id, bad[0], bad[1]); !cloud.IsInvalid(err) {
			t.Errorf("FailCondition(%q, %q): %v, want InvalidParameter", bad[0], bad[1], err)
		}
	}
	for range 2 {
		if err := h.p.FailCondition(ctx, id, "KernelReady", "KernelBug"); err != nil {
			t.Fatal(err)
		}
	}
	h.restart()
	if got := h.instance(id).FailedConditions; len(got) != 1 || got["KernelReady"] != "KernelBug" {
		t.Errorf("failed conditions after a restart: %v", got)
	}
	n := 0
	for _, e := range h.history() {
		if e.DetailType == cloud.DetailConditionFailed {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d condition failure events, want 1", n)
	}
}
