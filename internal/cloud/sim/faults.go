package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

// The faults below are the simulated cloud's own, for people testing how
// their workloads and kdp cope; a real provider has no such methods.

// Interrupt sends a spot instance its interruption notice: it is
// terminated when the notice (2 minutes, scaled) runs out.
func (p *Provider) Interrupt(ctx context.Context, id string) error {
	return p.patchInstance(ctx, id, true, func(inst *simv1.Instance) {
		if inst.Spec.SpotInterruptionTime == nil {
			at := metav1.NewTime(p.clock.Now().Add(p.timing.SpotNotice))
			inst.Spec.SpotInterruptionTime = &at
		}
	})
}

// Rebalance sends a spot instance a rebalance recommendation.
func (p *Provider) Rebalance(ctx context.Context, id string) error {
	return p.patchInstance(ctx, id, true, func(inst *simv1.Instance) {
		if inst.Spec.RebalanceRecommended == nil {
			now := metav1.NewTime(p.clock.Now())
			inst.Spec.RebalanceRecommended = &now
		}
	})
}

// ScheduleRetirement schedules maintenance that retires the instance after
// in: an AWS Health event announces it now, and at that time the instance
// is terminated (through its group's terminating hooks) and replaced.
func (p *Provider) ScheduleRetirement(ctx context.Context, id string, in time.Duration) error {
	if in <= 0 {
		return cloud.Invalid("in", "must be positive, got %s", in)
	}
	return p.patchInstance(ctx, id, false, func(inst *simv1.Instance) {
		at := metav1.NewTime(p.clock.Now().Add(p.timing.Scale.Of(in)))
		inst.Spec.ScheduledRetirement = &at
	})
}

// FailKubelet stops an instance's kubelet: the instance runs on, its node
// stops renewing its Lease and goes NotReady.
func (p *Provider) FailKubelet(ctx context.Context, id string) error {
	return p.patchInstance(ctx, id, false, func(inst *simv1.Instance) { inst.Spec.KubeletFailed = true })
}

func (p *Provider) patchInstance(ctx context.Context, id string, spotOnly bool, mutate func(*simv1.Instance)) error {
	inst := &simv1.Instance{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: id}, inst); err != nil {
		return notFound(err, "instance", id)
	}
	if spotOnly && inst.Spec.Lifecycle != simv1.Spot {
		return cloud.Invalid("instance", "%s is %s: only spot instances get interruption notices and rebalance recommendations", id, inst.Spec.Lifecycle)
	}
	if inst.Status.State == simv1.StateTerminated || inst.Status.State == simv1.StateShuttingDown {
		return cloud.Invalid("instance", "%s is %s", id, inst.Status.State)
	}
	base := inst.DeepCopy()
	mutate(inst)
	return p.client.Patch(ctx, inst, client.MergeFrom(base))
}

// LaunchFailureReason is the state reason of an instance that fails at
// launch, as EC2 reports one (an instance whose EBS volume cannot be
// decrypted, say): pending, then shutting-down and terminated.
const LaunchFailureReason = "Client.InternalError: Client error on launch"

// SetSlowBoot makes the instances a group launches in the next duration
// boot delay longer (both in scenario time, divided by --time-scale); a
// zero duration lifts the fault.
func (p *Provider) SetSlowBoot(ctx context.Context, group string, delay, duration time.Duration) error {
	switch {
	case duration < 0:
		return cloud.Invalid("for", "must not be negative (0 lifts the fault), got %s", duration)
	case duration > 0 && delay <= 0:
		return cloud.Invalid("delay", "must be positive, got %s", delay)
	}
	var fault *simv1.SlowBootFault
	if duration > 0 {
		fault = &simv1.SlowBootFault{FaultWindow: p.window(duration), Delay: metav1.Duration{Duration: delay}}
	}
	return p.patchFaults(ctx, group, func(f *simv1.GroupFaults) { f.SlowBoot = fault })
}

// LaunchFailureInput is a launch-failure fault on a group.
type LaunchFailureInput struct {
	// InstanceType and Zone, if given, restrict the fault to the launches
	// of that type, in that zone.
	InstanceType, Zone string
	// Rate is the fraction of launches that fail, in (0, 1]; 1 fails all.
	Rate float64
	// Duration is how long the fault lasts, in scenario time; 0 lifts it.
	Duration time.Duration
	// Seed picks which launches fail.
	Seed uint64
}

// String says which launches fail: "50% of launches of m5.large in
// us-east-1a".
func (in LaunchFailureInput) String() string {
	s := strconv.FormatFloat(in.Rate*100, 'g', 4, 64) + "% of launches"
	if in.InstanceType != "" {
		s += " of " + in.InstanceType
	}
	if in.Zone != "" {
		s += " in " + in.Zone
	}
	return s
}

// SetLaunchFailure makes a fraction of the instances a group launches in
// the next in.Duration fail at launch; the group replaces each, and the
// replacement may fail too while the fault lasts.
func (p *Provider) SetLaunchFailure(ctx context.Context, group string, in LaunchFailureInput) error {
	if in.Duration < 0 {
		return cloud.Invalid("for", "must not be negative (0 lifts the fault), got %s", in.Duration)
	}
	var fault *simv1.LaunchFailureFault
	if in.Duration > 0 {
		if !(in.Rate > 0 && in.Rate <= 1) {
			return cloud.Invalid("rate", "must be more than 0 and at most 1 (every launch fails), got %g", in.Rate)
		}
		if _, ok := p.catalog.InstanceType(in.InstanceType); in.InstanceType != "" && !ok {
			return cloud.Invalid("instance-type", "unknown instance type %q (see kdp sim instance-types)", in.InstanceType)
		}
		zone, ok := catalogZone(p.catalog, in.Zone)
		if in.Zone != "" && !ok {
			return cloud.Invalid("zone", "unknown zone %q (see kdp sim subnets)", in.Zone)
		}
		fault = &simv1.LaunchFailureFault{
			FaultWindow: p.window(in.Duration), InstanceType: in.InstanceType, Zone: zone,
			Rate: strconv.FormatFloat(in.Rate, 'f', -1, 64), Seed: int64(in.Seed),
		}
	}
	return p.patchFaults(ctx, group, func(f *simv1.GroupFaults) { f.LaunchFailure = fault })
}

// window is a fault's window from now, for a duration in scenario time.
func (p *Provider) window(d time.Duration) simv1.FaultWindow {
	now := p.clock.Now()
	return simv1.FaultWindow{From: metav1.NewMicroTime(now), Until: metav1.NewMicroTime(now.Add(p.timing.Scale.Of(d)))}
}

func (p *Provider) patchFaults(ctx context.Context, group string, mutate func(*simv1.GroupFaults)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		asg := &simv1.AutoScalingGroup{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: group}, asg); err != nil {
			return notFound(err, "auto scaling group", group)
		}
		base := asg.DeepCopy()
		if asg.Spec.Faults == nil {
			asg.Spec.Faults = &simv1.GroupFaults{}
		}
		mutate(asg.Spec.Faults)
		if *asg.Spec.Faults == (simv1.GroupFaults{}) {
			asg.Spec.Faults = nil
		}
		return p.client.Patch(ctx, asg, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
}

// inWindow reports whether t is in a fault's window.
func inWindow(w simv1.FaultWindow, t time.Time) bool {
	return !t.Before(w.From.Time) && t.Before(w.Until.Time)
}

// launchFaults are the group's faults in effect for one launch: what the
// group records on each instance it places (spec.bootDelay,
// spec.launchFailure), so that the decision is made once, at creation,
// and survives restarts.
type launchFaults struct {
	slowBoot *simv1.SlowBootFault
	failure  *simv1.LaunchFailureFault
	rate     float64
	// matched counts the launches the failure's window matched so far:
	// the index of the next one.
	matched int
}

// faults reads the group's faults in effect now. The index of a launch in
// a launch-failure window is derived from the group's instances (all of
// them, as the group read them) launched in it, not kept in a counter.
func (g *GroupController) faults(asg *simv1.AutoScalingGroup, instances []simv1.Instance) (*launchFaults, error) {
	lf := &launchFaults{}
	f, now := asg.Spec.Faults, g.clock.Now()
	if f == nil {
		return lf, nil
	}
	if f.SlowBoot != nil && inWindow(f.SlowBoot.FaultWindow, now) {
		lf.slowBoot = f.SlowBoot
	}
	if l := f.LaunchFailure; l != nil && inWindow(l.FaultWindow, now) {
		rate, err := strconv.ParseFloat(l.Rate, 64)
		if err != nil {
			return nil, fmt.Errorf("group %s: spec.faults.launchFailure.rate: %w", asg.Name, err)
		}
		for i := range instances {
			if inst := &instances[i]; failureMatches(l, inst) && inWindow(l.FaultWindow, launchTime(inst)) {
				lf.matched++
			}
		}
		lf.failure, lf.rate = l, rate
	}
	return lf, nil
}

// apply records the faults on an instance the group placed.
func (lf *launchFaults) apply(inst *simv1.Instance) {
	if lf.slowBoot != nil {
		inst.Spec.BootDelay = &metav1.Duration{Duration: lf.slowBoot.Delay.Duration}
	}
	if lf.failure != nil && failureMatches(lf.failure, inst) {
		if failsLaunch(lf.failure.Seed, lf.matched, lf.rate) {
			inst.Spec.LaunchFailure = LaunchFailureReason
		}
		lf.matched++
	}
}

func failureMatches(l *simv1.LaunchFailureFault, inst *simv1.Instance) bool {
	return (l.InstanceType == "" || l.InstanceType == inst.Spec.InstanceType) && (l.Zone == "" || l.Zone == inst.Spec.Zone)
}

// failsLaunch reports whether the n-th launch of a launch-failure window
// fails: a draw seeded with the fault's seed and n, so that a replay fails
// the same launches whatever ids its instances get.
func failsLaunch(seed int64, n int, rate float64) bool {
	return rand.New(rand.NewPCG(uint64(seed), uint64(n))).Float64() < rate
}

// failedLaunch reports whether the instance is terminating because its
// launch failed.
func failedLaunch(inst *simv1.Instance) bool {
	return inst.Spec.LaunchFailure != "" && inst.Spec.TerminationReason == inst.Spec.LaunchFailure
}

// failLaunch ends the boot of an instance launched to fail: it is
// terminated with the failure's reason (no kubelet ever starts) and its
// group launches a replacement.
func (ic *InstanceController) failLaunch(ctx context.Context, inst *simv1.Instance) error {
	if err := RequestTermination(ctx, ic.client, ic.clock, inst, inst.Spec.LaunchFailure); err != nil {
		return err
	}
	ic.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "LaunchFailed", "Launch",
		"Instance %s failed to launch: %s", inst.Name, inst.Spec.LaunchFailure)
	return nil
}
