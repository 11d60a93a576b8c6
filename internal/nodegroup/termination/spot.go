package termination

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// The drain reasons of a spot group's own terminations, as events,
// annotations and metrics say them.
const (
	// ReasonRebalance: the instance got a rebalance recommendation and its
	// group (capacity rebalancing) replaces it.
	ReasonRebalance = "spot rebalance"
	// ReasonInterruption: the instance got its two-minute interruption
	// notice; EC2 reclaims it when the notice runs out, hooks or not.
	ReasonInterruption = "spot interruption"
)

// holdForReplacement holds the drain of a node whose spot instance its
// group replaces after a rebalance recommendation until the replacement's
// node is Ready, as EKS does: until the group has as many Ready nodes,
// besides those leaving or at risk, as its desired capacity. The group
// puts the instance in Terminating:Wait as soon as the replacement is in
// service, which is before its node has joined; draining then would leave
// the pods one node short. The hold is bounded: a join timeout after the
// termination began (since), the node is drained anyway, with an event
// saying so. It returns how soon to look again while it holds (the hook is
// heartbeat meanwhile), or 0 to drain now.
func (c *Controller) holdForReplacement(ctx context.Context, ng *eksv1.NodeGroup, node *corev1.Node, inst *cloud.Instance, since time.Time) (time.Duration, error) {
	// Held from before the count, so that a node turning Ready meanwhile
	// still brings this instance back (byNode).
	_, wasHeld := c.held.LoadOrStore(inst.ID, ng.Name)
	g, err := c.cloud.GetGroup(ctx, inst.Group)
	if cloud.IsNotFound(err) || (err == nil && g.Status == cloud.GroupDeleting) || !ng.DeletionTimestamp.IsZero() {
		c.held.Delete(inst.ID)
		return 0, nil // its group is going: nothing replaces it
	}
	if err != nil {
		return 0, fmt.Errorf("reading Auto Scaling group %s: %w", inst.Group, err)
	}
	members, err := resources.Members(ctx, c.client, c.cloud, ng)
	if err != nil {
		return 0, err
	}
	ready, want := replacements(members), int(g.DesiredCapacity)
	now := c.env.Clock.Now()
	timeout := c.env.Wait(resources.JoinTimeout)
	deadline := since.Add(timeout)
	switch {
	case ready >= want:
		c.held.Delete(inst.ID)
		if wasHeld {
			c.tell(ng, node, corev1.EventTypeNormal, "ReplacementReady", "The replacement of node %s is Ready (%d of %d nodes Ready besides those leaving): draining it (%s)", node.Name, ready, want, ReasonRebalance)
		}
		return 0, nil
	case !now.Before(deadline):
		c.held.Delete(inst.ID)
		log.FromContext(ctx).Info("draining a node whose replacement is not Ready in time", "node", node.Name, "instance", inst.ID, "ready", ready, "desired", want)
		c.tell(ng, node, corev1.EventTypeWarning, "ReplacementNotReady", "The replacement of node %s is not Ready after %s (%d of %d nodes Ready besides those leaving): draining it anyway (%s)", node.Name, timeout, ready, want, ReasonRebalance)
		return 0, nil
	}
	if !wasHeld {
		c.tell(ng, node, corev1.EventTypeNormal, "WaitingForReplacement", "Node %s is drained once its replacement is Ready (%s): %d of %d nodes Ready besides those leaving; instance %s waits on hook %s, for at most %s", node.Name, ReasonRebalance, ready, want, inst.ID, resources.TerminateHook, deadline.Sub(now).Round(time.Millisecond))
	}
	if err := c.heartbeat(ctx, inst, now); err != nil {
		return 0, err
	}
	return min(retry, deadline.Sub(now)), nil
}

// replacements counts a group's nodes that can take the pods of nodes
// leaving: Ready, of instances in service that neither leave nor are at
// risk of an interruption themselves.
func replacements(members []resources.Member) int {
	n := 0
	for _, m := range members {
		i := m.Instance
		if m.Node != nil && resources.Ready(m.Node) && i.LifecycleState == cloud.LifecycleInService &&
			i.RebalanceRecommended == nil && i.SpotInterruptionTime == nil {
			n++
		}
	}
	return n
}

// byNode is the request of every instance held for a replacement in the
// node's group: a node of the group that changes (joins, turns Ready) may
// be the replacement it waits for.
func (c *Controller) byNode(_ context.Context, o client.Object) []reconcile.Request {
	group := o.GetLabels()[eksv1.LabelNodegroup]
	if group == "" {
		return nil
	}
	var out []reconcile.Request
	c.held.Range(func(id, g any) bool {
		if g.(string) == group {
			out = append(out, request(id.(string)))
		}
		return true
	})
	return out
}

// notice is what kdp keeps in memory of a drain under an interruption
// notice, for when the node has gone (the instance's end deletes it) by
// the time kdp sees the instance reclaimed. It is lost on a restart: the
// node, while it is there, has the rest.
type notice struct {
	node *corev1.Node
	last drain.Result
}

// interruption drains at once the node of a spot instance that has its
// interruption notice, whether or not it waits on a hook: cordon, then
// evictions that honour PodDisruptionBudgets, for as long as the notice
// lasts. If the node is empty in time, the drain ends as any other does;
// when the instance is reclaimed first, kdp records how many of the pods
// left in time and which were still there. A drain begun before the notice
// (a scale-in) goes on under it, with its reason.
func (c *Controller) interruption(ctx context.Context, ng *eksv1.NodeGroup, node *corev1.Node, inst *cloud.Instance) (reconcile.Result, error) {
	at := *inst.SpotInterruptionTime
	now := c.env.Clock.Now()
	reclaimed := !now.Before(at) || (inst.State != cloud.StatePending && inst.State != cloud.StateRunning)
	waits := inst.LifecycleState == cloud.LifecycleTerminatingWait
	switch {
	case node == nil && reclaimed:
		return reconcile.Result{}, c.reclaimedGone(ctx, ng, inst)
	case node == nil:
		if waits {
			c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Terminating", "Drain", "Instance %s terminates: it has no node to drain", inst.ID)
			return reconcile.Result{}, c.proceed(ctx, inst)
		}
		return reconcile.Result{}, nil
	case node.Annotations[AnnotationDrainResult] != "":
		c.notices.Delete(inst.ID)
		if waits && !reclaimed {
			return reconcile.Result{}, c.proceed(ctx, inst) // drained already, then its group let it go
		}
		return reconcile.Result{}, nil
	case reclaimed:
		return reconcile.Result{}, c.reclaimed(ctx, ng, node, inst)
	}
	started, reason, ok := draining(node)
	pods, _ := strconv.Atoi(node.Annotations[AnnotationDrainPods])
	if !ok {
		var err error
		reason = ReasonInterruption
		if started, pods, err = c.begin(ctx, node, reason); err != nil {
			return reconcile.Result{}, err
		}
		log.FromContext(ctx).Info("draining the node of an interrupted spot instance", "node", node.Name, "instance", inst.ID, "reclaimedAt", at, "pods", pods)
		c.tell(ng, node, corev1.EventTypeNormal, "Draining", "Draining node %s at once (%s): spot instance %s is reclaimed in %s, hooks or not, and %d pods are to move", node.Name, reason, inst.ID, at.Sub(started).Round(time.Millisecond), pods)
	}
	dreq := drain.Request{Reason: reason, Group: ng.Name}
	r, err := c.drainer.Step(ctx, node, dreq)
	if err != nil {
		return reconcile.Result{}, err
	}
	now = c.env.Clock.Now()
	if r.Done {
		if err := c.finish(ctx, node, drain.ResultDrained); err != nil {
			return reconcile.Result{}, err
		}
		c.notices.Delete(inst.ID)
		took := now.Sub(started)
		drain.ObserveDrain(dreq, drain.ResultDrained, took)
		interruptedPods.WithLabelValues(ng.Name, outcomeLeft).Add(float64(pods))
		log.FromContext(ctx).Info("drained the node of an interrupted spot instance in time", "node", node.Name, "instance", inst.ID, "took", took.Round(time.Millisecond).String())
		c.tell(ng, node, corev1.EventTypeNormal, "Drained", "Drained node %s in %s (%s), %s before spot instance %s is reclaimed: all %d pods left in time", node.Name, took.Round(time.Millisecond), reason, max(at.Sub(now), 0).Round(time.Millisecond), inst.ID, pods)
		if waits {
			return reconcile.Result{}, c.proceed(ctx, inst)
		}
		return reconcile.Result{}, nil
	}
	c.notices.Store(inst.ID, &notice{node: node.DeepCopy(), last: r})
	if waits {
		if err := c.heartbeat(ctx, inst, now); err != nil {
			return reconcile.Result{}, err
		}
	}
	// Again after retry, or when the notice runs out, to say what it left.
	return reconcile.Result{RequeueAfter: max(min(retry, at.Sub(now)), time.Millisecond)}, nil
}

// reclaimed records, once, on a node still there, how the drain of its
// reclaimed spot instance ended: how many pods left in time, and which were
// still on it.
func (c *Controller) reclaimed(ctx context.Context, ng *eksv1.NodeGroup, node *corev1.Node, inst *cloud.Instance) error {
	left, err := c.drainer.Pods(ctx, node.Name)
	if err != nil {
		return err
	}
	result := drain.ResultInterrupted
	if len(left) == 0 {
		result = drain.ResultDrained
	}
	// On the version of the node it was decided on, as finish does; but a
	// node gone meanwhile (the cache was behind) is told from memory, once.
	patch := fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"annotations":{%q:%q}}}`, node.ResourceVersion, AnnotationDrainResult, result)
	err = c.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, []byte(patch)))
	switch {
	case apierrors.IsNotFound(err):
		return c.reclaimedGone(ctx, ng, inst)
	case apierrors.IsConflict(err):
		return errStale
	case err != nil:
		return fmt.Errorf("recording the drain of node %s: %w", node.Name, err)
	}
	var last drain.Result
	if v, ok := c.notices.LoadAndDelete(inst.ID); ok {
		last = v.(*notice).last
	}
	c.report(ctx, ng, node, inst, left, last.Blocked)
	return nil
}

// reclaimedGone records how the drain of a reclaimed spot instance ended
// when its node has already gone, from what kdp kept of it (nothing after
// a restart: then only the node's own deletion is said). The pods stay
// bound to the node's name until the pod garbage collector removes them,
// so those left are still found.
func (c *Controller) reclaimedGone(ctx context.Context, ng *eksv1.NodeGroup, inst *cloud.Instance) error {
	v, ok := c.notices.LoadAndDelete(inst.ID)
	if !ok {
		return nil
	}
	n := v.(*notice)
	left, err := c.drainer.Pods(ctx, n.node.Name)
	if err != nil {
		c.notices.Store(inst.ID, n) // to tell on the retry
		return err
	}
	c.report(ctx, ng, n.node, inst, left, n.last.Blocked)
	return nil
}

// report says how many of a reclaimed spot instance's pods left its node
// in time and which were still on it, in an event on the node and its
// group, and in the metrics.
func (c *Controller) report(ctx context.Context, ng *eksv1.NodeGroup, node *corev1.Node, inst *cloud.Instance, left []types.NamespacedName, blocked []drain.Blocked) {
	started, reason, ok := draining(node)
	pods, _ := strconv.Atoi(node.Annotations[AnnotationDrainPods])
	at := *inst.SpotInterruptionTime
	moved := max(pods-len(left), 0)
	interruptedPods.WithLabelValues(ng.Name, outcomeLeft).Add(float64(moved))
	interruptedPods.WithLabelValues(ng.Name, outcomeStranded).Add(float64(len(left)))
	stamp := at.UTC().Format(time.RFC3339)
	log.FromContext(ctx).Info("a spot instance was reclaimed during its node's drain", "node", node.Name, "instance", inst.ID, "left", moved, "remaining", len(left))
	switch {
	case !ok:
		c.tell(ng, node, corev1.EventTypeWarning, "SpotInterrupted", "Spot instance %s was reclaimed at %s before node %s was drained (kdp did not see the notice in time): %s", inst.ID, stamp, node.Name, describe(&drain.Result{Remaining: left, Blocked: blocked}))
	case len(left) == 0:
		drain.ObserveDrain(drain.Request{Reason: reason, Group: ng.Name}, drain.ResultDrained, at.Sub(started))
		c.tell(ng, node, corev1.EventTypeNormal, "SpotInterrupted", "Spot instance %s was reclaimed at %s (%s): all %d pods had left node %s in time", inst.ID, stamp, reason, pods, node.Name)
	default:
		drain.ObserveDrain(drain.Request{Reason: reason, Group: ng.Name}, drain.ResultInterrupted, at.Sub(started))
		c.tell(ng, node, corev1.EventTypeWarning, "SpotInterrupted", "Spot instance %s was reclaimed at %s (%s), %s after node %s began to drain: %d of %d pods left in time, and it went with %s", inst.ID, stamp, reason, at.Sub(started).Round(time.Millisecond), node.Name, moved, pods, describe(&drain.Result{Remaining: left, Blocked: blocked}))
	}
}

// tell records an event on the node group and one on the node, each
// naming the other, so that kubectl describe shows it on either.
func (c *Controller) tell(ng *eksv1.NodeGroup, node *corev1.Node, eventtype, reason, note string, args ...any) {
	c.recorder.Eventf(ng, node, eventtype, reason, "Drain", note, args...)
	c.recorder.Eventf(node, ng, eventtype, reason, "Drain", note, args...)
}
