package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/crds"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, stopSim) }

// stopSim stops the manager before the API server goes.
func stopSim() {
	if simCancel != nil {
		simCancel()
		<-simDone
	}
}

var (
	simOnce     sync.Once
	simProvider *sim.Provider
	simClient   client.Client
	simErr      error
	simCancel   context.CancelFunc
	simDone     = make(chan struct{})
)

// startSim runs the simulated cloud's controllers in this test process,
// against the package's API server, at 120× (the 2-minute spot notice
// takes a second). One manager serves every test.
func startSim(t *testing.T) (*sim.Provider, client.Client) {
	t.Helper()
	simOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		simCancel = cancel
		mgr, err := manager.New(env.Config, manager.Options{MetricsAddr: "0", HealthAddr: "0"})
		if err != nil {
			simErr = err
			return
		}
		direct, err := client.New(env.Config, client.Options{Scheme: mgr.GetScheme()})
		if err != nil {
			simErr = err
			return
		}
		if simErr = crds.Install(ctx, direct); simErr != nil {
			return
		}
		o := sim.DefaultOptions()
		o.Scale = 120
		if simProvider, simErr = sim.Setup(ctx, mgr, direct, o); simErr != nil {
			return
		}
		simClient = direct
		go func() {
			defer close(simDone)
			if err := mgr.Start(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "manager:", err)
			}
		}()
	})
	if simErr != nil {
		t.Fatal(simErr)
	}
	return simProvider, simClient
}

// group makes a launch template and a group, both named name.
func group(t *testing.T, p *sim.Provider, in cloud.GroupInput) {
	t.Helper()
	ctx := context.Background()
	img, _ := p.Catalog().LatestImage("AL2023_x86_64_STANDARD", "1.37")
	if _, err := p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: in.Name, ImageID: img.ID, InstanceType: "m5.large"}); err != nil {
		t.Fatal(err)
	}
	in.LaunchTemplate = in.Name
	if in.MaxSize == 0 {
		in.MaxSize = 5
	}
	if _, err := p.CreateGroup(ctx, in); err != nil {
		t.Fatal(err)
	}
}

// waitInstances waits until the group's instances satisfy ok.
func waitInstances(t *testing.T, p *sim.Provider, name string, ok func([]cloud.Instance) error) []cloud.Instance {
	t.Helper()
	var got []cloud.Instance
	testenv.Eventually(t, 30*time.Second, func() error {
		var err error
		if got, err = p.ListInstances(context.Background(), cloud.InstanceFilter{Group: name}); err != nil {
			return err
		}
		return ok(got)
	})
	return got
}

func inService(n int) func([]cloud.Instance) error {
	return func(is []cloud.Instance) error {
		c := 0
		for _, i := range is {
			if i.LifecycleState == simv1.LifecycleInService {
				c++
			}
		}
		if c != n {
			return fmt.Errorf("%d of %d instances in service, want %d", c, len(is), n)
		}
		return nil
	}
}

// expectEvent waits for an event of a detail type about an instance.
func expectEvent(t *testing.T, events <-chan cloud.Event, detailType, instanceID string) cloud.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.DetailType != detailType {
				continue
			}
			if strings.Contains(string(e.Detail), `"`+instanceID+`"`) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %q event for %s", detailType, instanceID)
		}
	}
}

func TestIntegration_TerminatingHookHoldsInstanceUntilCompleted(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	events := p.Subscribe(ctx)
	group(t, p, cloud.GroupInput{Name: "hooked", MinSize: 1, DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
		{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: 2 * time.Hour, DefaultResult: simv1.ResultContinue},
	}})
	victim := waitInstances(t, p, "hooked", inService(1))[0]

	if err := p.TerminateInstance(ctx, victim.ID, true); err == nil {
		t.Fatal("terminating with --decrement-desired below min size: no error")
	}
	if err := p.TerminateInstance(ctx, victim.ID, false); err != nil {
		t.Fatal(err)
	}
	e := expectEvent(t, events, cloud.DetailTerminateAction, victim.ID)
	var d cloud.LifecycleActionDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || d.LifecycleHookName != "drain" || d.AutoScalingGroupName != "hooked" ||
		d.LifecycleTransition != simv1.TransitionTerminating || e.Source != cloud.SourceAutoScaling {
		t.Fatalf("lifecycle action %+v %+v", e, d)
	}
	// Held: 2 hours at 120× is a minute; well within it, still waiting.
	time.Sleep(time.Second)
	got, _ := p.GetInstance(ctx, victim.ID)
	if got.LifecycleState != simv1.LifecycleTerminatingWait || got.State != cloud.StateRunning {
		t.Fatalf("instance %s: %s/%s, want running/Terminating:Wait", victim.ID, got.State, got.LifecycleState)
	}
	if err := p.CompleteLifecycleAction(ctx, "hooked", "nope", victim.ID, "CONTINUE"); !cloud.IsInvalid(err) {
		t.Errorf("completing an unknown hook: %v", err)
	}
	if err := p.CompleteLifecycleAction(ctx, "hooked", "drain", victim.ID, "CONTINUE"); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "hooked", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID == victim.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("victim %s", i.State)
			}
		}
		return inService(1)(is) // and the group replaced it
	})
	expectEvent(t, events, cloud.DetailStateChange, victim.ID)
}

func TestIntegration_LaunchHookAndTimeout(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	group(t, p, cloud.GroupInput{Name: "launchhook", DesiredCapacity: 1, LifecycleHooks: []cloud.LifecycleHook{
		{Name: "warm-up", Transition: cloud.HookLaunching, HeartbeatTimeout: 2 * time.Hour},
		{Name: "quick", Transition: cloud.HookTerminating, HeartbeatTimeout: 30 * time.Second},
	}})
	var inst cloud.Instance
	waitInstances(t, p, "launchhook", func(is []cloud.Instance) error {
		if len(is) != 1 || is[0].LifecycleState != simv1.LifecyclePendingWait {
			return fmt.Errorf("instances %+v", is)
		}
		inst = is[0]
		return nil
	})
	if err := p.CompleteLifecycleAction(ctx, "launchhook", "warm-up", inst.ID, "CONTINUE"); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "launchhook", inService(1))
	testenv.Eventually(t, 10*time.Second, func() error { // the group's status follows its instances
		if g, err := p.GetGroup(ctx, "launchhook"); err != nil || g.InService != 1 {
			return fmt.Errorf("group in service: %v %v", g, err)
		}
		return nil
	})
	// The terminating hook times out (30 s at 120×) with its default result.
	if err := p.TerminateInstance(ctx, inst.ID, false); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "launchhook", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID == inst.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("instance %s/%s", i.State, i.LifecycleState)
			}
		}
		return nil
	})
}

func TestIntegration_InsufficientCapacity(t *testing.T) {
	p, c := startSim(t)
	ctx := testenv.Context(t)
	zoneA := p.Catalog().PrivateSubnets()[0]
	if err := p.SetCapacity(ctx, "c6i.large", zoneA.Zone, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.SetCapacity(ctx, "x9.huge", zoneA.Zone, 0); !cloud.IsInvalid(err) {
		t.Errorf("capacity for an unknown type: %v", err)
	}
	img, _ := p.Catalog().LatestImage("AL2023_x86_64_STANDARD", "1.37")
	if _, err := p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "scarce", ImageID: img.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateGroup(ctx, cloud.GroupInput{Name: "scarce", LaunchTemplate: "scarce", MaxSize: 2, DesiredCapacity: 1,
		InstanceTypes: []string{"c6i.large"}, SubnetIDs: []string{zoneA.ID}}); err != nil {
		t.Fatal(err)
	}
	asg := &simv1.AutoScalingGroup{}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: "scarce"}, asg); err != nil {
			return err
		}
		cond := apimeta.FindStatusCondition(asg.Status.Conditions, sim.ConditionCapacityAvailable)
		if cond == nil || cond.Status != "False" || cond.Reason != sim.ReasonInsufficientCapacity {
			return fmt.Errorf("conditions %+v", asg.Status.Conditions)
		}
		return nil
	})
	if is, _ := p.ListInstances(ctx, cloud.InstanceFilter{Group: "scarce"}); len(is) != 0 {
		t.Fatalf("launched %d instances with no capacity", len(is))
	}
	// Capacity returns: the group's retry launches.
	if err := p.SetCapacity(ctx, "c6i.large", zoneA.Zone, -1); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "scarce", func(is []cloud.Instance) error {
		if len(is) != 1 {
			return fmt.Errorf("%d instances", len(is))
		}
		return nil
	})
}

func TestIntegration_SpotInterruptionAndRebalance(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	events := p.Subscribe(ctx)
	group(t, p, cloud.GroupInput{Name: "spotty", DesiredCapacity: 2, CapacityType: cloud.Spot, InstanceTypes: []string{"m5.large", "m6i.large"}})
	is := waitInstances(t, p, "spotty", inService(2))

	// Rebalance: a replacement first, then the at-risk instance goes.
	atRisk := is[0]
	if err := p.Rebalance(ctx, atRisk.ID); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, events, cloud.DetailRebalance, atRisk.ID)
	waitInstances(t, p, "spotty", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID == atRisk.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("at-risk instance %s", i.State)
			}
		}
		return inService(2)(is)
	})

	// Interruption: the warning, then termination 2 minutes (1 s) later.
	is = waitInstances(t, p, "spotty", inService(2))
	var victim cloud.Instance
	for _, i := range is {
		if i.LifecycleState == simv1.LifecycleInService {
			victim = i
		}
	}
	if err := p.Interrupt(ctx, victim.ID); err != nil {
		t.Fatal(err)
	}
	e := expectEvent(t, events, cloud.DetailSpotInterruption, victim.ID)
	var d cloud.SpotInterruptionDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || d.InstanceAction != "terminate" {
		t.Errorf("warning detail %s", e.Detail)
	}
	waitInstances(t, p, "spotty", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID == victim.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("victim %s", i.State)
			}
		}
		return inService(2)(is)
	})
	// On-demand instances get neither.
	group(t, p, cloud.GroupInput{Name: "steady", DesiredCapacity: 1})
	od := waitInstances(t, p, "steady", inService(1))[0]
	if err := p.Interrupt(ctx, od.ID); !cloud.IsInvalid(err) {
		t.Errorf("interrupting on-demand: %v", err)
	}
}

func TestIntegration_ScenarioReplaysWithItsSeed(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	group(t, p, cloud.GroupInput{Name: "chaos", DesiredCapacity: 3, CapacityType: cloud.Spot, InstanceTypes: []string{"m5.large"}})
	waitInstances(t, p, "chaos", inService(3))
	sc, err := sim.ParseScenario([]byte(`
seed: 42
steps:
- at: 0s
  failKubelet: {group: chaos, count: 1}
- at: 60s
  interrupt: {group: chaos, count: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.RunScenario(ctx, sc, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"step 0 failKubelet: chaos: i-", "step 1 interrupt: chaos: i-", "instances by group and state:", "chaos:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestIntegration_ScheduledRetirement(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	events := p.Subscribe(ctx)
	group(t, p, cloud.GroupInput{Name: "retiring", DesiredCapacity: 1})
	old := waitInstances(t, p, "retiring", inService(1))[0]
	if err := p.ScheduleRetirement(ctx, old.ID, 0); !cloud.IsInvalid(err) {
		t.Errorf("retirement in 0s: %v", err)
	}
	if err := p.ScheduleRetirement(ctx, old.ID, 2*time.Minute); err != nil { // 1 s at 120×
		t.Fatal(err)
	}
	e := expectEvent(t, events, cloud.DetailScheduledMaintenance, old.ID)
	var d cloud.HealthDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || e.Source != cloud.SourceHealth || d.EventTypeCode != "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED" {
		t.Errorf("health event %+v %+v", e, d)
	}
	waitInstances(t, p, "retiring", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID == old.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("retired instance is %s", i.State)
			}
		}
		return inService(1)(is)
	})
}

func TestIntegration_TerminateWithDecrementTakesOnlyThatInstance(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	group(t, p, cloud.GroupInput{Name: "shrink", DesiredCapacity: 3})
	is := waitInstances(t, p, "shrink", inService(3))
	victim := is[1]
	if err := p.TerminateInstance(ctx, victim.ID, true); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		g, err := p.GetGroup(ctx, "shrink")
		if err != nil || g.DesiredCapacity != 2 {
			return fmt.Errorf("group %+v, %v", g, err)
		}
		return nil
	})
	time.Sleep(time.Second) // would a replacement or a second termination come?
	after := waitInstances(t, p, "shrink", inService(2))
	if len(after) != 3 {
		t.Fatalf("%d instances, want the 3 launched (no replacement)", len(after))
	}
	for _, i := range after {
		if i.State == cloud.StateRunning && i.ID == victim.ID {
			t.Errorf("victim %s still running", i.ID)
		}
		if i.ID != victim.ID && i.State != cloud.StateRunning {
			t.Errorf("instance %s was %s: scale-in took the wrong instance", i.ID, i.State)
		}
	}
}

func TestIntegration_NewLaunchTemplateVersionForNewInstances(t *testing.T) {
	p, _ := startSim(t)
	ctx := testenv.Context(t)
	var older cloud.Image
	for _, img := range p.Catalog().Images() {
		if img.Type == "AL2023_x86_64_STANDARD" && img.ReleaseVersion == "1.36.3-20261001" {
			older = img
		}
	}
	newer, _ := p.Catalog().LatestImage("AL2023_x86_64_STANDARD", "1.37")
	if _, err := p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "upgrade", ImageID: older.ID, InstanceType: "m5.large"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateGroup(ctx, cloud.GroupInput{Name: "upgrade", LaunchTemplate: "upgrade", MaxSize: 3, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	old := waitInstances(t, p, "upgrade", inService(1))[0]
	if old.ImageID != older.ID {
		t.Fatalf("launched with %s, want %s", old.ImageID, older.ID)
	}
	arm, _ := p.Catalog().LatestImage("AL2023_ARM_64_STANDARD", "1.37")
	if _, err := p.CreateLaunchTemplateVersion(ctx, "upgrade", cloud.LaunchTemplateInput{ImageID: arm.ID}, false); !cloud.IsInvalid(err) {
		t.Errorf("an arm64 image with m5.large: %v", err)
	}
	n, err := p.CreateLaunchTemplateVersion(ctx, "upgrade", cloud.LaunchTemplateInput{ImageID: newer.ID}, false)
	if err != nil || n != 2 {
		t.Fatalf("version %d, %v", n, err)
	}
	if err := p.SetLaunchTemplateVersion(ctx, "upgrade", "7"); !cloud.IsInvalid(err) {
		t.Errorf("a missing version: %v", err)
	}
	if err := p.SetLaunchTemplateVersion(ctx, "upgrade", "$Latest"); err != nil {
		t.Fatal(err)
	}
	// Running instances stay; a replacement launches with the new version.
	time.Sleep(500 * time.Millisecond)
	if got, _ := p.GetInstance(ctx, old.ID); got.State != cloud.StateRunning {
		t.Fatalf("the running instance was touched: %s", got.State)
	}
	if err := p.TerminateInstance(ctx, old.ID, false); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "upgrade", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID != old.ID && i.State == cloud.StateRunning {
				if i.ImageID != newer.ID {
					return fmt.Errorf("replacement launched with %s, want %s", i.ImageID, newer.ID)
				}
				return nil
			}
		}
		return fmt.Errorf("no replacement running")
	})
}

// groupInstances lists a group's Instance resources, for what the
// provider's view leaves out (state reasons, recorded faults).
func groupInstances(t *testing.T, c client.Client, name string) []simv1.Instance {
	t.Helper()
	var list simv1.InstanceList
	if err := c.List(context.Background(), &list, client.MatchingLabels{simv1.LabelGroup: name}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestIntegration_SlowBootKeepsNewInstancesPending(t *testing.T) {
	p, c := startSim(t)
	ctx := testenv.Context(t)
	group(t, p, cloud.GroupInput{Name: "sluggish", DesiredCapacity: 1})
	old := waitInstances(t, p, "sluggish", inService(1))[0]

	for _, tc := range []struct {
		group         string
		delay, during time.Duration
		check         func(error) bool
	}{
		{"sluggish", 0, time.Hour, cloud.IsInvalid},
		{"sluggish", time.Minute, -time.Minute, cloud.IsInvalid},
		{"nope", time.Minute, time.Hour, cloud.IsNotFound},
	} {
		if err := p.SetSlowBoot(ctx, tc.group, tc.delay, tc.during); !tc.check(err) {
			t.Errorf("slow boot of %s by %s for %s: %v", tc.group, tc.delay, tc.during, err)
		}
	}
	// Boots take 4 minutes (2 s at 120×) longer for the next hour (30 s).
	if err := p.SetSlowBoot(ctx, "sluggish", 4*time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := p.TerminateInstance(ctx, old.ID, false); err != nil {
		t.Fatal(err)
	}
	var slow cloud.Instance
	waitInstances(t, p, "sluggish", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID != old.ID {
				slow = i
				return nil
			}
		}
		return fmt.Errorf("no replacement yet")
	})
	time.Sleep(time.Second) // a normal boot (1 s, 8 ms at 120×) is long over
	if got, err := p.GetInstance(ctx, slow.ID); err != nil || got.State != cloud.StatePending {
		t.Fatalf("slow-booting instance %s after 1 s: %+v, %v; want pending", slow.ID, got, err)
	}
	waitInstances(t, p, "sluggish", inService(1))
	inst := &simv1.Instance{}
	if err := c.Get(ctx, client.ObjectKey{Name: slow.ID}, inst); err != nil {
		t.Fatal(err)
	}
	if inst.Spec.BootDelay == nil || inst.Spec.BootDelay.Duration != 4*time.Minute {
		t.Errorf("boot delay recorded on the instance: %v, want 4m", inst.Spec.BootDelay)
	}
	// Booted after the delay (its transition time is to the second).
	if booted := inst.Status.StateTransitionTime.Sub(inst.Spec.LaunchTime.Time); booted < time.Second {
		t.Errorf("running %s after launch, want about 2 s", booted)
	}

	// Lifted: the next instance boots at once.
	if err := p.SetSlowBoot(ctx, "sluggish", 0, 0); err != nil {
		t.Fatal(err)
	}
	asg := &simv1.AutoScalingGroup{}
	if err := c.Get(ctx, client.ObjectKey{Name: "sluggish"}, asg); err != nil || asg.Spec.Faults != nil {
		t.Fatalf("faults after lifting: %+v, %v", asg.Spec.Faults, err)
	}
	if err := p.TerminateInstance(ctx, slow.ID, false); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "sluggish", func(is []cloud.Instance) error {
		for _, i := range is {
			if i.ID != old.ID && i.ID != slow.ID && i.LifecycleState == simv1.LifecycleInService {
				return nil
			}
		}
		return fmt.Errorf("no replacement in service yet")
	})
	for _, i := range groupInstances(t, c, "sluggish") {
		if i.Name != old.ID && i.Name != slow.ID && i.Spec.BootDelay != nil {
			t.Errorf("instance %s launched after the fault was lifted has boot delay %s", i.Name, i.Spec.BootDelay.Duration)
		}
	}
}

func TestIntegration_LaunchFailuresAreReplacedUntilTheWindowEnds(t *testing.T) {
	p, c := startSim(t)
	ctx := testenv.Context(t)
	events := p.Subscribe(ctx)
	group(t, p, cloud.GroupInput{Name: "doomed", DesiredCapacity: 0})

	// Bad input changes nothing.
	for _, in := range []sim.LaunchFailureInput{
		{Rate: 0, Duration: time.Hour},
		{Rate: 1.5, Duration: time.Hour},
		{Rate: 1, Duration: -time.Hour},
		{Rate: 1, Duration: time.Hour, InstanceType: "x9.huge"},
		{Rate: 1, Duration: time.Hour, Zone: "mars-1a"},
	} {
		if err := p.SetLaunchFailure(ctx, "doomed", in); !cloud.IsInvalid(err) {
			t.Errorf("launch failure %+v: %v", in, err)
		}
	}
	asg := &simv1.AutoScalingGroup{}
	if err := c.Get(ctx, client.ObjectKey{Name: "doomed"}, asg); err != nil || asg.Spec.Faults != nil {
		t.Fatalf("faults after bad input: %+v, %v", asg.Spec.Faults, err)
	}

	// Every launch fails: the instance and its replacements.
	if err := p.SetLaunchFailure(ctx, "doomed", sim.LaunchFailureInput{Rate: 1, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetDesiredCapacity(ctx, "doomed", 1); err != nil {
		t.Fatal(err)
	}
	var first simv1.Instance
	testenv.Eventually(t, 30*time.Second, func() error {
		failed := 0
		for _, i := range groupInstances(t, c, "doomed") {
			if i.Status.State == simv1.StateTerminated && i.Status.StateReason == sim.LaunchFailureReason {
				if failed == 0 || i.Spec.LaunchTime.Before(first.Spec.LaunchTime) {
					first = i
				}
				failed++
			}
			if i.Status.State == simv1.StateRunning {
				return fmt.Errorf("instance %s is %s: want every launch to fail", i.Name, i.Status.State)
			}
		}
		if failed < 2 {
			return fmt.Errorf("%d launches failed, want a failure and its replacement's", failed)
		}
		return nil
	})
	if first.Spec.LaunchFailure != sim.LaunchFailureReason || first.Spec.TerminationReason != sim.LaunchFailureReason {
		t.Errorf("failed instance %s: launchFailure %q, terminationReason %q", first.Name, first.Spec.LaunchFailure, first.Spec.TerminationReason)
	}
	// EC2 reports it pending, then shutting-down and terminated.
	var states []string
	timeout := time.After(30 * time.Second)
	for !slices.Contains(states, simv1.StateTerminated) {
		select {
		case e := <-events:
			var d cloud.StateChangeDetail
			if e.DetailType == cloud.DetailStateChange && json.Unmarshal(e.Detail, &d) == nil && d.InstanceID == first.Name {
				states = append(states, d.State)
			}
		case <-timeout:
			t.Fatalf("state changes of %s: %v", first.Name, states)
		}
	}
	if want := []string{simv1.StatePending, simv1.StateShuttingDown, simv1.StateTerminated}; !slices.Equal(states, want) {
		t.Errorf("state changes of %s: %v, want %v", first.Name, states, want)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == first.Name && e.Reason == "LaunchFailed" && e.Type == "Warning" && strings.Contains(e.Note, sim.LaunchFailureReason) {
				return nil
			}
		}
		return fmt.Errorf("no LaunchFailed warning on %s", first.Name)
	})

	// A short window (1 minute, 0.5 s) instead: launches fail until it
	// ends, then the group's next launch succeeds.
	if err := p.SetLaunchFailure(ctx, "doomed", sim.LaunchFailureInput{Rate: 1, Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "doomed"}, asg); err != nil {
		t.Fatal(err)
	}
	until := asg.Spec.Faults.LaunchFailure.Until.Time
	waitInstances(t, p, "doomed", inService(1))
	for _, i := range groupInstances(t, c, "doomed") {
		switch launched := i.Spec.LaunchTime.Time; {
		case i.Status.LifecycleState == simv1.LifecycleInService && (i.Spec.LaunchFailure != "" || launched.Before(until)):
			t.Errorf("instance %s in service: launched %s (window until %s), launchFailure %q", i.Name, launched, until, i.Spec.LaunchFailure)
		case i.Spec.LaunchFailure != "" && i.Status.State == simv1.StateRunning:
			t.Errorf("instance %s is running despite its launch failure", i.Name)
		}
	}
}

func TestIntegration_ScenarioLaunchFailuresReplay(t *testing.T) {
	p, c := startSim(t)
	ctx := testenv.Context(t)
	// The same scenario against two groups alike: the same launches fail.
	play := func(name string) (string, []bool) {
		group(t, p, cloud.GroupInput{Name: name, DesiredCapacity: 0})
		sc, err := sim.ParseScenario([]byte(`
seed: 7
steps:
- at: 0s
  launchFailure: {group: ` + name + `, rate: 0.5, duration: 10m}
- at: 0s
  slowBoot: {group: ` + name + `, delay: 1s, duration: 10m}
`))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- p.RunScenario(ctx, sc, &out) }()
		testenv.Eventually(t, 10*time.Second, func() error { // the faults in effect, then the group scales up
			asg := &simv1.AutoScalingGroup{}
			if err := c.Get(ctx, client.ObjectKey{Name: name}, asg); err != nil {
				return err
			}
			if f := asg.Spec.Faults; f == nil || f.LaunchFailure == nil || f.SlowBoot == nil {
				return fmt.Errorf("faults %+v", f)
			}
			return nil
		})
		if err := p.SetDesiredCapacity(ctx, name, 4); err != nil {
			t.Fatal(err)
		}
		waitInstances(t, p, name, inService(4))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Failures by launch order.
		is := groupInstances(t, c, name)
		slices.SortFunc(is, func(a, b simv1.Instance) int { return a.Spec.LaunchTime.Compare(b.Spec.LaunchTime.Time) })
		var failed []bool
		for _, i := range is {
			if i.Spec.BootDelay == nil {
				t.Errorf("instance %s launched in the slow-boot window without its delay", i.Name)
			}
			failed = append(failed, i.Spec.LaunchFailure != "")
		}
		return out.String(), failed
	}
	outA, failedA := play("replay-a")
	outB, failedB := play("replay-b")
	report := func(out, name string) []string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "step ") {
				lines = append(lines, strings.ReplaceAll(l, name, "G"))
			}
		}
		return lines
	}
	if a, b := report(outA, "replay-a"), report(outB, "replay-b"); !slices.Equal(a, b) {
		t.Errorf("the replay reported otherwise:\n%s\nthen:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if !slices.Contains(failedA, true) || len(failedA) < 5 {
		t.Errorf("launches failed: %v; want some of them to fail and be replaced", failedA)
	}
	failures := func(bs []bool) (n int) {
		for _, b := range bs {
			if b {
				n++
			}
		}
		return n
	}
	if failures(failedA) != failures(failedB) || len(failedA) != len(failedB) {
		t.Errorf("failed launches %v, then %v", failedA, failedB)
	}
	for _, want := range []string{"step 0 launchFailure: G: 50% of launches fail for 10m0s", "step 1 slowBoot: G: instances launched in the next 10m0s boot 1s slower", "launches failed"} {
		if !strings.Contains(strings.ReplaceAll(outA, "replay-a", "G"), want) {
			t.Errorf("report lacks %q:\n%s", want, outA)
		}
	}
}
