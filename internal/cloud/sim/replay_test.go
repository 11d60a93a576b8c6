package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// chaos is a scenario with every kind of step.
const chaos = `
seed: %d
steps:
- at: 0s
  slowBoot: {group: web, delay: 30s, duration: 2m}
- at: 10s
  launchFailure: {group: web, rate: 0.5, duration: 3m}
- at: 20s
  interrupt: {group: web, count: 2}
- at: 30s
  failKubelet: {group: web, count: 1}
- at: 40s
  rebalance: {group: web, count: 1}
- at: 50s
  terminate: {group: web, count: 1}
- at: 1m
  spotStorm: {group: web, ratePerMinute: 3, duration: 1m}
- at: 2m
  capacity: {instanceType: m5.large, zone: us-east-1a, available: 0}
- at: 3m
  zoneOutage: {zone: us-east-1b}
`

// play runs the chaos scenario with a seed on a fresh cloud (seed 42),
// stepping its fake clock a second at a time, and returns every event it
// made and the scenario's log.
func play(t *testing.T, seed uint64) ([]string, []string) {
	t.Helper()
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 10, CapacityType: cloud.Spot, InstanceTypes: []string{"m5.large", "m6i.large"}})
	h.step(time.Second)
	sc, err := scenario.Parse([]byte(fmt.Sprintf(chaos, seed)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.StartScenario(ctx, sc); err != nil {
		t.Fatal(err)
	}
	for range 300 {
		h.step(time.Second)
	}
	st, err := h.p.ScenarioStatus(ctx, "")
	if err != nil || st.State != ScenarioSucceeded {
		t.Fatalf("scenario %+v, %v", st, err)
	}
	var events []string
	for _, e := range h.history() {
		b, _ := json.Marshal(e)
		events = append(events, fmt.Sprintf("%d %s", e.Sequence, b))
	}
	return events, st.Log
}

func TestScenarioReplaysWithItsSeed(t *testing.T) {
	first, log := play(t, 7)
	again, logAgain := play(t, 7)
	other, _ := play(t, 8)
	if len(first) < 50 {
		t.Fatalf("only %d events", len(first))
	}
	if !slices.Equal(first, again) {
		for i := range min(len(first), len(again)) {
			if first[i] != again[i] {
				t.Fatalf("the replay differs at event %d:\n%s\n%s", i, first[i], again[i])
			}
		}
		t.Fatalf("the replay made %d events, the first run %d", len(again), len(first))
	}
	if !slices.Equal(log, logAgain) {
		t.Errorf("the replay's log differs:\n%s\n---\n%s", strings.Join(log, "\n"), strings.Join(logAgain, "\n"))
	}
	if slices.Equal(first, other) {
		t.Error("another seed gave the same events")
	}
	for _, want := range []string{"step 0 slowBoot: web: instances launched in the next 2m0s boot 30s slower", "step 1 launchFailure: web: 50% of launches fail for 3m0s",
		"step 2 interrupt: web: i-", "step 6 spotStorm: web: i-", "step 8 zoneOutage: us-east-1b down", "step 0 slowBoot: web: over:", "instances by group and state:"} {
		if !slices.ContainsFunc(log, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("the log lacks %q:\n%s", want, strings.Join(log, "\n"))
		}
	}
}

func TestScenarioValidation(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{`steps: []`, []string{"steps: at least one step is required"}},
		{`
steps:
- at: -1s
  interrupt: {group: "", count: 0}
- at: 1s
- at: 2s
  spotStorm: {group: g, ratePerMinute: 0, duration: 0s}
  zoneOutage: {zone: ""}
`, []string{"steps[0].at: must not be negative", "steps[0].interrupt.group: is required", "steps[0].interrupt.count: must be at least 1, got 0",
			"steps[1]: must have exactly one action", "steps[2]: must have exactly one action", "steps[2].spotStorm.ratePerMinute", "steps[2].spotStorm.duration",
			"steps[2].zoneOutage.zone: is required"}},
		{`steps: [{at: 1s, interupt: {group: g, count: 1}}]`, []string{`unknown field "interupt"`}},
	} {
		_, err := scenario.Parse([]byte(tc.yaml), nil)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s\ngot %v, want %q", tc.yaml, err, w)
			}
		}
	}
	// With the catalogue, the names it must know are checked too, with the
	// rest: every problem at once. The cloud checks them again.
	h := start(t)
	bad := []byte(`
steps:
- {at: 0s, capacity: {instanceType: x9.huge, zone: mars-1a, available: 0}}
- {at: 1s, zoneOutage: {zone: venus-1b}}
- {at: 2s, interrupt: {group: g, count: 0}}
`)
	_, err := scenario.Parse(bad, h.c.Catalog())
	for _, w := range []string{`steps[0].capacity.instanceType: unknown instance type "x9.huge"`, `steps[0].capacity.zone: unknown zone "mars-1a"`,
		`steps[1].zoneOutage.zone: unknown zone "venus-1b"`, "steps[2].interrupt.count: must be at least 1"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want %q", err, w)
		}
	}
	sc, err := scenario.Parse(bad[:strings.Index(string(bad), "- {at: 2s")], nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.StartScenario(context.Background(), sc); !cloud.IsInvalid(err) {
		t.Errorf("the cloud started a scenario with unknown names: %v", err)
	}
	if _, err := h.p.ScenarioStatus(context.Background(), ""); !cloud.IsNotFound(err) {
		t.Errorf("a refused scenario was recorded: %v", err)
	}
}

func TestScenarioSurvivesRestartAndStops(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 3, CapacityType: cloud.Spot})
	h.step(time.Second)
	sc, err := scenario.Parse([]byte(`
seed: 1
steps:
- {at: 10s, interrupt: {group: web, count: 1}}
- {at: 1m, slowBoot: {group: web, delay: 1m, duration: 10m}}
- {at: 2m, capacity: {instanceType: m5.large, zone: us-east-1a, available: 0}}
- {at: 20m, interrupt: {group: web, count: 1}}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.StartScenario(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.StartScenario(ctx, sc); !cloud.IsInUse(err) {
		t.Errorf("a second scenario while one runs: %v", err)
	}
	h.step(10 * time.Second)
	h.restart() // the scenario resumes at its next action
	h.step(3 * time.Minute)
	st, err := h.p.ScenarioStatus(ctx, "")
	if err != nil || st.State != ScenarioRunning || st.Done != 3 {
		t.Fatalf("after a restart: %+v, %v", st, err)
	}
	st, err = h.p.StopScenario(ctx, "")
	if err != nil || st.State != ScenarioStopped || !strings.Contains(st.Log[len(st.Log)-1], "capacity limits stay") {
		t.Fatalf("stopped: %+v, %v", st, err)
	}
	var sb *slowBoot
	_ = h.p.read(func(s *state) error { sb = s.groups["web"].Faults.SlowBoot; return nil })
	if sb != nil {
		t.Errorf("the stopped scenario's slow-boot window is still open: %+v", sb)
	}
	h.step(30 * time.Minute)
	if st, _ := h.p.ScenarioStatus(ctx, st.ID); st.Done != 3 {
		t.Errorf("a stopped scenario went on: %d actions done", st.Done)
	}
}

// TestRestartLosesNothing restarts the cloud in the middle of launches,
// boots, hooks and terminations: the state, the events and their cursors
// carry on from where they were, and a subscriber that keeps its cursor
// sees every event once.
func TestRestartLosesNothing(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 4, LifecycleHooks: []cloud.LifecycleHook{
		{Name: "drain", Transition: cloud.HookTerminating, HeartbeatTimeout: cloud.Duration{Duration: time.Minute}, DefaultResult: cloud.ResultContinue}}})
	sub, cancel := context.WithCancel(ctx)
	events, err := h.p.Subscribe(sub, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []cloud.Event
	receive := func() {
		t.Helper()
		newest := h.c.events.newest
		for len(seen) == 0 || seen[len(seen)-1].Sequence < newest {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("the subscription ended after %d events", len(seen))
				}
				seen = append(seen, e)
			case <-time.After(5 * time.Second):
				t.Fatalf("events up to %d not delivered; got %d", newest, len(seen))
			}
		}
	}
	h.step(time.Second)
	is := h.instances("web")
	if err := h.p.TerminateInstance(ctx, is[0].ID, false); err != nil {
		t.Fatal(err)
	}
	h.step(30 * time.Second) // half the hook's timeout
	receive()
	cursor := seen[len(seen)-1].Sequence
	before := h.instances("web")
	cancel()

	h.restart()
	if after := h.instances("web"); !slices.EqualFunc(before, after, func(a, b cloud.Instance) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatalf("instances changed across a restart:\n%v\n%v", before, after)
	}
	events, err = h.p.Subscribe(ctx, cursor)
	if err != nil {
		t.Fatal(err)
	}
	h.step(30 * time.Second) // the hook times out on time after the restart
	if got := h.instance(is[0].ID); got.State != cloud.StateShuttingDown {
		t.Errorf("hook timeout across a restart: %s/%s", got.State, got.LifecycleState)
	}
	h.step(2 * time.Second)
	receive()
	ids := map[string]bool{}
	for i, e := range seen {
		if e.Sequence != uint64(i+1) || ids[e.ID] {
			t.Fatalf("event %d: sequence %d, id %s seen before: %v", i, e.Sequence, e.ID, ids[e.ID])
		}
		ids[e.ID] = true
	}
	if n := len(h.instances("web")); n != 5 {
		t.Errorf("%d instances after the restart, want 4 and a replacement", n)
	}
}

func TestEventsExpire(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 1})
	h.step(time.Second)
	if _, err := h.p.Subscribe(ctx, 1); err != nil {
		t.Fatalf("from the first event: %v", err)
	}
	h.step(25 * time.Hour) // housekeeping prunes what is older than a day
	if err := h.p.TerminateInstance(ctx, h.instances("web")[0].ID, false); err != nil {
		t.Fatal(err)
	}
	h.sync()
	_, err := h.p.Subscribe(ctx, 1)
	if !cloud.IsEventsExpired(err) {
		t.Fatalf("subscribing from an expired cursor: %v", err)
	}
	// 0 is the oldest event kept: the termination's.
	events, err := h.p.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-events; e.DetailType != cloud.DetailStateChange || !e.Time.After(epoch.Add(25*time.Hour)) {
		t.Errorf("the oldest event kept: %s at %s", e.DetailType, e.Time)
	}
	if _, err := h.p.Subscribe(ctx, cloud.FromNow); err != nil {
		t.Errorf("from now: %v", err)
	}
	if _, err := h.p.Subscribe(ctx, 1<<40); !cloud.IsInvalid(err) {
		t.Errorf("a cursor from another cloud: %v", err)
	}
}

func TestListsArePagedAndSorted(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	h.group(cloud.GroupInput{Name: "web", DesiredCapacity: 7})
	h.sync()
	all, next, err := h.p.ListInstances(ctx, cloud.InstanceFilter{}, cloud.Page{})
	if err != nil || next != "" || len(all) != 7 {
		t.Fatalf("all: %d, %q, %v", len(all), next, err)
	}
	var paged []cloud.Instance
	page := cloud.Page{MaxResults: 3}
	for {
		is, next, err := h.p.ListInstances(ctx, cloud.InstanceFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, is...)
		if next == "" {
			break
		}
		page.NextToken = next
	}
	if !slices.EqualFunc(all, paged, func(a, b cloud.Instance) bool { return a.ID == b.ID }) {
		t.Errorf("pages %v, all %v", paged, all)
	}
	if _, _, err := h.p.ListInstances(ctx, cloud.InstanceFilter{}, cloud.Page{MaxResults: 5000}); !cloud.IsInvalid(err) {
		t.Errorf("a page of 5000: %v", err)
	}
	if _, _, err := h.p.ListInstances(ctx, cloud.InstanceFilter{}, cloud.Page{NextToken: "!!"}); !cloud.IsInvalid(err) {
		t.Errorf("a made-up token: %v", err)
	}
	// Another cluster sees none of them.
	other := h.c.Provider("other")
	if is, _, _ := other.ListInstances(ctx, cloud.InstanceFilter{}, cloud.Page{}); len(is) != 0 {
		t.Errorf("another cluster lists %d instances", len(is))
	}
	if _, err := other.GetInstance(ctx, all[0].ID); !cloud.IsNotFound(err) {
		t.Errorf("another cluster gets an instance: %v", err)
	}
	if err := other.TerminateInstance(ctx, all[0].ID, false); !cloud.IsNotFound(err) {
		t.Errorf("another cluster terminates an instance: %v", err)
	}
}

func TestRunInstances(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	subnet := h.c.Catalog().PrivateSubnets()[0]
	in := cloud.RunInput{ImageID: h.image("AL2023_x86_64_STANDARD").ID, InstanceType: "t3.medium", SubnetID: subnet.ID, UserData: "pod's node", ClientToken: "pod-uid-1"}
	is, err := h.p.RunInstances(ctx, in)
	if err != nil || len(is) != 1 || is[0].Group != "" || is[0].Zone != subnet.Zone {
		t.Fatalf("run: %+v, %v", is, err)
	}
	again, err := h.p.RunInstances(ctx, in)
	if err != nil || len(again) != 1 || again[0].ID != is[0].ID {
		t.Errorf("the same client token launched again: %+v, %v", again, err)
	}
	if ud, err := h.p.GetUserData(ctx, is[0].ID); err != nil || ud != "pod's node" {
		t.Errorf("user data %q, %v", ud, err)
	}
	h.step(time.Second)
	if got := h.instance(is[0].ID); got.State != cloud.StateRunning || got.LifecycleState != "" {
		t.Errorf("standalone instance %s/%s", got.State, got.LifecycleState)
	}
	if err := h.p.SetCapacity(ctx, "t3.medium", subnet.Zone, 1); err != nil {
		t.Fatal(err)
	}
	in.ClientToken = "pod-uid-2"
	if _, err := h.p.RunInstances(ctx, in); !cloud.IsInsufficientCapacity(err) {
		t.Errorf("beyond capacity: %v", err)
	}
	_, err = h.p.RunInstances(ctx, cloud.RunInput{SubnetID: "subnet-nope", Count: 500})
	for _, w := range []string{"count: must be between 1 and 100", "imageId: is required", "instanceType: is required", `subnetId: unknown subnet "subnet-nope"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want %q", err, w)
		}
	}
	if err := h.p.TerminateInstance(ctx, is[0].ID, false); err != nil {
		t.Fatal(err)
	}
	h.step(time.Second)
	if got := h.instance(is[0].ID); got.State != cloud.StateTerminated {
		t.Errorf("terminated standalone instance: %s", got.State)
	}
}

func TestRunMicroVM(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	subnet := h.c.Catalog().PrivateSubnets()[1]
	size := &cloud.MicroVM{MilliCPU: 250, MemoryMiB: 512, StorageGiB: 20}
	in := cloud.RunInput{ImageID: h.image("AL2023_x86_64_STANDARD").ID, InstanceType: cloud.MicroVMType, MicroVM: size, SubnetID: subnet.ID,
		Tags: map[string]string{cloud.TagMicroVMPod: "uid-1"}, ClientToken: "uid-1"}
	is, err := h.p.RunInstances(ctx, in)
	if err != nil || len(is) != 1 {
		t.Fatalf("run: %+v, %v", is, err)
	}
	vm := is[0]
	if !strings.HasPrefix(vm.PrivateDNSName, "fargate-ip-") || vm.MicroVM == nil || *vm.MicroVM != *size || vm.Tags[cloud.TagMicroVMPod] != "uid-1" {
		t.Errorf("micro-VM %+v", vm)
	}
	// It boots in MicroVMBoot, not in Boot: running at 200 ms, not before.
	h.step(199 * time.Millisecond)
	if got := h.instance(vm.ID); got.State != cloud.StatePending {
		t.Errorf("at 199ms: %s", got.State)
	}
	h.step(time.Millisecond)
	if got := h.instance(vm.ID); got.State != cloud.StateRunning || got.MicroVM == nil {
		t.Errorf("at 200ms: %s %+v", got.State, got.MicroVM)
	}
	if again, err := h.p.RunInstances(ctx, in); err != nil || again[0].ID != vm.ID {
		t.Errorf("the same client token launched again: %+v, %v", again, err)
	}
	for _, c := range []struct {
		in   cloud.RunInput
		want string
	}{
		{cloud.RunInput{ImageID: in.ImageID, InstanceType: cloud.MicroVMType, SubnetID: subnet.ID}, "microVm: is required for instance type fargate"},
		{cloud.RunInput{ImageID: in.ImageID, InstanceType: "t3.medium", MicroVM: size, SubnetID: subnet.ID}, "microVm: is only for instance type fargate, not t3.medium"},
		{cloud.RunInput{ImageID: in.ImageID, InstanceType: cloud.MicroVMType, MicroVM: &cloud.MicroVM{MilliCPU: 32000, MemoryMiB: 512, StorageGiB: 200}, SubnetID: subnet.ID},
			"microVm.milliCpu: must be between 1 and 16000, got 32000; microVm.ephemeralStorageGiB: must be between 20 and 175, got 200"},
	} {
		if _, err := h.p.RunInstances(ctx, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	_, err = h.p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "vm", LaunchTemplateData: cloud.LaunchTemplateData{ImageID: in.ImageID, InstanceType: cloud.MicroVMType}})
	if err == nil || !strings.Contains(err.Error(), "only RunInstances launches it") {
		t.Errorf("a launch template of micro-VMs: %v", err)
	}
}
