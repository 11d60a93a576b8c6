package sim

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
