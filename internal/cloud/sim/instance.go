package sim

import (
	"context"
	"slices"
	"strings"
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
	"github.com/kdp-project/kdp/internal/cloud"
)

// State reasons of terminations EC2 decides.
const (
	SpotReclaimReason = "Server.SpotInstanceTermination: Spot instance termination"
	RetirementReason  = "Server.ScheduledStop: instance retirement (scheduled maintenance)"
)

// InstanceController plays EC2 and the Auto Scaling lifecycle for each
// instance: pending → running after the boot delay; a spot reclaim when its
// interruption notice runs out; on a termination request, Terminating:Wait
// while a terminating lifecycle hook is pending (until completed or timed
// out), then shutting-down → terminated; the terminated record removed after
// the retention period. It publishes the matching events (interruption
// warning, rebalance recommendation, lifecycle actions, state changes).
// Every step is computed from the object and the clock, so a restart resumes
// where it stopped; each notice is recorded in status.notified once sent.
type InstanceController struct {
	client   client.Client
	catalog  *Catalog
	clock    clock.Clock
	timing   Timing
	events   *Broker
	recorder events.EventRecorder
}

// NewInstanceController returns the instance controller.
func NewInstanceController(c client.Client, catalog *Catalog, clk clock.Clock, timing Timing, broker *Broker, recorder events.EventRecorder) *InstanceController {
	return &InstanceController{client: c, catalog: catalog, clock: clk, timing: timing, events: broker, recorder: recorder}
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
	if done, err := ic.notify(ctx, inst); done || err != nil {
		return reconcile.Result{}, err
	}

	// Timed events EC2 decides: a spot reclaim when the notice runs out
	// (whatever the hooks say), a scheduled retirement (through the hooks).
	var next time.Duration
	due := func(t *metav1.Time) bool {
		if t == nil {
			return false
		}
		wait := t.Sub(now)
		if wait > 0 && (next == 0 || wait < next) {
			next = wait
		}
		return wait <= 0
	}
	if inst.Spec.TerminationRequested == nil && inst.Status.State != simv1.StateTerminated {
		if due(inst.Spec.SpotInterruptionTime) {
			return reconcile.Result{}, RequestTermination(ctx, ic.client, ic.clock, inst, SpotReclaimReason)
		}
		if due(inst.Spec.ScheduledRetirement) {
			return reconcile.Result{}, RequestTermination(ctx, ic.client, ic.clock, inst, RetirementReason)
		}
	}
	result, err := ic.step(ctx, inst, now)
	if next > 0 && (result.RequeueAfter == 0 || next < result.RequeueAfter) {
		result.RequeueAfter = next
	}
	return result, err
}

// step moves the instance one state along.
func (ic *InstanceController) step(ctx context.Context, inst *simv1.Instance, now time.Time) (reconcile.Result, error) {
	switch inst.Status.State {
	case "":
		dns := PrivateDNSName(ic.catalog.Region, inst.Spec.PrivateIP)
		if inst.Spec.TerminationRequested == nil && inst.Spec.LaunchFailure == "" && !now.Before(launchTime(inst).Add(ic.boot(inst))) {
			// Booted already (no boot delay, or a restart of kdp past
			// it): straight to running, one write instead of two.
			return reconcile.Result{}, ic.markBooted(ctx, inst, func(s *simv1.InstanceStatus) { s.PrivateDNSName = dns })
		}
		return reconcile.Result{}, ic.setState(ctx, inst, simv1.StatePending, "launched", func(s *simv1.InstanceStatus) {
			s.PrivateDNSName = dns
			if inst.Spec.Group != "" {
				s.LifecycleState = simv1.LifecyclePending
			}
		})
	case simv1.StatePending, simv1.StateRunning:
		if inst.Spec.TerminationRequested != nil {
			return ic.terminate(ctx, inst, now)
		}
		if inst.Status.State == simv1.StatePending {
			// From the launch, to the microsecond: the transition time is
			// to the second, which shortened boots by up to a second.
			if wait := ic.boot(inst) - now.Sub(launchTime(inst)); wait > 0 {
				return reconcile.Result{RequeueAfter: wait}, nil
			}
			if inst.Spec.LaunchFailure != "" {
				return reconcile.Result{}, ic.failLaunch(ctx, inst)
			}
			return reconcile.Result{}, ic.markBooted(ctx, inst, nil)
		}
		return ic.enterService(ctx, inst, now)
	case simv1.StateShuttingDown:
		if wait := ic.timing.Jittered(ic.timing.ShutDown, inst.Name) - now.Sub(inst.Status.StateTransitionTime.Time); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, ic.setState(ctx, inst, simv1.StateTerminated, inst.Spec.TerminationReason, func(s *simv1.InstanceStatus) {
			if inst.Spec.Group != "" {
				s.LifecycleState = simv1.LifecycleTerminated
			}
		})
	case simv1.StateTerminated:
		if wait := ic.timing.Retention - now.Sub(inst.Status.StateTransitionTime.Time); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, client.IgnoreNotFound(ic.client.Delete(ctx, inst))
	}
	return reconcile.Result{}, nil
}

// boot is how long the instance takes to boot, a slow-boot fault's delay
// included.
func (ic *InstanceController) boot(inst *simv1.Instance) time.Duration {
	d := ic.timing.Jittered(ic.timing.Boot, inst.Name)
	if inst.Spec.BootDelay != nil {
		d += ic.timing.Scale.Of(inst.Spec.BootDelay.Duration)
	}
	return d
}

// markBooted marks a booted instance running. Without a launching hook a group
// instance is in service as it starts running: one write, not two.
func (ic *InstanceController) markBooted(ctx context.Context, inst *simv1.Instance, mutate func(*simv1.InstanceStatus)) error {
	_, held, err := ic.hook(ctx, inst, simv1.TransitionLaunching)
	if err != nil {
		return err
	}
	return ic.setState(ctx, inst, simv1.StateRunning, "booted", func(s *simv1.InstanceStatus) {
		if mutate != nil {
			mutate(s)
		}
		switch {
		case inst.Spec.Group == "":
		case held:
			s.LifecycleState = simv1.LifecyclePending
		default:
			s.LifecycleState = simv1.LifecycleInService
		}
	})
}

// enterService moves a running group instance to InService, through
// Pending:Wait while a launching hook holds it.
func (ic *InstanceController) enterService(ctx context.Context, inst *simv1.Instance, now time.Time) (reconcile.Result, error) {
	if inst.Spec.Group == "" || inst.Status.LifecycleState == simv1.LifecycleInService {
		return reconcile.Result{}, nil
	}
	hook, ok, err := ic.hook(ctx, inst, simv1.TransitionLaunching)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !ok {
		return reconcile.Result{}, ic.setLifecycle(ctx, inst, simv1.LifecycleInService, "", nil)
	}
	result, wait, err := ic.waitOnHook(ctx, inst, hook, simv1.LifecyclePendingWait, cloud.DetailLaunchAction, simv1.TransitionLaunching, now)
	if err != nil || wait > 0 || result == "" {
		return reconcile.Result{RequeueAfter: wait}, err
	}
	if result == simv1.ResultAbandon {
		return reconcile.Result{}, RequestTermination(ctx, ic.client, ic.clock, inst, "launch lifecycle action abandoned")
	}
	return reconcile.Result{}, ic.setLifecycle(ctx, inst, simv1.LifecycleInService, "", nil)
}

// terminate starts shutting an instance down, after its group's
// terminating hook, if any, let it go.
func (ic *InstanceController) terminate(ctx context.Context, inst *simv1.Instance, now time.Time) (reconcile.Result, error) {
	if inst.Spec.TerminationReason != SpotReclaimReason && !failedLaunch(inst) { // retirement, scale-in, users: through the hooks
		hook, ok, err := ic.hook(ctx, inst, simv1.TransitionTerminating)
		if err != nil {
			return reconcile.Result{}, err
		}
		if ok {
			result, wait, err := ic.waitOnHook(ctx, inst, hook, simv1.LifecycleTerminatingWait, cloud.DetailTerminateAction, simv1.TransitionTerminating, now)
			if err != nil || wait > 0 || result == "" {
				return reconcile.Result{RequeueAfter: wait}, err
			}
		}
	}
	return reconcile.Result{}, ic.setState(ctx, inst, simv1.StateShuttingDown, inst.Spec.TerminationReason, func(s *simv1.InstanceStatus) {
		if inst.Spec.Group != "" {
			s.LifecycleState, s.WaitingOn, s.HookDeadline = simv1.LifecycleTerminating, "", nil
		}
	})
}

// waitOnHook holds the instance in state (Pending:Wait or
// Terminating:Wait) on hook: it publishes the lifecycle action once and
// returns the result once someone completed it or its timeout passed
// (the hook's default result), or how long to wait.
func (ic *InstanceController) waitOnHook(ctx context.Context, inst *simv1.Instance, hook simv1.LifecycleHook, state, detailType, transition string, now time.Time) (string, time.Duration, error) {
	if inst.Status.LifecycleState != state || inst.Status.WaitingOn != hook.Name {
		deadline := metav1.NewTime(now.Add(ic.timing.Scale.Of(time.Duration(hook.HeartbeatTimeoutSeconds) * time.Second)))
		err := ic.setLifecycle(ctx, inst, state, hook.Name, &deadline)
		return "", 0, err
	}
	key := "lifecycle-action/" + hook.Name
	if !slices.Contains(inst.Status.Notified, key) {
		ic.events.Publish(cloud.SourceAutoScaling, detailType, inst.Name+"/"+key, now, []string{ic.events.GroupARN(inst.Spec.Group)},
			cloud.LifecycleActionDetail{
				LifecycleActionToken: string(inst.UID) + "-" + hook.Name, AutoScalingGroupName: inst.Spec.Group,
				LifecycleHookName: hook.Name, EC2InstanceID: inst.Name, LifecycleTransition: transition,
			})
		return "", 0, ic.markNotified(ctx, inst, key)
	}
	if result := inst.Spec.CompletedLifecycleActions[hook.Name]; result != "" {
		return result, 0, nil
	}
	if wait := inst.Status.HookDeadline.Sub(now); wait > 0 {
		return "", wait, nil
	}
	ic.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "LifecycleHookTimedOut", "LifecycleHook",
		"Lifecycle hook %s of %s timed out: %s", hook.Name, inst.Name, hook.DefaultResult)
	return hook.DefaultResult, 0, nil
}

// hook returns the group's lifecycle hook for a transition, if it has one.
// A group that is gone has none; any other error is returned, so that a
// passing read error never skips a hook.
func (ic *InstanceController) hook(ctx context.Context, inst *simv1.Instance, transition string) (simv1.LifecycleHook, bool, error) {
	if inst.Spec.Group == "" {
		return simv1.LifecycleHook{}, false, nil
	}
	asg := &simv1.AutoScalingGroup{}
	if err := ic.client.Get(ctx, client.ObjectKey{Name: inst.Spec.Group}, asg); err != nil {
		return simv1.LifecycleHook{}, false, client.IgnoreNotFound(err)
	}
	for _, h := range asg.Spec.LifecycleHooks {
		if h.Transition == transition {
			return h, true, nil
		}
	}
	return simv1.LifecycleHook{}, false, nil
}

// notify publishes the instance's pending notices (a spot interruption
// warning, a rebalance recommendation), each once. It reports whether it
// wrote, in which case the write's event brings the instance back.
func (ic *InstanceController) notify(ctx context.Context, inst *simv1.Instance) (bool, error) {
	arn := []string{ic.events.InstanceARN(inst.Name)}
	if t := inst.Spec.SpotInterruptionTime; t != nil && !slices.Contains(inst.Status.Notified, "spot-interruption") {
		ic.events.Publish(cloud.SourceEC2, cloud.DetailSpotInterruption, inst.Name, ic.clock.Now(), arn,
			cloud.SpotInterruptionDetail{InstanceID: inst.Name, InstanceAction: "terminate"})
		ic.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "SpotInterruptionWarning", "Interrupt",
			"Spot instance %s will be terminated at %s", inst.Name, t.UTC().Format(time.RFC3339))
		return true, ic.markNotified(ctx, inst, "spot-interruption")
	}
	if t := inst.Spec.ScheduledRetirement; t != nil && !slices.Contains(inst.Status.Notified, "retirement") {
		ic.events.Publish(cloud.SourceHealth, cloud.DetailScheduledMaintenance, inst.Name+"/retirement", ic.clock.Now(), arn, cloud.HealthDetail{
			EventArn:          "arn:aws:health:" + ic.catalog.Region + "::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/" + inst.Name,
			Service:           "EC2",
			EventTypeCode:     "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
			EventTypeCategory: "scheduledChange",
			StartTime:         t.UTC().Format(time.RFC1123),
			AffectedEntities:  []cloud.AffectedEntity{{EntityValue: inst.Name}},
		})
		ic.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "ScheduledRetirement", "Maintenance",
			"Instance %s is scheduled for retirement at %s", inst.Name, t.UTC().Format(time.RFC3339))
		return true, ic.markNotified(ctx, inst, "retirement")
	}
	if inst.Spec.RebalanceRecommended != nil && !slices.Contains(inst.Status.Notified, "rebalance") {
		ic.events.Publish(cloud.SourceEC2, cloud.DetailRebalance, inst.Name, ic.clock.Now(), arn, cloud.InstanceDetail{InstanceID: inst.Name})
		ic.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "RebalanceRecommendation", "Rebalance",
			"Spot instance %s is at elevated risk of interruption", inst.Name)
		return true, ic.markNotified(ctx, inst, "rebalance")
	}
	return false, nil
}

func (ic *InstanceController) markNotified(ctx context.Context, inst *simv1.Instance, key string) error {
	base := inst.DeepCopy()
	inst.Status.Notified = append(inst.Status.Notified, key)
	return ic.client.Status().Patch(ctx, inst, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

func (ic *InstanceController) setLifecycle(ctx context.Context, inst *simv1.Instance, state, hook string, deadline *metav1.Time) error {
	base := inst.DeepCopy()
	inst.Status.LifecycleState, inst.Status.WaitingOn, inst.Status.HookDeadline = state, hook, deadline
	if err := ic.client.Status().Patch(ctx, inst, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	if hook != "" { // a wait someone may ask about; entering service is not
		ic.recorder.Eventf(inst, nil, corev1.EventTypeNormal, "LifecycleState", strings.ReplaceAll(state, ":", ""),
			"Instance %s is %s on lifecycle hook %s", inst.Name, state, hook)
	}
	return nil
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
	// Kubernetes Events for the way out, which users ask about ("why did
	// my node go?"); the way in is in the group's Launched event and the
	// EventBridge stream, and an Event per boot step would double the
	// API writes of a launch.
	if state == simv1.StateShuttingDown || state == simv1.StateTerminated {
		ic.recorder.Eventf(inst, nil, corev1.EventTypeNormal, "InstanceStateChange", state, "Instance %s is %s (%s)", inst.Name, state, reason)
	}
	states := []string{state}
	if base.Status.State == "" && state != simv1.StatePending {
		states = []string{simv1.StatePending, state} // EC2 reports both
	}
	for _, s := range states {
		ic.events.Publish(cloud.SourceEC2, cloud.DetailStateChange, inst.Name+"/"+s, now.Time, []string{ic.events.InstanceARN(inst.Name)},
			cloud.StateChangeDetail{InstanceID: inst.Name, State: s})
	}
	return nil
}
