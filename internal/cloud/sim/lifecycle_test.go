package sim

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// TestLifecycle steps a fake clock through each of the cloud's timed
// transitions and checks the moment each happens: not a tick before, and
// then.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// group is the group to launch (one instance); act does something
		// to it once it is in service, and returns how long until the
		// instance must begin shutting down.
		group cloud.GroupInput
		act   func(t *testing.T, h *harness, i cloud.Instance) time.Duration
		// reason is the state reason the instance shuts down with.
		reason string
		// replaced says whether the group launches a replacement.
		replaced bool
	}{{
		name:  "spot interruption: terminated when the 2-minute notice runs out, hooks or not",
		group: cloud.GroupInput{DesiredCapacity: 1, CapacityType: cloud.Spot, LifecycleHooks: []cloud.LifecycleHook{{Name: "drain", Transition: cloud.HookTerminating}}},
		act: func(t *testing.T, h *harness, i cloud.Instance) time.Duration {
			if err := h.p.Interrupt(ctx, i.ID); err != nil {
				t.Fatal(err)
			}
			return 2 * time.Minute
		},
		reason: SpotReclaimReason, replaced: true,
	}, {
		name:  "scheduled retirement: at its time, through the group's hook",
		group: cloud.GroupInput{DesiredCapacity: 1},
		act: func(t *testing.T, h *harness, i cloud.Instance) time.Duration {
			if err := h.p.ScheduleRetirement(ctx, i.ID, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			return 24 * time.Hour
		},
		reason: RetirementReason, replaced: true,
	}, {
		name: "terminating hook: held until its heartbeat timeout, then the default result",
		group: cloud.GroupInput{DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
			{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: cloud.Duration{Duration: 5 * time.Minute}, DefaultResult: cloud.ResultContinue}}},
		act: func(t *testing.T, h *harness, i cloud.Instance) time.Duration {
			if err := h.p.TerminateInstance(ctx, i.ID, false); err != nil {
				t.Fatal(err)
			}
			h.sync()
			if got := h.instance(i.ID); got.LifecycleState != cloud.LifecycleTerminatingWait || got.State != cloud.StateRunning {
				t.Fatalf("after terminate: %s/%s, want running/Terminating:Wait", got.State, got.LifecycleState)
			}
			return 5 * time.Minute
		},
		reason: UserRequestReason, replaced: true,
	}, {
		name: "a heartbeat restarts the hook's timeout",
		group: cloud.GroupInput{MinSize: 1, DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
			{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: cloud.Duration{Duration: 5 * time.Minute}}}},
		act: func(t *testing.T, h *harness, i cloud.Instance) time.Duration {
			if err := h.p.TerminateInstance(ctx, i.ID, true); err == nil {
				t.Fatal("terminating below the group's min size: no error")
			}
			if err := h.p.TerminateInstance(ctx, i.ID, false); err != nil {
				t.Fatal(err)
			}
			h.step(4 * time.Minute)
			if err := h.p.RecordLifecycleActionHeartbeat(ctx, cloud.LifecycleAction{Group: i.Group, Hook: "drain", InstanceID: i.ID}); err != nil {
				t.Fatal(err)
			}
			return 5 * time.Minute // from the heartbeat
		},
		reason: UserRequestReason, replaced: true,
	}, {
		name:  "scale-in to zero: no replacement",
		group: cloud.GroupInput{DesiredCapacity: 1},
		act: func(t *testing.T, h *harness, i cloud.Instance) time.Duration {
			if _, err := h.p.UpdateGroup(ctx, i.Group, cloud.GroupUpdate{DesiredCapacity: ptr[int32](0)}); err != nil {
				t.Fatal(err)
			}
			return 0
		},
		reason: ServiceReason,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			tc.group.Name = "g"
			h.group(tc.group)
			h.sync()
			is := h.instances("g")
			if len(is) != 1 || is[0].State != cloud.StatePending {
				t.Fatalf("launched %v", byState(is))
			}
			// Boots in exactly 1 s.
			h.step(time.Second - time.Nanosecond)
			if got := h.instance(is[0].ID); got.State != cloud.StatePending {
				t.Fatalf("a tick before its boot ends: %s", got.State)
			}
			h.step(time.Nanosecond)
			i := h.instance(is[0].ID)
			if i.State != cloud.StateRunning || i.LifecycleState != cloud.LifecycleInService {
				t.Fatalf("booted: %s/%s", i.State, i.LifecycleState)
			}

			wait := tc.act(t, h, i)
			if wait > 0 {
				h.step(wait - time.Nanosecond)
				if got := h.instance(i.ID); got.State != cloud.StateRunning {
					t.Fatalf("a tick before it is due: %s/%s (%s)", got.State, got.LifecycleState, got.StateReason)
				}
				h.step(time.Nanosecond)
			}
			got := h.instance(i.ID)
			if got.State != cloud.StateShuttingDown || got.StateReason != tc.reason {
				t.Fatalf("when due: %s (%s), want shutting-down (%s)", got.State, got.StateReason, tc.reason)
			}
			h.step(time.Second) // shutting down takes 1 s
			if got := h.instance(i.ID); got.State != cloud.StateTerminated {
				t.Fatalf("a second after shutting down: %s", got.State)
			}
			h.step(time.Second) // a replacement boots
			var replacements []string
			for _, j := range h.instances("g") {
				if j.ID != i.ID && j.State == cloud.StateRunning {
					replacements = append(replacements, j.ID)
				}
			}
			if tc.replaced != (len(replacements) == 1) {
				t.Errorf("replacements %v, want replaced: %v", replacements, tc.replaced)
			}
			// The terminated record stays an hour, then only its launch.
			h.step(time.Hour - time.Second - time.Nanosecond)
			h.instance(i.ID)
			h.step(time.Nanosecond)
			if _, err := h.p.GetInstance(ctx, i.ID); !cloud.IsNotFound(err) {
				t.Errorf("an hour after termination: %v, want not found", err)
			}
			l, err := h.p.Launched(ctx, i.ID)
			if err != nil || l.Ended == nil || l.PrivateDNSName != i.PrivateDNSName {
				t.Errorf("launch record %+v, %v", l, err)
			}
		})
	}
}

func TestSpotInterruptionEvents(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "spot", DesiredCapacity: 1, CapacityType: cloud.Spot})
	h.step(time.Second)
	i := h.instances("spot")[0]
	h.step(10 * time.Second)
	if err := h.p.Interrupt(ctx, i.ID); err != nil {
		t.Fatal(err)
	}
	h.step(2*time.Minute + time.Second)
	want := []string{"pending@0s", "running@1s", "shutting-down@2m11s", "terminated@2m12s"}
	if got := h.states(i.ID); !slices.Equal(got, want) {
		t.Errorf("state changes %v, want %v", got, want)
	}
	var warned bool
	for _, e := range h.history() {
		if e.DetailType == cloud.DetailSpotInterruption {
			var d cloud.SpotInterruptionDetail
			_ = json.Unmarshal(e.Detail, &d)
			warned = d.InstanceID == i.ID && d.InstanceAction == "terminate" && e.Time.Equal(epoch.Add(11*time.Second)) && e.Source == cloud.SourceEC2
		}
	}
	if !warned {
		t.Error("no interruption warning for the instance at 11s")
	}
	// On-demand instances get no notices.
	h.group(cloud.GroupInput{Name: "steady", DesiredCapacity: 1})
	h.step(time.Second)
	if err := h.p.Interrupt(ctx, h.instances("steady")[0].ID); !cloud.IsInvalid(err) {
		t.Errorf("interrupting on-demand: %v", err)
	}
}

func TestLaunchingHook(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		complete string // "" lets the hook time out
		result   string // the hook's default
		want     string // the instance's state after
	}{
		{"completed with CONTINUE", cloud.ResultContinue, cloud.ResultAbandon, cloud.LifecycleInService},
		{"timed out with CONTINUE", "", cloud.ResultContinue, cloud.LifecycleInService},
		{"timed out with ABANDON", "", cloud.ResultAbandon, cloud.LifecycleTerminating},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
				{Name: "warm", Transition: cloud.HookLaunching, HeartbeatTimeout: cloud.Duration{Duration: time.Minute}, DefaultResult: tc.result}}})
			h.step(time.Second)
			i := h.instances("g")[0]
			if i.LifecycleState != cloud.LifecyclePendingWait {
				t.Fatalf("booted: %s", i.LifecycleState)
			}
			if g := h.getGroup("g"); g.InService != 0 || g.Pending != 1 {
				t.Errorf("group counts %d in service, %d pending", g.InService, g.Pending)
			}
			if err := h.p.CompleteLifecycleAction(ctx, cloud.LifecycleAction{Group: "g", Hook: "nope", InstanceID: i.ID, Result: cloud.ResultContinue}); !cloud.IsInvalid(err) {
				t.Errorf("completing another hook: %v", err)
			}
			if tc.complete != "" {
				if err := h.p.CompleteLifecycleAction(ctx, cloud.LifecycleAction{Group: "g", Hook: "warm", InstanceID: i.ID, Result: tc.complete}); err != nil {
					t.Fatal(err)
				}
				h.sync()
			} else {
				h.step(time.Minute - time.Nanosecond)
				if got := h.instance(i.ID); got.LifecycleState != cloud.LifecyclePendingWait {
					t.Fatalf("a tick before the timeout: %s", got.LifecycleState)
				}
				h.step(time.Nanosecond)
			}
			if got := h.instance(i.ID); got.LifecycleState != tc.want {
				t.Errorf("after: %s, want %s", got.LifecycleState, tc.want)
			}
		})
	}
}

func TestCapacityErrorsAndRetry(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	for _, z := range h.c.Catalog().Zones() {
		if err := h.p.SetCapacity(ctx, "m5.large", z, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.p.SetCapacity(ctx, "x9.huge", "mars-1a", 0); !cloud.IsInvalid(err) || !strings.Contains(err.Error(), "instanceType") || !strings.Contains(err.Error(), "zone") {
		t.Errorf("capacity of an unknown type in an unknown zone: %v", err)
	}
	h.group(cloud.GroupInput{Name: "scarce", DesiredCapacity: 2})
	h.sync()
	if is := h.instances("scarce"); len(is) != 0 {
		t.Fatalf("launched %d without capacity", len(is))
	}
	failed := func() []cloud.Activity {
		as, _, err := h.p.ListActivities(ctx, "scarce", cloud.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var out []cloud.Activity
		for _, a := range as {
			if a.StatusCode == cloud.ActivityFailed {
				out = append(out, a)
			}
		}
		return out
	}
	f := failed()
	if len(f) != 1 || !strings.Contains(f[0].Description, "We currently do not have sufficient m5.large capacity") ||
		!strings.Contains(f[0].Cause, "increasing the capacity from 0 to 2") {
		t.Fatalf("failed activities %+v", f)
	}
	// Retried every 10 s: not before.
	h.step(10*time.Second - time.Nanosecond)
	if n := len(failed()); n != 1 {
		t.Errorf("%d failed activities before the retry", n)
	}
	h.step(time.Nanosecond)
	if n := len(failed()); n != 2 {
		t.Errorf("%d failed activities after the retry, want 2", n)
	}
	// Capacity in one zone comes back: the next retry launches both there.
	zone := h.c.Catalog().Zones()[1]
	if err := h.p.SetCapacity(ctx, "m5.large", zone, -1); err != nil {
		t.Fatal(err)
	}
	h.step(10 * time.Second)
	is := h.instances("scarce")
	if len(is) != 2 || is[0].Zone != zone || is[1].Zone != zone {
		t.Fatalf("after capacity came back: %+v", is)
	}
}

func TestCapacityRebalance(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "spot", DesiredCapacity: 2, CapacityType: cloud.Spot, InstanceTypes: []string{"m5.large", "m6i.large"}})
	h.step(time.Second)
	atRisk := h.instances("spot")[0]
	if err := h.p.Rebalance(ctx, atRisk.ID); err != nil {
		t.Fatal(err)
	}
	h.sync()
	is := h.instances("spot")
	if len(is) != 3 || h.instance(atRisk.ID).State != cloud.StateRunning {
		t.Fatalf("after the recommendation: %v (a replacement first, the at-risk instance running)", byState(is))
	}
	h.step(time.Second) // the replacement is in service: the at-risk one goes
	if got := h.instance(atRisk.ID); got.State != cloud.StateShuttingDown {
		t.Errorf("at-risk instance %s once its replacement is in service", got.State)
	}
	if got := byState(h.instances("spot")); got["running/InService"] != 2 {
		t.Errorf("instances %v", got)
	}
}

func TestZoneOutageAndAZRebalance(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 6})
	h.step(time.Second)
	zones := h.c.Catalog().Zones()
	perZone := func() map[string]int {
		out := map[string]int{}
		for _, i := range h.instances("web") {
			if !strings.HasPrefix(i.State, "terminated") && i.State != cloud.StateShuttingDown {
				out[i.Zone]++
			}
		}
		return out
	}
	if got := perZone(); !maps.Equal(got, map[string]int{zones[0]: 2, zones[1]: 2, zones[2]: 2}) {
		t.Fatalf("spread %v", got)
	}
	n, err := h.p.ZoneOutage(ctx, zones[0])
	if err != nil || n != 2 {
		t.Fatalf("outage: %d kubelets failed, %v", n, err)
	}
	// Its instances run on (their kubelets are dead); a replacement goes to
	// another zone.
	for _, i := range h.instances("web") {
		if i.Zone == zones[0] && !i.KubeletFailed {
			t.Errorf("instance %s in the zone down has a live kubelet", i.ID)
		}
	}
	var victim cloud.Instance
	for _, i := range h.instances("web") {
		if i.Zone == zones[0] {
			victim = i
		}
	}
	if err := h.p.TerminateInstance(ctx, victim.ID, false); err != nil {
		t.Fatal(err)
	}
	h.step(2 * time.Second)
	got := perZone()
	if got[zones[0]] != 1 || got[zones[1]]+got[zones[2]] != 5 {
		t.Fatalf("after a termination in the zone down: %v", got)
	}
	// The zone comes back: AZ rebalancing evens it out (one launched there,
	// then one of the most crowded zone goes), unless suspended.
	if err := h.p.SuspendProcesses(ctx, "web", []string{cloud.ProcessAZRebalance}); err != nil {
		t.Fatal(err)
	}
	if err := h.p.SuspendProcesses(ctx, "web", []string{"Bogus"}); !cloud.IsInvalid(err) {
		t.Errorf("suspending an unknown process: %v", err)
	}
	for _, it := range h.c.Catalog().InstanceTypes() {
		if err := h.p.SetCapacity(ctx, it.Name, zones[0], -1); err != nil {
			t.Fatal(err)
		}
	}
	h.step(time.Minute)
	if got := perZone(); got[zones[0]] != 1 {
		t.Fatalf("rebalanced while suspended: %v", got)
	}
	if err := h.p.ResumeProcesses(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	h.step(time.Second) // launched in the zone with fewest, booted
	h.step(time.Second) // one of the most crowded zone shut down
	h.step(time.Second)
	if got := perZone(); !maps.Equal(got, map[string]int{zones[0]: 2, zones[1]: 2, zones[2]: 2}) {
		t.Errorf("after AZ rebalancing: %v", got)
	}
	if g := h.getGroup("web"); g.DesiredCapacity != 6 || g.InService != 6 {
		t.Errorf("group %d desired, %d in service", g.DesiredCapacity, g.InService)
	}
}

func TestSlowBootAndLaunchFailures(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 0})
	for _, in := range []LaunchFailure{
		{Rate: 0, Duration: time.Hour},
		{Rate: 1.5, Duration: time.Hour},
		{Rate: 1, Duration: -time.Hour},
		{Rate: 1, Duration: time.Hour, InstanceType: "x9.huge"},
		{Rate: 1, Duration: time.Hour, Zone: "mars-1a"},
	} {
		if err := h.p.SetLaunchFailure(ctx, "g", in); !cloud.IsInvalid(err) {
			t.Errorf("launch failure %+v: %v", in, err)
		}
	}
	if err := h.p.SetSlowBoot(ctx, "g", 0, time.Hour); !cloud.IsInvalid(err) {
		t.Errorf("slow boot without delay: %v", err)
	}
	if err := h.p.SetSlowBoot(ctx, "nope", time.Minute, time.Hour); !cloud.IsNotFound(err) {
		t.Errorf("slow boot of a missing group: %v", err)
	}
	if err := h.p.SetSlowBoot(ctx, "g", 4*time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.UpdateGroup(ctx, "g", cloud.GroupUpdate{DesiredCapacity: ptr[int32](1)}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	slow := h.instances("g")[0]
	h.step(4*time.Minute + time.Second - time.Nanosecond)
	if got := h.instance(slow.ID); got.State != cloud.StatePending {
		t.Fatalf("a tick before its slow boot ends: %s", got.State)
	}
	h.step(time.Nanosecond)
	if got := h.instance(slow.ID); got.State != cloud.StateRunning {
		t.Fatalf("when its slow boot ends: %s", got.State)
	}
	// Every launch fails for a minute: pending, shutting-down, terminated,
	// replaced, until the window ends.
	if err := h.p.SetSlowBoot(ctx, "g", 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.p.SetLaunchFailure(ctx, "g", LaunchFailure{Rate: 1, Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := h.p.TerminateInstance(ctx, slow.ID, false); err != nil {
		t.Fatal(err)
	}
	h.step(time.Second)
	var failed cloud.Instance
	for _, i := range h.instances("g") {
		if i.ID != slow.ID {
			failed = i
			break
		}
	}
	if failed.State != cloud.StateShuttingDown || failed.StateReason != LaunchFailureReason {
		t.Fatalf("a launch in the window: %s (%s)", failed.State, failed.StateReason)
	}
	if got, want := h.states(failed.ID), []string{"pending@4m1s", "shutting-down@4m2s"}; !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	for range 70 {
		h.step(time.Second)
	}
	is := h.instances("g")
	if got := byState(is); got["running/InService"] != 1 {
		t.Fatalf("after the window: %v", got)
	}
	for _, i := range is {
		if i.State == cloud.StateRunning && i.LaunchTime.Before(epoch.Add(4*time.Minute+61*time.Second)) {
			t.Errorf("instance %s launched in the window is running", i.ID)
		}
	}
	var lf *launchFailure
	_ = h.p.read(func(st *state) error { lf = st.groups["g"].Faults.LaunchFailure; return nil })
	if lf == nil || lf.Failed < 30 || lf.Failed != lf.Matched {
		t.Errorf("launch failure window %+v: want every launch of the minute failed", lf)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	img := h.image("AL2023_x86_64_STANDARD")
	if _, err := h.p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "web", LaunchTemplateData: cloud.LaunchTemplateData{ImageID: img.ID, InstanceType: "m5.large"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   cloud.GroupInput
		want []string // every problem, each naming its field
	}{
		{"sizes", cloud.GroupInput{Name: "bad", LaunchTemplate: cloud.TemplateRef{Name: "web"}, MinSize: 3, MaxSize: 1, DesiredCapacity: 5},
			[]string{"minSize: minSize (3) is greater than maxSize (1)", "desiredCapacity: desiredCapacity (5) must be between minSize (3) and maxSize (1)"}},
		{"everything at once", cloud.GroupInput{Name: "bad:name", LaunchTemplate: cloud.TemplateRef{Name: "nope"}, MaxSize: 2000, DesiredCapacity: -1,
			CapacityType: "cheap", SubnetIDs: []string{"subnet-nope"},
			LifecycleHooks: []cloud.LifecycleHook{{Name: "h", Transition: "sideways", HeartbeatTimeout: cloud.Duration{Duration: time.Second}}}},
			[]string{`autoScalingGroupName: "bad:name" must be 1–255 characters, with no colon`, `capacityType: must be on-demand or spot, got "cheap"`,
				"maxSize: must be at most 1000, got 2000", "desiredCapacity: desiredCapacity (-1)", `subnetIds: unknown subnet "subnet-nope"`,
				`launchTemplate: launch template "nope" not found`, "lifecycleHooks[0].lifecycleTransition: must be", "lifecycleHooks[0].heartbeatTimeout: must be between 30s and 2h, got 1s"}},
		{"an arm64 type with an x86_64 image", cloud.GroupInput{Name: "bad", LaunchTemplate: cloud.TemplateRef{Name: "web"}, MaxSize: 1, InstanceTypes: []string{"m7g.large", "x9.huge"}},
			[]string{"instanceTypes: m7g.large is arm64 but image", `instanceTypes: unknown instance type "x9.huge"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.p.CreateGroup(ctx, tc.in)
			var ip *cloud.InvalidParameterError
			if !errorsAs(err, &ip) || len(ip.Problems) != len(tc.want) {
				t.Fatalf("got %v; want %d problems", err, len(tc.want))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nlacks %q", err, w)
				}
			}
		})
	}
	if gs, _, _ := h.p.ListGroups(ctx, cloud.Page{}); len(gs) != 0 {
		t.Errorf("groups after bad requests: %v", gs)
	}
	// An update that breaks a rule changes nothing either.
	if _, err := h.p.CreateGroup(ctx, cloud.GroupInput{Name: "good", LaunchTemplate: cloud.TemplateRef{Name: "web"}, MinSize: 1, MaxSize: 3, DesiredCapacity: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.UpdateGroup(ctx, "good", cloud.GroupUpdate{MinSize: ptr[int32](4), InstanceTypes: []string{"m7g.large"}}); !cloud.IsInvalid(err) {
		t.Errorf("bad update: %v", err)
	}
	if g := h.getGroup("good"); g.MinSize != 1 || g.DesiredCapacity != 2 || len(g.InstanceTypes) != 0 {
		t.Errorf("group after a bad update: %+v", g)
	}
	// A new minSize above desired raises it, as on EC2.
	g, err := h.p.UpdateGroup(ctx, "good", cloud.GroupUpdate{MinSize: ptr[int32](3)})
	if err != nil || g.DesiredCapacity != 3 {
		t.Errorf("raising minSize: %+v, %v", g, err)
	}
	if err := h.p.DeleteLaunchTemplate(ctx, cloud.TemplateRef{Name: "web"}); !cloud.IsInUse(err) {
		t.Errorf("deleting a template in use: %v", err)
	}
}

func TestGroupDeletionWaitsForItsInstances(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "g", DesiredCapacity: 2, LifecycleHooks: []cloud.LifecycleHook{
		{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: cloud.Duration{Duration: time.Minute}, DefaultResult: cloud.ResultContinue}}})
	h.step(time.Second)
	if err := h.p.DeleteGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	h.sync()
	if g := h.getGroup("g"); g.Status != cloud.GroupDeleting {
		t.Fatalf("status %q", g.Status)
	}
	if got := byState(h.instances("g")); got["running/Terminating:Wait"] != 2 {
		t.Fatalf("instances of the deleted group %v: want both held by the hook", got)
	}
	h.step(time.Minute)
	h.step(time.Second)
	if _, err := h.p.GetGroup(ctx, "g"); !cloud.IsNotFound(err) {
		t.Errorf("group after its instances terminated: %v", err)
	}
	if err := h.p.DeleteLaunchTemplate(ctx, cloud.TemplateRef{Name: "tmpl-g"}); err != nil {
		t.Errorf("deleting the template of a deleted group: %v", err)
	}
}
