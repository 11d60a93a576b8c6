package sim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Scenario is a seeded sequence of faults: the same file against the same
// cluster picks the same instances (by launch order) and replays the same way.
type Scenario struct {
	Seed  uint64 `json:"seed"`
	Steps []Step `json:"steps"`
}

// Step is one fault at a time after the scenario's start. "at" is in
// scenario time: a cluster running with --time-scale N plays it N times
// faster, like every other wait.
type Step struct {
	At            metav1.Duration `json:"at"`
	Capacity      *CapacityFault  `json:"capacity,omitempty"`
	Interrupt     *Pick           `json:"interrupt,omitempty"`
	Rebalance     *Pick           `json:"rebalance,omitempty"`
	FailKubelet   *Pick           `json:"failKubelet,omitempty"`
	Terminate     *Pick           `json:"terminate,omitempty"`
	ZoneOutage    *ZoneOutage     `json:"zoneOutage,omitempty"`
	SpotStorm     *SpotStorm      `json:"spotStorm,omitempty"`
	SlowBoot      *SlowBoot       `json:"slowBoot,omitempty"`
	LaunchFailure *LaunchFailure  `json:"launchFailure,omitempty"`
}

// CapacityFault sets how many instances of a type a zone can hold; -1
// removes the limit.
type CapacityFault struct {
	InstanceType string `json:"instanceType"`
	Zone         string `json:"zone"`
	Available    int    `json:"available"`
}

// Pick chooses Count of a group's live instances, at random (seeded).
type Pick struct {
	Group string `json:"group"`
	Count int    `json:"count"`
}

// ZoneOutage takes a zone down: every instance's kubelet there dies and the
// zone has no capacity left.
type ZoneOutage struct {
	Zone string `json:"zone"`
}

// SpotStorm interrupts a group's spot instances at a rate for a while.
type SpotStorm struct {
	Group         string          `json:"group"`
	RatePerMinute float64         `json:"ratePerMinute"`
	Duration      metav1.Duration `json:"duration"`
}

// SlowBoot makes the instances a group launches for a while boot Delay
// longer.
type SlowBoot struct {
	Group    string          `json:"group"`
	Delay    metav1.Duration `json:"delay"`
	Duration metav1.Duration `json:"duration"`
}

// LaunchFailure makes a fraction of the instances a group launches for a
// while (of a type, in a zone, if given) fail at launch; the group
// replaces them.
type LaunchFailure struct {
	Group        string          `json:"group"`
	InstanceType string          `json:"instanceType,omitempty"`
	Zone         string          `json:"zone,omitempty"`
	Rate         float64         `json:"rate"`
	Duration     metav1.Duration `json:"duration"`
}

// ParseScenario reads and checks a scenario, naming the field at fault.
func ParseScenario(data []byte) (*Scenario, error) {
	sc := &Scenario{}
	if err := yaml.UnmarshalStrict(data, sc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(sc.Steps) == 0 {
		return nil, fmt.Errorf("scenario: steps: at least one step is required")
	}
	for i, st := range sc.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		actions := 0
		for _, set := range []bool{st.Capacity != nil, st.Interrupt != nil, st.Rebalance != nil, st.FailKubelet != nil, st.Terminate != nil, st.ZoneOutage != nil, st.SpotStorm != nil, st.SlowBoot != nil, st.LaunchFailure != nil} {
			if set {
				actions++
			}
		}
		if actions != 1 {
			return nil, fmt.Errorf("scenario: %s: must have exactly one action (capacity, interrupt, rebalance, failKubelet, terminate, zoneOutage, spotStorm, slowBoot, launchFailure), has %d", field, actions)
		}
		if st.At.Duration < 0 {
			return nil, fmt.Errorf("scenario: %s.at: must not be negative", field)
		}
		for name, p := range map[string]*Pick{"interrupt": st.Interrupt, "rebalance": st.Rebalance, "failKubelet": st.FailKubelet, "terminate": st.Terminate} {
			if p != nil && (p.Group == "" || p.Count < 1) {
				return nil, fmt.Errorf("scenario: %s.%s: group is required and count must be at least 1", field, name)
			}
		}
		if c := st.Capacity; c != nil && (c.InstanceType == "" || c.Zone == "" || c.Available < -1) {
			return nil, fmt.Errorf("scenario: %s.capacity: instanceType and zone are required, available must be -1 (unlimited) or more", field)
		}
		if z := st.ZoneOutage; z != nil && z.Zone == "" {
			return nil, fmt.Errorf("scenario: %s.zoneOutage.zone: required", field)
		}
		if s := st.SpotStorm; s != nil && (s.Group == "" || s.RatePerMinute <= 0 || s.RatePerMinute > 600 || s.Duration.Duration <= 0) {
			return nil, fmt.Errorf("scenario: %s.spotStorm: group is required, ratePerMinute must be in (0, 600] and duration positive", field)
		}
		if s := st.SlowBoot; s != nil && (s.Group == "" || s.Delay.Duration <= 0 || s.Duration.Duration <= 0) {
			return nil, fmt.Errorf("scenario: %s.slowBoot: group is required, delay and duration must be positive", field)
		}
		if l := st.LaunchFailure; l != nil && (l.Group == "" || !(l.Rate > 0 && l.Rate <= 1) || l.Duration.Duration <= 0) {
			return nil, fmt.Errorf("scenario: %s.launchFailure: group is required, rate must be in (0, 1] and duration positive", field)
		}
	}
	return sc, nil
}

// action is one thing the runner does at a time.
type action struct {
	at   time.Duration
	step int
	run  func(ctx context.Context, rng *rand.Rand) (string, error)
	name string
}

// RunScenario plays a scenario against the provider's cloud, printing each
// action as it happens and, at the end, every group's instances by state.
func (p *Provider) RunScenario(ctx context.Context, sc *Scenario, out io.Writer) error {
	var actions []action
	for i, st := range sc.Steps {
		at := st.At.Duration
		switch {
		case st.Capacity != nil:
			c := *st.Capacity
			actions = append(actions, action{at: at, step: i, name: "capacity", run: func(ctx context.Context, _ *rand.Rand) (string, error) {
				return fmt.Sprintf("%s in %s: %d available", c.InstanceType, c.Zone, c.Available), p.SetCapacity(ctx, c.InstanceType, c.Zone, c.Available)
			}})
		case st.Interrupt != nil:
			actions = append(actions, p.pickAction(at, i, "interrupt", *st.Interrupt, p.Interrupt))
		case st.Rebalance != nil:
			actions = append(actions, p.pickAction(at, i, "rebalance", *st.Rebalance, p.Rebalance))
		case st.FailKubelet != nil:
			actions = append(actions, p.pickAction(at, i, "failKubelet", *st.FailKubelet, p.FailKubelet))
		case st.Terminate != nil:
			actions = append(actions, p.pickAction(at, i, "terminate", *st.Terminate, func(ctx context.Context, id string) error {
				return p.TerminateInstance(ctx, id, false)
			}))
		case st.ZoneOutage != nil:
			zone := st.ZoneOutage.Zone
			actions = append(actions, action{at: at, step: i, name: "zoneOutage", run: func(ctx context.Context, _ *rand.Rand) (string, error) {
				return p.zoneOutage(ctx, zone)
			}})
		case st.SpotStorm != nil:
			s := *st.SpotStorm
			every := time.Duration(float64(time.Minute) / s.RatePerMinute)
			for t := time.Duration(0); t < s.Duration.Duration; t += every {
				a := p.pickAction(at+t, i, "spotStorm", Pick{Group: s.Group, Count: 1}, p.Interrupt)
				actions = append(actions, a)
			}
		case st.SlowBoot != nil:
			actions = append(actions, p.slowBootActions(at, i, *st.SlowBoot)...)
		case st.LaunchFailure != nil:
			actions = append(actions, p.launchFailureActions(at, i, *st.LaunchFailure)...)
		}
	}
	sort.SliceStable(actions, func(a, b int) bool { return actions[a].at < actions[b].at })

	for i, st := range sc.Steps { // names the catalogue must know, checked before anything happens
		zone := ""
		if st.Capacity != nil {
			if _, ok := p.catalog.InstanceType(st.Capacity.InstanceType); !ok {
				return fmt.Errorf("scenario: steps[%d].capacity.instanceType: unknown instance type %q", i, st.Capacity.InstanceType)
			}
			zone = st.Capacity.Zone
		}
		if st.ZoneOutage != nil {
			zone = st.ZoneOutage.Zone
		}
		if l := st.LaunchFailure; l != nil {
			if _, ok := p.catalog.InstanceType(l.InstanceType); l.InstanceType != "" && !ok {
				return fmt.Errorf("scenario: steps[%d].launchFailure.instanceType: unknown instance type %q", i, l.InstanceType)
			}
			zone = l.Zone
		}
		if _, ok := catalogZone(p.catalog, zone); zone != "" && !ok {
			return fmt.Errorf("scenario: steps[%d]: unknown zone %q", i, zone)
		}
	}
	start := p.clock.Now()
	rngs := map[int]*rand.Rand{}
	failed := 0
	for _, a := range actions {
		if wait := p.timing.Scale.Of(a.at) - p.clock.Since(start); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-p.clock.After(wait):
			}
		}
		rng := rngs[a.step]
		if rng == nil {
			rng = rand.New(rand.NewPCG(sc.Seed, uint64(a.step)))
			rngs[a.step] = rng
		}
		what, err := a.run(ctx, rng)
		if err != nil {
			fmt.Fprintf(out, "[%6s] step %d %s: failed: %v\n", a.at, a.step, a.name, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "[%6s] step %d %s: %s\n", a.at, a.step, a.name, what)
	}
	if err := p.report(ctx, out); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenario actions failed", failed, len(actions))
	}
	return nil
}

// pickAction applies fn to Count instances of a group, chosen with the
// step's seeded generator among its live instances in launch order.
func (p *Provider) pickAction(at time.Duration, step int, name string, pick Pick, fn func(context.Context, string) error) action {
	return action{at: at, step: step, name: name, run: func(ctx context.Context, rng *rand.Rand) (string, error) {
		all, err := p.ListInstances(ctx, cloud.InstanceFilter{Group: pick.Group})
		if err != nil {
			return "", err
		}
		var live []cloud.Instance
		for _, i := range all {
			if i.State != cloud.StateRunning || i.LifecycleState == "Terminating:Wait" {
				continue
			}
			inst := &simv1.Instance{}
			if err := p.client.Get(ctx, client.ObjectKey{Name: i.ID}, inst); err != nil || inst.Spec.TerminationRequested != nil ||
				inst.Spec.SpotInterruptionTime != nil || inst.Spec.KubeletFailed {
				continue // already on its way out, or already hit
			}
			live = append(live, i)
		}
		if len(live) == 0 {
			return "", fmt.Errorf("group %s has no running instance", pick.Group)
		}
		var done []string
		for range min(pick.Count, len(live)) {
			k := rng.IntN(len(live))
			id := live[k].ID
			live = slices.Delete(live, k, k+1)
			if err := fn(ctx, id); err != nil {
				return strings.Join(done, ", "), err
			}
			done = append(done, id)
		}
		return pick.Group + ": " + strings.Join(done, ", "), nil
	}}
}

// slowBootActions start a slow-boot window and, when it ends, report the
// launches it slowed.
func (p *Provider) slowBootActions(at time.Duration, step int, s SlowBoot) []action {
	var from time.Time
	return []action{
		{at: at, step: step, name: "slowBoot", run: func(ctx context.Context, _ *rand.Rand) (string, error) {
			now := p.clock.Now()
			if err := p.SetSlowBoot(ctx, s.Group, s.Delay.Duration, s.Duration.Duration); err != nil {
				return "", err
			}
			from = now
			return fmt.Sprintf("%s: instances launched in the next %s boot %s slower", s.Group, s.Duration.Duration, s.Delay.Duration), nil
		}},
		{at: at + s.Duration.Duration, step: step, name: "slowBoot", run: func(ctx context.Context, _ *rand.Rand) (string, error) {
			if from.IsZero() {
				return "", fmt.Errorf("%s: the fault was never in effect", s.Group)
			}
			_, slow, err := p.launchedSince(ctx, s.Group, from, func(inst *simv1.Instance) (bool, bool) { return true, inst.Spec.BootDelay != nil })
			return fmt.Sprintf("%s: over: %d launches booted slow", s.Group, slow), err
		}},
	}
}

// launchFailureActions start a launch-failure window, seeded from the
// step's generator, and, when it ends, report the launches that failed.
func (p *Provider) launchFailureActions(at time.Duration, step int, l LaunchFailure) []action {
	in := LaunchFailureInput{InstanceType: l.InstanceType, Zone: l.Zone, Rate: l.Rate, Duration: l.Duration.Duration}
	var from time.Time
	return []action{
		{at: at, step: step, name: "launchFailure", run: func(ctx context.Context, rng *rand.Rand) (string, error) {
			now := p.clock.Now()
			in.Seed = rng.Uint64()
			if err := p.SetLaunchFailure(ctx, l.Group, in); err != nil {
				return "", err
			}
			from = now
			return fmt.Sprintf("%s: %s fail for %s", l.Group, in, in.Duration), nil
		}},
		{at: at + l.Duration.Duration, step: step, name: "launchFailure", run: func(ctx context.Context, _ *rand.Rand) (string, error) {
			if from.IsZero() {
				return "", fmt.Errorf("%s: the fault was never in effect", l.Group)
			}
			zone, _ := catalogZone(p.catalog, l.Zone)
			launched, failed, err := p.launchedSince(ctx, l.Group, from, func(inst *simv1.Instance) (bool, bool) {
				match := (l.InstanceType == "" || inst.Spec.InstanceType == l.InstanceType) && (l.Zone == "" || inst.Spec.Zone == zone)
				return match, inst.Spec.LaunchFailure != ""
			})
			return fmt.Sprintf("%s: over: %d of %d launches failed", l.Group, failed, launched), err
		}},
	}
}

// launchedSince counts the group's instances launched since from that
// classify says count, and those among them it says were hit. Terminated
// instances count until their records go (an hour, scaled).
func (p *Provider) launchedSince(ctx context.Context, group string, from time.Time, classify func(*simv1.Instance) (count, hit bool)) (int, int, error) {
	var list simv1.InstanceList
	if err := p.client.List(ctx, &list, client.MatchingLabels{simv1.LabelGroup: group}); err != nil {
		return 0, 0, err
	}
	counted, hit := 0, 0
	for i := range list.Items {
		inst := &list.Items[i]
		if launchTime(inst).Before(from) {
			continue
		}
		if c, h := classify(inst); c {
			counted++
			if h {
				hit++
			}
		}
	}
	return counted, hit, nil
}

func (p *Provider) zoneOutage(ctx context.Context, zone string) (string, error) {
	zone, ok := catalogZone(p.catalog, zone)
	if !ok {
		return "", cloud.Invalid("zone", "unknown zone %q", zone)
	}
	for _, t := range p.catalog.InstanceTypes() {
		if err := p.SetCapacity(ctx, t.Name, zone, 0); err != nil {
			return "", err
		}
	}
	all, err := p.ListInstances(ctx, cloud.InstanceFilter{})
	if err != nil {
		return "", err
	}
	failed := 0
	for _, i := range all {
		if i.Zone == zone && (i.State == cloud.StateRunning || i.State == cloud.StatePending) {
			if err := p.FailKubelet(ctx, i.ID); err != nil {
				return "", err
			}
			failed++
		}
	}
	return fmt.Sprintf("%s down: no capacity, %d kubelets dead", zone, failed), nil
}

func (p *Provider) report(ctx context.Context, out io.Writer) error {
	all, err := p.ListInstances(ctx, cloud.InstanceFilter{})
	if err != nil {
		return err
	}
	counts := map[string]map[string]int{}
	var groups []string
	for _, i := range all {
		g := i.Group
		if g == "" {
			g = "(no group)"
		}
		if counts[g] == nil {
			counts[g] = map[string]int{}
			groups = append(groups, g)
		}
		counts[g][i.State]++
	}
	sort.Strings(groups)
	fmt.Fprintln(out, "instances by group and state:")
	for _, g := range groups {
		var parts []string
		for _, s := range []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown, cloud.StateTerminated} {
			if n := counts[g][s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, s))
			}
		}
		fmt.Fprintf(out, "  %s: %s\n", g, strings.Join(parts, ", "))
	}
	return nil
}
