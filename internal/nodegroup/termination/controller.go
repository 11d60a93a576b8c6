// Package termination is the node group termination controller: every
// instance of a node group that leaves (scale-in, the group's deletion,
// spot rebalancing, version updates and repair) waits on the group's
// termination hook, and this controller drains its node first (cordon,
// then evictions that honour PodDisruptionBudgets) and lets the instance
// go when the node is empty or the hook's timeout (30 minutes, as on EKS)
// has passed since the drain started (kdp heartbeats the hook meanwhile,
// so that it is kdp, not the hook, that ends a drain that runs out of
// time). EKS's documents disagree on whether a scale-in honours budgets;
// kdp's does, up to the timeout.
//
// Spot instances (spot.go): one replaced after a rebalance recommendation
// is drained only once its replacement's node is Ready, as EKS does; one
// that gets its two-minute interruption notice is drained at once, hook or
// not, as far as the notice allows, and when it is reclaimed kdp says how
// many of its pods left in time.
//
// Everything it has done is in the API server and the cloud (the node's
// cordon and drain annotations, the evictions, the instance's lifecycle
// state), so a restart at any point resumes each drain where it was, with
// its start time and reason; the cloud's own hook timeout lets an instance
// go even while kdp is down.
package termination

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/watch"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/repair"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// Annotations on a node being drained before its instance goes: when the
// drain began, why, how many pods it had to move, and how it ended.
const (
	AnnotationDrainStarted = "eks.kdp.dev/drain-started"
	AnnotationDrainReason  = "eks.kdp.dev/drain-reason"
	AnnotationDrainPods    = "eks.kdp.dev/drain-pods"
	AnnotationDrainResult  = "eks.kdp.dev/drain-result"
)

// retry is how often a drain that waits (on blocked or terminating pods)
// looks again, as kubectl drain retries evictions.
const retry = 5 * time.Second

// Controller drains nodes before their instances terminate.
type Controller struct {
	client   client.Client
	cloud    cloud.Provider
	drainer  *drain.Drainer
	recorder events.EventRecorder
	env      resources.Env
	// beats is when each draining instance's hook was last heartbeat
	// (instance id → time); lost on a restart, which only means one
	// heartbeat more.
	beats sync.Map
	// held are the instances whose drain waits for a replacement (instance
	// id → node group), so that a node of the group that turns Ready
	// moves them on; lost on a restart, which only means one event more.
	held sync.Map
	// notices are the drains under a spot interruption notice (instance id
	// → *notice), for when the node has gone by the time kdp sees the
	// instance reclaimed.
	notices sync.Map
}

// NewController returns the termination controller.
func NewController(c client.Client, p cloud.Provider, d *drain.Drainer, recorder events.EventRecorder, env resources.Env) *Controller {
	return &Controller{client: c, cloud: p, drainer: d, recorder: recorder, env: env}
}

// Name is the controller's name.
func (*Controller) Name() string { return "nodegroup.termination" }

// Register adds the controller to the manager. Its requests are instance
// ids: from the cloud's lifecycle actions and spot interruption notices
// (and a list of every group's waiting and interrupted instances when the
// subscription starts), from changes of the pods on a node being drained
// (so a drain moves on as soon as a pod leaves), and from changes of the
// nodes of a group whose drain waits for a replacement.
func (c *Controller) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(c.byPod)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(c.byNode)).
		WatchesRawSource(watch.Source(c.cloud, c.byEvent, c.waiting)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 64}).
		Complete(c)
}

func request(id string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Name: id}}
}

func (c *Controller) byEvent(_ context.Context, e cloud.Event) []reconcile.Request {
	id := watch.Instance(e)
	if id == "" {
		return nil
	}
	if e.DetailType == cloud.DetailSpotInterruption {
		// The warning names the instance only: the reconcile finds its
		// group, if it is a node group's.
		return []reconcile.Request{request(id)}
	}
	if _, ok := resources.NodegroupOfASG(watch.Group(e)); !ok {
		return nil
	}
	return []reconcile.Request{request(id)}
}

// waiting are the instances of every node group that wait on a hook or
// have a spot interruption notice.
func (c *Controller) waiting(ctx context.Context) []reconcile.Request {
	groups := &eksv1.NodeGroupList{}
	if err := c.client.List(ctx, groups); err != nil {
		log.FromContext(ctx).Error(err, "listing node groups")
		return nil
	}
	var out []reconcile.Request
	for i := range groups.Items {
		members, err := resources.Members(ctx, c.client, c.cloud, &groups.Items[i])
		if err != nil {
			log.FromContext(ctx).Error(err, "listing a node group's instances", "nodegroup", groups.Items[i].Name)
			continue
		}
		for _, m := range members {
			if m.Instance.LifecycleState == cloud.LifecycleTerminatingWait || m.Instance.SpotInterruptionTime != nil {
				out = append(out, request(m.Instance.ID))
			}
		}
	}
	return out
}

// byPod is the request of the instance of a pod's node, if the node is
// being drained.
func (c *Controller) byPod(ctx context.Context, o client.Object) []reconcile.Request {
	name := o.(*corev1.Pod).Spec.NodeName
	if name == "" {
		return nil
	}
	node := &corev1.Node{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: name}, node); err != nil || node.Annotations[AnnotationDrainStarted] == "" {
		return nil
	}
	if id := cloud.InstanceOfProviderID(node.Spec.ProviderID); id != "" {
		return []reconcile.Request{request(id)}
	}
	return nil
}

// Reconcile moves the drain of one instance's node along.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	r, err := c.reconcile(ctx, req)
	if errors.Is(err, errStale) {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return r, err
}

func (c *Controller) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	inst, err := c.cloud.GetInstance(ctx, req.Name)
	if cloud.IsNotFound(err) {
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	ng, err := c.groupOf(ctx, inst)
	if ng == nil || err != nil {
		return reconcile.Result{}, err
	}
	node, err := resources.NodeOf(ctx, c.client, *inst)
	if err != nil {
		return reconcile.Result{}, err
	}
	if inst.SpotInterruptionTime != nil {
		return c.interruption(ctx, ng, node, inst)
	}
	if inst.LifecycleState != cloud.LifecycleTerminatingWait {
		if node != nil && node.Annotations[AnnotationDrainStarted] != "" && node.Annotations[AnnotationDrainResult] == "" {
			// The cloud let it go before the drain ended: its hook timed
			// out while kdp was not looking (down, or late).
			return reconcile.Result{}, c.timedOut(ctx, ng, node, inst, nil)
		}
		return reconcile.Result{}, nil
	}
	if node == nil {
		c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Terminating", "Drain", "Instance %s terminates: it has no node to drain", inst.ID)
		return reconcile.Result{}, c.proceed(ctx, inst)
	}
	if result := node.Annotations[AnnotationDrainResult]; result != "" {
		// Drained already (a version update drains its old nodes before it
		// terminates them): it goes at once.
		c.recorder.Eventf(ng, node, corev1.EventTypeNormal, "Terminating", "Drain", "Instance %s terminates: node %s was drained already (%s, %s)", inst.ID, node.Name, node.Annotations[AnnotationDrainReason], result)
		return reconcile.Result{}, c.proceed(ctx, inst)
	}
	started, reason, ok := draining(node)
	if !ok {
		var since *time.Time
		reason, since = c.reason(ctx, inst)
		if node.Annotations[repair.AnnotationRepairStarted] != "" {
			reason = "node repair" // its instance was terminated to replace it
		}
		if reason == ReasonRebalance && since != nil {
			if wait, err := c.holdForReplacement(ctx, ng, node, inst, *since); wait > 0 || err != nil {
				return reconcile.Result{RequeueAfter: wait}, err
			}
		}
		if started, _, err = c.begin(ctx, node, reason); err != nil {
			return reconcile.Result{}, err
		}
		c.recorder.Eventf(ng, node, corev1.EventTypeNormal, "Draining", "Drain", "Draining node %s before termination (%s): instance %s waits on hook %s for up to %s", node.Name, reason, inst.ID, resources.TerminateHook, c.env.Wait(resources.HookTimeout))
	}
	dreq := drain.Request{Reason: reason, Group: ng.Name}
	r, err := c.drainer.Step(ctx, node, dreq)
	if err != nil {
		return reconcile.Result{}, err
	}
	now := c.env.Clock.Now()
	took := now.Sub(started)
	if r.Done {
		if err := c.finish(ctx, node, drain.ResultDrained); err != nil {
			return reconcile.Result{}, err
		}
		drain.ObserveDrain(dreq, drain.ResultDrained, took)
		log.FromContext(ctx).Info("drained a node before its instance terminates", "node", node.Name, "instance", inst.ID, "reason", reason, "took", took.Round(time.Millisecond).String())
		c.recorder.Eventf(ng, node, corev1.EventTypeNormal, "Drained", "Drain", "Drained node %s in %s (%s): instance %s terminates", node.Name, took.Round(time.Second), reason, inst.ID)
		return reconcile.Result{}, c.proceed(ctx, inst)
	}
	next, over := due(started, now, c.env.Wait(resources.HookTimeout))
	if over {
		return reconcile.Result{}, c.timedOut(ctx, ng, node, inst, &r)
	}
	if err := c.heartbeat(ctx, inst, now); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

// due says whether a drain that started at started has run out of
// timeout by now and, if not, how soon to look again: after retry, or at
// the deadline if that comes first.
func due(started, now time.Time, timeout time.Duration) (time.Duration, bool) {
	deadline := started.Add(timeout)
	if !now.Before(deadline) {
		return 0, true
	}
	return min(retry, deadline.Sub(now)), false
}

// groupOf is the node group an instance is of, or nil: it must be in the
// group's own Auto Scaling group (a tag alone says nothing).
func (c *Controller) groupOf(ctx context.Context, inst *cloud.Instance) (*eksv1.NodeGroup, error) {
	name, ok := resources.NodegroupOfASG(inst.Group)
	if !ok {
		return nil, nil
	}
	ng := &eksv1.NodeGroup{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: name}, ng); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if resources.ASGName(ng) != inst.Group {
		return nil, nil
	}
	return ng, nil
}

// draining is when a node's drain began and why, if it has.
func draining(node *corev1.Node) (time.Time, string, bool) {
	started, err := time.Parse(time.RFC3339Nano, node.Annotations[AnnotationDrainStarted])
	return started, node.Annotations[AnnotationDrainReason], err == nil
}

// begin records on the node, once, when its drain began, why, and how many
// pods it had to move, so that a restart resumes it with all three (and a
// spot reclaim can say how many left in time). It returns the start and
// that count.
func (c *Controller) begin(ctx context.Context, node *corev1.Node, reason string) (time.Time, int, error) {
	pods, err := c.drainer.Pods(ctx, node.Name)
	if err != nil {
		return time.Time{}, 0, err
	}
	now := c.env.Clock.Now()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q,%q:%q,%q:"%d"}}}`, AnnotationDrainStarted, now.UTC().Format(time.RFC3339Nano),
		AnnotationDrainReason, reason, AnnotationDrainPods, len(pods))
	if err := c.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return time.Time{}, 0, fmt.Errorf("marking node %s as draining: %w", node.Name, err)
	}
	return now, len(pods), nil
}

// reason is why an instance is terminating, from its group's activity,
// and since when (nil if no activity says).
func (c *Controller) reason(ctx context.Context, inst *cloud.Instance) (string, *time.Time) {
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		activities, next, err := c.cloud.ListActivities(ctx, inst.Group, page)
		if err != nil {
			return "termination", nil
		}
		if a := terminationOf(activities, inst.ID); a != nil || next == "" {
			if a == nil {
				return "termination", nil
			}
			return drainReason(activities, inst.ID), &a.StartTime
		}
		page.NextToken = next // a scale-in of more than a page: further back
	}
}

// terminationOf is instance id's newest termination among activities
// (newest first), or nil.
func terminationOf(activities []cloud.Activity, id string) *cloud.Activity {
	for i, a := range activities {
		if a.InstanceID == id && strings.HasPrefix(a.Description, "Terminating") {
			return &activities[i]
		}
	}
	return nil
}

// drainReason is why instance id is terminating: the cause of its newest
// termination among activities (newest first), in a word a user reads.
func drainReason(activities []cloud.Activity, id string) string {
	a := terminationOf(activities, id)
	if a == nil {
		return "termination"
	}
	switch cause := a.Cause; {
	case strings.Contains(cause, "deletion of its group"):
		return "node group deletion"
	case strings.Contains(cause, "difference between desired and actual capacity"):
		return "scale-in"
	case strings.Contains(cause, "availability zone rebalancing"):
		return "AZ rebalance"
	case strings.Contains(cause, "rebalance recommendation"):
		return ReasonRebalance
	}
	return "termination"
}

// errStale says the node read from the cache was not its latest version:
// the reconcile is tried again with a newer one.
var errStale = errors.New("the node changed meanwhile")

// finish records how the drain ended, once: on the version of the node it
// was decided on (a drain recorded meanwhile is not overwritten).
func (c *Controller) finish(ctx context.Context, node *corev1.Node, result string) error {
	patch := fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"annotations":{%q:%q}}}`, node.ResourceVersion, AnnotationDrainResult, result)
	err := c.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, []byte(patch)))
	switch {
	case apierrors.IsConflict(err):
		return errStale
	case client.IgnoreNotFound(err) != nil:
		return fmt.Errorf("recording the drain of node %s: %w", node.Name, err)
	}
	return nil
}

// timedOut lets an instance go whose node's drain did not end in time,
// saying which pods were left.
func (c *Controller) timedOut(ctx context.Context, ng *eksv1.NodeGroup, node *corev1.Node, inst *cloud.Instance, r *drain.Result) error {
	if err := c.finish(ctx, node, drain.ResultTimeout); err != nil {
		return err
	}
	started, _ := time.Parse(time.RFC3339Nano, node.Annotations[AnnotationDrainStarted])
	reason := node.Annotations[AnnotationDrainReason]
	drain.ObserveDrain(drain.Request{Reason: reason, Group: ng.Name}, drain.ResultTimeout, c.env.Clock.Now().Sub(started))
	left := "the pods still on it"
	if r != nil {
		left = describe(r)
	}
	log.FromContext(ctx).Info("a drain timed out; the instance terminates", "node", node.Name, "instance", inst.ID, "reason", reason, "left", left)
	c.recorder.Eventf(ng, node, corev1.EventTypeWarning, "DrainTimeout", "Drain", "Node %s was not drained within %s (%s): instance %s terminates with %s", node.Name, c.env.Wait(resources.HookTimeout), reason, inst.ID, left)
	if inst.LifecycleState == cloud.LifecycleTerminatingWait {
		return c.proceed(ctx, inst)
	}
	return nil
}

// describe says which pods a drain left, and why.
func describe(r *drain.Result) string {
	blocked := map[types.NamespacedName]string{}
	for _, b := range r.Blocked {
		blocked[b.Pod] = b.Budget
	}
	parts := make([]string, 0, min(len(r.Remaining), 5))
	for i, p := range r.Remaining {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Remaining)-5))
			break
		}
		if b := blocked[p]; b != "" {
			parts = append(parts, p.String()+" (PodDisruptionBudget "+b+")")
		} else {
			parts = append(parts, p.String())
		}
	}
	return fmt.Sprintf("%d pods on it: %s", len(r.Remaining), strings.Join(parts, ", "))
}

// proceed completes the instance's lifecycle action: it terminates.
// heartbeat restarts the hook's own timeout now and then while kdp
// drains, so that kdp, which counts the drain's time from its start, is the
// one that lets the instance go when it runs out, with an event saying
// which pods were left and why. Should kdp be down, the hook's timeout
// still lets the instance go (its default result is CONTINUE) no later
// than a hook's timeout after the last heartbeat.
func (c *Controller) heartbeat(ctx context.Context, inst *cloud.Instance, now time.Time) error {
	if last, ok := c.beats.Load(inst.ID); ok && now.Sub(last.(time.Time)) < c.env.Wait(resources.HookTimeout)/4 {
		return nil
	}
	err := c.cloud.RecordLifecycleActionHeartbeat(ctx, cloud.LifecycleAction{
		Group: inst.Group, Hook: resources.TerminateHook, InstanceID: inst.ID,
	})
	if cloud.IsInvalid(err) || cloud.IsNotFound(err) {
		return nil // it no longer waits
	}
	if err != nil {
		return fmt.Errorf("heartbeating the termination hook of instance %s: %w", inst.ID, err)
	}
	c.beats.Store(inst.ID, now)
	return nil
}

func (c *Controller) proceed(ctx context.Context, inst *cloud.Instance) error {
	c.beats.Delete(inst.ID)
	err := c.cloud.CompleteLifecycleAction(ctx, cloud.LifecycleAction{
		Group: inst.Group, Hook: resources.TerminateHook, InstanceID: inst.ID, Result: cloud.ResultContinue,
	})
	if cloud.IsInvalid(err) || cloud.IsNotFound(err) {
		return nil // it no longer waits: its hook timed out, or it is gone
	}
	if err != nil {
		return fmt.Errorf("letting instance %s terminate: %w", inst.ID, err)
	}
	return nil
}
