// Package scenario reads fault scenarios and plans them: a seeded sequence
// of faults at times, as data. The simulated cloud plays the plan in its own
// loop (so a client that goes away leaves nothing half done), drawing each
// action's picks from the scenario's seed, so the same scenario against the
// same cloud replays the same way.
package scenario

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Scenario is a seeded sequence of faults.
type Scenario struct {
	Seed  uint64 `json:"seed"`
	Steps []Step `json:"steps"`
}

// Step is one fault at a time after the scenario's start. "at" is in
// scenario time: a cloud running with --time-scale N plays it N times
// faster, like every other wait.
type Step struct {
	At            metav1.Duration `json:"at"`
	Capacity      *Capacity       `json:"capacity,omitempty"`
	Interrupt     *Pick           `json:"interrupt,omitempty"`
	Rebalance     *Pick           `json:"rebalance,omitempty"`
	FailKubelet   *Pick           `json:"failKubelet,omitempty"`
	Terminate     *Pick           `json:"terminate,omitempty"`
	ZoneOutage    *ZoneOutage     `json:"zoneOutage,omitempty"`
	SpotStorm     *SpotStorm      `json:"spotStorm,omitempty"`
	SlowBoot      *SlowBoot       `json:"slowBoot,omitempty"`
	LaunchFailure *LaunchFailure  `json:"launchFailure,omitempty"`
}

// Capacity sets how many instances of a type a zone can hold; -1 removes
// the limit.
type Capacity struct {
	InstanceType string `json:"instanceType"`
	Zone         string `json:"zone"`
	Available    int    `json:"available"`
}

// Pick chooses Count of a group's running instances, at random (seeded).
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

// actions lists what a step may do, for the error that says so.
const actions = "capacity, interrupt, rebalance, failKubelet, terminate, zoneOutage, spotStorm, slowBoot, launchFailure"

// Catalog is what the names a scenario uses are checked against.
type Catalog interface {
	HasInstanceType(name string) bool
	HasZone(name string) bool
}

// Parse reads a scenario and checks it (Check).
func Parse(data []byte, cat Catalog) (*Scenario, error) {
	sc := &Scenario{}
	if err := yaml.UnmarshalStrict(data, sc); err != nil {
		return nil, cloud.Invalid("scenario", "%v", err)
	}
	if err := sc.Check(cat); err != nil {
		return nil, err
	}
	return sc, nil
}

// Check checks a scenario, and with a catalogue (nil: none) the instance
// types and zones it names, reporting every problem at once, each naming
// its field (steps[2].interrupt.count).
func (sc *Scenario) Check(cat Catalog) error {
	var ps cloud.Problems
	if len(sc.Steps) == 0 {
		ps.Add("steps", "at least one step is required")
	}
	for i, st := range sc.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		set := 0
		for _, ok := range []bool{st.Capacity != nil, st.Interrupt != nil, st.Rebalance != nil, st.FailKubelet != nil,
			st.Terminate != nil, st.ZoneOutage != nil, st.SpotStorm != nil, st.SlowBoot != nil, st.LaunchFailure != nil} {
			if ok {
				set++
			}
		}
		if set != 1 {
			ps.Add(f, "must have exactly one action (%s), has %d", actions, set)
		}
		if st.At.Duration < 0 {
			ps.Add(f+".at", "must not be negative, got %s", st.At.Duration)
		}
		for _, pick := range []struct {
			name string
			p    *Pick
		}{{"interrupt", st.Interrupt}, {"rebalance", st.Rebalance}, {"failKubelet", st.FailKubelet}, {"terminate", st.Terminate}} {
			name, p := pick.name, pick.p
			if p == nil {
				continue
			}
			if p.Group == "" {
				ps.Add(f+"."+name+".group", "is required")
			}
			if p.Count < 1 {
				ps.Add(f+"."+name+".count", "must be at least 1, got %d", p.Count)
			}
		}
		if c := st.Capacity; c != nil {
			required(&ps, f+".capacity.instanceType", c.InstanceType)
			required(&ps, f+".capacity.zone", c.Zone)
			known(&ps, cat, f+".capacity", c.InstanceType, c.Zone)
			if c.Available < -1 {
				ps.Add(f+".capacity.available", "must be -1 (unlimited) or more, got %d", c.Available)
			}
		}
		if z := st.ZoneOutage; z != nil {
			required(&ps, f+".zoneOutage.zone", z.Zone)
			known(&ps, cat, f+".zoneOutage", "", z.Zone)
		}
		if s := st.SpotStorm; s != nil {
			required(&ps, f+".spotStorm.group", s.Group)
			if s.RatePerMinute <= 0 || s.RatePerMinute > 600 {
				ps.Add(f+".spotStorm.ratePerMinute", "must be more than 0 and at most 600, got %g", s.RatePerMinute)
			}
			positive(&ps, f+".spotStorm.duration", s.Duration.Duration)
		}
		if s := st.SlowBoot; s != nil {
			required(&ps, f+".slowBoot.group", s.Group)
			positive(&ps, f+".slowBoot.delay", s.Delay.Duration)
			positive(&ps, f+".slowBoot.duration", s.Duration.Duration)
		}
		if l := st.LaunchFailure; l != nil {
			required(&ps, f+".launchFailure.group", l.Group)
			known(&ps, cat, f+".launchFailure", l.InstanceType, l.Zone)
			if !(l.Rate > 0 && l.Rate <= 1) {
				ps.Add(f+".launchFailure.rate", "must be more than 0 and at most 1 (every launch fails), got %g", l.Rate)
			}
			positive(&ps, f+".launchFailure.duration", l.Duration.Duration)
		}
	}
	return ps.Err()
}

// known checks the names a step gives (when it gives them) against the
// catalogue.
func known(ps *cloud.Problems, cat Catalog, field, instanceType, zone string) {
	if cat == nil {
		return
	}
	if instanceType != "" && !cat.HasInstanceType(instanceType) {
		ps.Add(field+".instanceType", "unknown instance type %q (see kdp sim instance-types)", instanceType)
	}
	if zone != "" && !cat.HasZone(zone) {
		ps.Add(field+".zone", "unknown zone %q (see kdp sim subnets)", zone)
	}
}

func required(ps *cloud.Problems, field, v string) {
	if v == "" {
		ps.Add(field, "is required")
	}
}

func positive(ps *cloud.Problems, field string, d time.Duration) {
	if d <= 0 {
		ps.Add(field, "must be positive, got %s", d)
	}
}

// Kinds of actions.
const (
	KindCapacity         = "capacity"
	KindInterrupt        = "interrupt"
	KindRebalance        = "rebalance"
	KindFailKubelet      = "failKubelet"
	KindTerminate        = "terminate"
	KindZoneOutage       = "zoneOutage"
	KindSpotStorm        = "spotStorm"
	KindSlowBoot         = "slowBoot"
	KindSlowBootEnd      = "slowBootEnd"
	KindLaunchFailure    = "launchFailure"
	KindLaunchFailureEnd = "launchFailureEnd"
)

// Action is one thing a scenario does, at a time after its start.
type Action struct {
	// At is in scenario time.
	At time.Duration
	// Step is the step it comes from, Index its place in the plan.
	Step, Index int
	Kind        string
	// Pick, for the actions that pick instances: the group and how many.
	Pick Pick
}

// Plan lists a scenario's actions in the order they happen (by time, then
// by step). A spot storm is an interruption at every 1/rate minutes of its
// duration; a slow boot and a launch failure end (and report) at the end of
// their window.
func (sc *Scenario) Plan() []Action {
	var out []Action
	add := func(at time.Duration, step int, kind string, pick Pick) {
		out = append(out, Action{At: at, Step: step, Kind: kind, Pick: pick})
	}
	for i, st := range sc.Steps {
		at := st.At.Duration
		switch {
		case st.Capacity != nil:
			add(at, i, KindCapacity, Pick{})
		case st.Interrupt != nil:
			add(at, i, KindInterrupt, *st.Interrupt)
		case st.Rebalance != nil:
			add(at, i, KindRebalance, *st.Rebalance)
		case st.FailKubelet != nil:
			add(at, i, KindFailKubelet, *st.FailKubelet)
		case st.Terminate != nil:
			add(at, i, KindTerminate, *st.Terminate)
		case st.ZoneOutage != nil:
			add(at, i, KindZoneOutage, Pick{})
		case st.SpotStorm != nil:
			every := time.Duration(float64(time.Minute) / st.SpotStorm.RatePerMinute)
			for t := time.Duration(0); t < st.SpotStorm.Duration.Duration; t += every {
				add(at+t, i, KindSpotStorm, Pick{Group: st.SpotStorm.Group, Count: 1})
			}
		case st.SlowBoot != nil:
			add(at, i, KindSlowBoot, Pick{Group: st.SlowBoot.Group})
			add(at+st.SlowBoot.Duration.Duration, i, KindSlowBootEnd, Pick{Group: st.SlowBoot.Group})
		case st.LaunchFailure != nil:
			add(at, i, KindLaunchFailure, Pick{Group: st.LaunchFailure.Group})
			add(at+st.LaunchFailure.Duration.Duration, i, KindLaunchFailureEnd, Pick{Group: st.LaunchFailure.Group})
		}
	}
	slices.SortStableFunc(out, func(a, b Action) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Step, b.Step)
	})
	for i := range out {
		out[i].Index = i
	}
	return out
}

// Rand is an action's source of randomness: seeded with the scenario's
// seed and the action's place in the plan, so an action draws the same
// whenever it runs, a resumed scenario too.
func (sc *Scenario) Rand(a Action) *rand.Rand {
	return rand.New(rand.NewPCG(sc.Seed, uint64(a.Step)<<32|uint64(a.Index)))
}
