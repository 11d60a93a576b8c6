package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// A scenario runs inside the cloud, in its loop: its run is a record like
// any other, so a restart resumes it at its next action, and a client that
// started it may go away without leaving a fault half applied.

// Scenario states.
const (
	ScenarioRunning   = "Running"
	ScenarioSucceeded = "Succeeded"
	ScenarioFailed    = "Failed"
	ScenarioStopped   = "Stopped"
)

// scenarioRun is a scenario being played, or played.
type scenarioRun struct {
	ID      string            `json:"id"`
	Cluster string            `json:"cluster"`
	Spec    scenario.Scenario `json:"spec"`
	Start   time.Time         `json:"start"`
	// Next is the plan's next action; Failed counts the actions that failed.
	Next   int        `json:"next"`
	Failed int        `json:"failed"`
	State  string     `json:"state"`
	Ended  *time.Time `json:"ended,omitempty"`
	Log    []string   `json:"log"`
	// Windows are when each slow-boot or launch-failure step's window
	// began, by step, for its report.
	Windows map[int]time.Time `json:"windows,omitempty"`
}

// ScenarioStatus is a scenario's progress: what it did so far, line by
// line, and how it ended.
type ScenarioStatus struct {
	ID      string     `json:"id"`
	State   string     `json:"state"`
	Seed    uint64     `json:"seed"`
	Started time.Time  `json:"startTime"`
	Ended   *time.Time `json:"endTime,omitempty"`
	Actions int        `json:"actions"`
	Done    int        `json:"done"`
	Failed  int        `json:"failed"`
	Log     []string   `json:"log"`
}

func (r *scenarioRun) status() ScenarioStatus {
	return ScenarioStatus{ID: r.ID, State: r.State, Seed: r.Spec.Seed, Started: r.Start, Ended: r.Ended,
		Actions: len(r.Spec.Plan()), Done: r.Next, Failed: r.Failed, Log: slices.Clone(r.Log)}
}

// StartScenario implements Faults.
func (p *Provider) StartScenario(_ context.Context, sc *scenario.Scenario) (*ScenarioStatus, error) {
	if err := sc.Check(p.c.catalog); err != nil {
		return nil, err
	}
	var out ScenarioStatus
	err := p.c.do(func(tx *txn) error {
		for _, id := range sortedKeys(p.c.st.scenarios) {
			if r := p.c.st.scenarios[id]; r.Cluster == p.cluster && r.State == ScenarioRunning {
				return &cloud.ResourceInUseError{Kind: "scenario", Name: r.ID, Message: "it is still running: stop it first (kdp sim scenario stop)"}
			}
		}
		r := &scenarioRun{ID: tx.id("sc-", 12), Cluster: p.cluster, Spec: *sc, Start: tx.now, State: ScenarioRunning, Windows: map[int]time.Time{}}
		p.c.st.scenarios[r.ID] = r
		tx.put(bucketScenarios, r.ID, r)
		p.c.stepScenario(tx, r)
		out = r.status()
		p.c.log.Info("scenario started", "scenario", r.ID, "seed", sc.Seed, "actions", out.Actions)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ScenarioStatus implements Faults.
func (p *Provider) ScenarioStatus(_ context.Context, id string) (*ScenarioStatus, error) {
	var out ScenarioStatus
	err := p.read(func(st *state) error {
		r := p.scenario(id)
		if r == nil {
			return &cloud.NotFoundError{Kind: "scenario", Name: id}
		}
		out = r.status()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// scenario finds a scenario of the cluster, or its newest for "".
func (p *Provider) scenario(id string) *scenarioRun {
	var found *scenarioRun
	for _, r := range p.c.st.scenarios {
		if r.Cluster != p.cluster || (id != "" && r.ID != id) {
			continue
		}
		if found == nil || r.Start.After(found.Start) || (r.Start.Equal(found.Start) && r.ID > found.ID) {
			found = r
		}
	}
	return found
}

// StopScenario implements Faults.
func (p *Provider) StopScenario(_ context.Context, id string) (*ScenarioStatus, error) {
	var out ScenarioStatus
	err := p.c.do(func(tx *txn) error {
		r := p.scenario(id)
		if r == nil {
			return &cloud.NotFoundError{Kind: "scenario", Name: id}
		}
		if r.State == ScenarioRunning {
			for _, a := range r.Spec.Plan()[r.Next:] {
				g := p.c.st.groups[a.Pick.Group]
				if _, opened := r.Windows[a.Step]; !opened || g == nil || g.Cluster != p.cluster {
					continue
				}
				switch a.Kind {
				case scenario.KindSlowBootEnd:
					p.c.setSlowBoot(tx, g, 0, 0)
				case scenario.KindLaunchFailureEnd:
					p.c.setLaunchFailure(tx, g, LaunchFailure{})
				}
			}
			limits := p.c.capacityLimits()
			if len(limits) > 0 {
				r.Log = append(r.Log, "stopped; capacity limits stay (lift them with kdp sim capacity --unlimited): "+strings.Join(limits, ", "))
			} else {
				r.Log = append(r.Log, "stopped")
			}
			p.c.endScenario(tx, r, ScenarioStopped)
		}
		out = r.status()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Cloud) capacityLimits() []string {
	var out []string
	for _, k := range sortedKeys(c.st.capacity) {
		t, z, _ := strings.Cut(k, "_")
		out = append(out, fmt.Sprintf("%s in %s: %d", t, z, c.st.capacity[k]))
	}
	return out
}

// scenarioDue is when a running scenario is next due: its next action's
// time, or (all done, not yet ended: a restart in between) its start.
func (c *Cloud) scenarioDue(r *scenarioRun) (time.Time, bool) {
	if r.State != ScenarioRunning {
		return time.Time{}, false
	}
	plan := r.Spec.Plan()
	if r.Next >= len(plan) {
		return r.Start, true
	}
	return r.Start.Add(c.timing.Scale.Of(plan[r.Next].At)), true
}

// stepScenario runs the scenario's actions that are due, in order, and
// queues the next; once none is left it reports and ends.
func (c *Cloud) stepScenario(tx *txn, r *scenarioRun) {
	if r.State != ScenarioRunning {
		return
	}
	plan := r.Spec.Plan()
	for r.Next < len(plan) {
		a := plan[r.Next]
		if tx.now.Before(r.Start.Add(c.timing.Scale.Of(a.At))) {
			break
		}
		what, err := c.runAction(tx, r, a)
		name := strings.TrimSuffix(a.Kind, "End") // the end of a window reports as its step
		line := fmt.Sprintf("[%6s] step %d %s: %s", a.At, a.Step, name, what)
		if err != nil {
			line = fmt.Sprintf("[%6s] step %d %s: failed: %v", a.At, a.Step, name, err)
			r.Failed++
		}
		r.Log = append(r.Log, line)
		r.Next++
		tx.put(bucketScenarios, r.ID, r)
	}
	if r.Next < len(plan) {
		at, _ := c.scenarioDue(r)
		c.queue.add(wakeScenario, r.ID, at)
		return
	}
	r.Log = append(r.Log, c.report(r.Cluster)...)
	state := ScenarioSucceeded
	if r.Failed > 0 {
		state = ScenarioFailed
		r.Log = append(r.Log, fmt.Sprintf("%d of %d scenario actions failed", r.Failed, len(plan)))
	}
	c.endScenario(tx, r, state)
}

func (c *Cloud) endScenario(tx *txn, r *scenarioRun, state string) {
	now := tx.now
	r.State, r.Ended = state, &now
	tx.put(bucketScenarios, r.ID, r)
	c.log.Info("scenario ended", "scenario", r.ID, "state", state, "failed", r.Failed)
}

// runAction does one action of a scenario and says what it did.
func (c *Cloud) runAction(tx *txn, r *scenarioRun, a scenario.Action) (string, error) {
	st := r.Spec.Steps[a.Step]
	rng := r.Spec.Rand(a)
	if r.Windows == nil {
		r.Windows = map[int]time.Time{}
	}
	groupOf := func(name string) (*group, error) {
		g := c.st.groups[name]
		if g == nil || g.Cluster != r.Cluster {
			return nil, &cloud.NotFoundError{Kind: "auto scaling group", Name: name}
		}
		return g, nil
	}
	switch a.Kind {
	case scenario.KindCapacity:
		cp := st.Capacity
		zone, _ := c.catalog.Zone(cp.Zone)
		c.setCapacity(tx, cp.InstanceType, zone, cp.Available)
		return fmt.Sprintf("%s in %s: %d available", cp.InstanceType, zone, cp.Available), nil
	case scenario.KindZoneOutage:
		zone, _ := c.catalog.Zone(st.ZoneOutage.Zone)
		n := c.zoneOutage(tx, zone)
		return fmt.Sprintf("%s down: no capacity, %d kubelets dead", zone, n), nil
	case scenario.KindInterrupt, scenario.KindSpotStorm, scenario.KindRebalance, scenario.KindFailKubelet, scenario.KindTerminate:
		if _, err := groupOf(a.Pick.Group); err != nil {
			return "", err
		}
		live := c.pickable(a.Pick.Group)
		if len(live) == 0 {
			return "", fmt.Errorf("group %s has no running instance", a.Pick.Group)
		}
		var done []string
		for range min(a.Pick.Count, len(live)) {
			k := rng.IntN(len(live))
			i := live[k]
			live = slices.Delete(live, k, k+1)
			switch a.Kind {
			case scenario.KindInterrupt, scenario.KindSpotStorm:
				if i.Lifecycle != cloud.Spot {
					return strings.Join(done, ", "), cloud.Invalid("instanceId", "%s is %s: only spot instances get interruption notices", i.ID, i.Lifecycle)
				}
				c.interrupt(tx, i)
			case scenario.KindRebalance:
				if i.Lifecycle != cloud.Spot {
					return strings.Join(done, ", "), cloud.Invalid("instanceId", "%s is %s: only spot instances get rebalance recommendations", i.ID, i.Lifecycle)
				}
				c.rebalance(tx, i)
			case scenario.KindFailKubelet:
				c.failKubelet(tx, i)
			case scenario.KindTerminate:
				c.requestTermination(tx, i, termination{why: UserRequestReason, cause: "instance " + i.ID + " was taken out of service in response to a user request"})
			}
			done = append(done, i.ID)
		}
		return a.Pick.Group + ": " + strings.Join(done, ", "), nil
	case scenario.KindSlowBoot:
		s := st.SlowBoot
		g, err := groupOf(s.Group)
		if err != nil {
			return "", err
		}
		c.setSlowBoot(tx, g, s.Delay.Duration, s.Duration.Duration)
		r.Windows[a.Step] = tx.now
		return fmt.Sprintf("%s: instances launched in the next %s boot %s slower", s.Group, s.Duration.Duration, s.Delay.Duration), nil
	case scenario.KindSlowBootEnd:
		g, err := groupOf(st.SlowBoot.Group)
		if _, opened := r.Windows[a.Step]; err != nil || !opened {
			return "", fmt.Errorf("%s: the fault was never in effect", st.SlowBoot.Group)
		}
		slowed := 0
		if sb := g.Faults.SlowBoot; sb != nil {
			slowed = sb.Slowed
		}
		return fmt.Sprintf("%s: over: %d launches booted slow", st.SlowBoot.Group, slowed), nil
	case scenario.KindLaunchFailure:
		l := st.LaunchFailure
		g, err := groupOf(l.Group)
		if err != nil {
			return "", err
		}
		zone, _ := c.catalog.Zone(l.Zone)
		if l.Zone == "" {
			zone = ""
		}
		in := LaunchFailure{InstanceType: l.InstanceType, Zone: zone, Rate: l.Rate, Duration: l.Duration.Duration, Seed: rng.Uint64()}
		c.setLaunchFailure(tx, g, in)
		r.Windows[a.Step] = tx.now
		return fmt.Sprintf("%s: %s fail for %s", l.Group, in, in.Duration), nil
	case scenario.KindLaunchFailureEnd:
		g, err := groupOf(st.LaunchFailure.Group)
		if _, opened := r.Windows[a.Step]; err != nil || !opened {
			return "", fmt.Errorf("%s: the fault was never in effect", st.LaunchFailure.Group)
		}
		matched, failed := 0, 0
		if lf := g.Faults.LaunchFailure; lf != nil {
			matched, failed = lf.Matched, lf.Failed
		}
		return fmt.Sprintf("%s: over: %d of %d launches failed", st.LaunchFailure.Group, failed, matched), nil
	}
	return "", fmt.Errorf("unknown action %q", a.Kind)
}

// pickable are the group's instances a scenario may hit, in launch order:
// running, in service or on the way there, not already on their way out or
// hit.
func (c *Cloud) pickable(name string) []*instance {
	var out []*instance
	g := c.st.groups[name]
	if g == nil {
		return nil
	}
	for _, i := range c.st.byGroup[g.ID] {
		if i.State == cloud.StateRunning && !i.leaving() && i.LifecycleState != cloud.LifecycleTerminatingWait &&
			i.SpotInterruptAt == nil && !i.KubeletFailed {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, launchOrder)
	return out
}

// report lists every group's instances by state, for a scenario's end.
func (c *Cloud) report(cluster string) []string {
	counts := map[string]map[string]int{}
	for _, i := range c.st.instances {
		if i.Cluster != cluster {
			continue
		}
		g := i.Group
		if g == "" {
			g = "(no group)"
		}
		if counts[g] == nil {
			counts[g] = map[string]int{}
		}
		counts[g][i.State]++
	}
	lines := []string{"instances by group and state:"}
	for _, g := range sortedKeys(counts) {
		var parts []string
		for _, s := range []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown, cloud.StateTerminated} {
			if n := counts[g][s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, s))
			}
		}
		lines = append(lines, fmt.Sprintf("  %s: %s", g, strings.Join(parts, ", ")))
	}
	return lines
}
