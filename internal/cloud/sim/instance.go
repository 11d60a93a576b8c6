package sim

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
)

// InstanceController plays EC2 for each instance: pending → running after
// the boot delay, a spot reclaim at its interruption time, shutting-down →
// terminated when termination is requested, and the terminated record
// removed after the retention period. Every step is computed from the
// object and the clock, so a restart resumes where it stopped.
type InstanceController struct {
	client   client.Client
	catalog  *Catalog
	clock    clock.Clock
	timing   Timing
	recorder events.EventRecorder
}

// NewInstanceController returns the instance controller.
func NewInstanceController(c client.Client, catalog *Catalog, clk clock.Clock, timing Timing, recorder events.EventRecorder) *InstanceController {
	return &InstanceController{client: c, catalog: catalog, clock: clk, timing: timing, recorder: recorder}
}

// Name is the controller's name.
func (*InstanceController) Name() string { return "sim.instance" }

// Register adds the controller to the manager.
func (ic *InstanceController) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(ic.Name()).For(&simv1.Instance{}).
		WithOptions(controllerOptions()).Complete(ic)
}

// Reconcile moves one instance along its lifecycle.
func (ic *InstanceController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	inst := &simv1.Instance{}
	if err := ic.client.Get(ctx, req.NamespacedName, inst); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	now := ic.clock.Now()
	since := func(t *metav1.Time) time.Duration {
		if t == nil {
			return 0
		}
		return now.Sub(t.Time)
	}

	// A spot reclaim is due: terminate.
	if t := inst.Spec.SpotInterruptionTime; t != nil && inst.Spec.TerminationRequested == nil {
		if wait := t.Sub(now); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, RequestTermination(ctx, ic.client, ic.clock, inst, "Server.SpotInstanceTermination: Spot instance termination")
	}

	switch inst.Status.State {
	case "":
		dns := PrivateDNSName(ic.catalog.Region, inst.Spec.PrivateIP)
		return reconcile.Result{}, ic.setState(ctx, inst, simv1.StatePending, "launched", func(s *simv1.InstanceStatus) { s.PrivateDNSName = dns })
	case simv1.StatePending, simv1.StateRunning:
		if inst.Spec.TerminationRequested != nil {
			return reconcile.Result{}, ic.setState(ctx, inst, simv1.StateShuttingDown, inst.Spec.TerminationReason, nil)
		}
		if inst.Status.State == simv1.StateRunning {
			return reconcile.Result{}, nil
		}
		boot := ic.timing.Jittered(ic.timing.Boot, inst.Name)
		if wait := boot - since(inst.Status.StateTransitionTime); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, ic.setState(ctx, inst, simv1.StateRunning, "booted", nil)
	case simv1.StateShuttingDown:
		if wait := ic.timing.Jittered(ic.timing.ShutDown, inst.Name) - since(inst.Status.StateTransitionTime); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, ic.setState(ctx, inst, simv1.StateTerminated, inst.Spec.TerminationReason, nil)
	case simv1.StateTerminated:
		if wait := ic.timing.Retention - since(inst.Status.StateTransitionTime); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, client.IgnoreNotFound(ic.client.Delete(ctx, inst))
	}
	return reconcile.Result{}, nil
}

func (ic *InstanceController) setState(ctx context.Context, inst *simv1.Instance, state, reason string, mutate func(*simv1.InstanceStatus)) error {
	base := inst.DeepCopy()
	now := metav1.NewTime(ic.clock.Now())
	inst.Status.State, inst.Status.StateReason, inst.Status.StateTransitionTime = state, reason, &now
	if mutate != nil {
		mutate(&inst.Status)
	}
	if err := ic.client.Status().Patch(ctx, inst, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	log.FromContext(ctx).Info("instance state", "instance", inst.Name, "state", state, "reason", reason)
	ic.recorder.Eventf(inst, nil, corev1.EventTypeNormal, "InstanceStateChange", state, "Instance %s is %s (%s)", inst.Name, state, reason)
	return nil
}
