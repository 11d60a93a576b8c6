// Package repair is node auto repair for managed node groups, as EKS's
// nodeRepairConfig describes it: a node of a group with repair enabled
// whose Ready condition, or one of the node monitoring agent's
// (KernelReady, NetworkingReady, StorageReady, ContainerRuntimeReady,
// AcceleratedHardwareReady), has been bad for the condition's wait (30
// minutes; 10 for AcceleratedHardwareReady; the group's overrides per
// condition and reason) is cordoned and replaced: its instance is
// terminated without lowering the group's desired size, so that the Auto
// Scaling group launches another, and the termination hook has the
// termination controller drain it first. An instance whose Node was
// deleted while it runs is replaced the same way. Repairs stop while too
// many of the group's nodes are unhealthy (more than 20% of more than 5,
// or the group's maxUnhealthyNodeThreshold), and no more than
// maxParallelNodesRepaired (1 by default) run at once.
//
// What it decides is derived from the API server (the nodes' conditions,
// the configuration in effect, status.applied, and its own annotations on
// the nodes it repairs) and the cloud (each instance's lifecycle state),
// so a restart at any point neither repairs a node twice nor forgets one:
// a node annotated for replacement whose instance is still in service is
// terminated again (which the cloud takes as the same request), and an
// instance on its way out is never picked again. The decisions themselves
// are pure functions (decide.go).
package repair

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// Annotations on a node that repair acted on: when, with which action, and
// the problem (its condition, reason and start) it acted on.
const (
	AnnotationRepairStarted = "eks.kdp.dev/repair-started"
	AnnotationRepairAction  = "eks.kdp.dev/repair-action"
	AnnotationRepairProblem = "eks.kdp.dev/repair-problem"
)

// Event reasons.
const (
	ReasonRepairing    = "RepairingNode"
	ReasonSkipped      = "RepairSkipped"
	ReasonNotSupported = "RepairNotSupported"
	ReasonHeld         = "RepairsHeld"
	ReasonQueued       = "RepairQueued"
)

// Controller repairs the unhealthy nodes of node groups.
type Controller struct {
	client   client.Client
	cloud    cloud.Provider
	recorder events.EventRecorder
	env      resources.Env

	mu sync.Mutex
	// gone is, per group, when each of its in-service instances was first
	// seen without a Node; replacing, the Node-less instances whose
	// replacement kdp started. Both are lost on a restart, which only
	// delays: a deleted Node's grace starts again, and an instance leaving
	// is never picked again (it only no longer counts as a repair under
	// way).
	gone, replacing map[string]map[string]time.Time
}

// NewController returns the repair controller.
func NewController(c client.Client, p cloud.Provider, recorder events.EventRecorder, env resources.Env) *Controller {
	return &Controller{client: c, cloud: p, recorder: recorder, env: env,
		gone: map[string]map[string]time.Time{}, replacing: map[string]map[string]time.Time{}}
}

// Name is the controller's name.
func (*Controller) Name() string { return "nodegroup.repair" }

// Register adds the controller to the manager. Its requests are node
// groups: a group's change (its configuration in effect), a change of one
// of its Nodes (a condition, a deletion), and the Auto Scaling group's
// events (an instance leaving or launched).
func (c *Controller) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&eksv1.NodeGroup{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(resources.ByNodeLabel)).
		WatchesRawSource(watch.Source(c.cloud, resources.ByGroupEvent, resources.AllGroups(c.client))).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(c)
}

// errStale says a node changed after repair decided on it: the group is
// looked at again.
var errStale = errors.New("the node changed meanwhile")

// Reconcile repairs what is due in one node group.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	r, err := c.reconcile(ctx, req.Name)
	if errors.Is(err, errStale) {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return r, err
}

// active says whether a group's nodes are repaired in its status: not
// while it is made or deleted.
func active(s eksv1.Status) bool {
	return s == eksv1.StatusActive || s == eksv1.StatusDegraded || s == eksv1.StatusUpdating
}

func (c *Controller) reconcile(ctx context.Context, name string) (reconcile.Result, error) {
	ng := &eksv1.NodeGroup{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: name}, ng); err != nil {
		if apierrors.IsNotFound(err) {
			c.forget(name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var cfg *eksv1.NodeRepairConfig
	if ng.Status.Applied != nil {
		cfg = ng.Status.Applied.NodeRepairConfig
	}
	if !Enabled(cfg) || !ng.DeletionTimestamp.IsZero() || !active(ng.Status.Status) {
		c.forget(name)
		return reconcile.Result{}, nil
	}
	members, err := resources.Members(ctx, c.client, c.cloud, ng)
	if err != nil {
		return reconcile.Result{}, err
	}
	now := c.env.Clock.Now()
	candidates, byInstance, err := c.candidates(ctx, ng, members, Rules(cfg), now)
	if err != nil {
		return reconcile.Result{}, err
	}
	plan := Decide(now, candidates, cfg)
	for _, cand := range candidates {
		if m := byInstance[cand.Instance]; cand.Repairing && m.Node != nil && inService(m.Instance) {
			// Annotated, not yet terminated: kdp stopped in between.
			if err := c.terminate(ctx, m.Instance); err != nil {
				return reconcile.Result{}, err
			}
		}
	}
	underWay := plan.Repairing
	for _, cand := range plan.Start {
		if cand.Problem.Rule.Action == Replace {
			underWay++
		}
		if err := c.start(ctx, ng, byInstance[cand.Instance], *cand.Problem, plan, underWay, now); err != nil {
			return reconcile.Result{}, err
		}
	}
	for _, cand := range plan.Held {
		c.held(ng, byInstance[cand.Instance], *cand.Problem, plan)
	}
	for _, cand := range plan.Queued {
		c.queued(ng, byInstance[cand.Instance], *cand.Problem, plan)
	}
	held.WithLabelValues(ng.Name).Set(float64(len(plan.Held)))
	var result reconcile.Result
	if !plan.Next.IsZero() {
		result.RequeueAfter = max(plan.Next.Sub(now), 10*time.Millisecond)
	}
	if len(plan.Held)+len(plan.Queued) > 0 {
		// Node and cloud events wake the group when a repair ends or a
		// node recovers; this is a safety net.
		if recheck := max(c.env.Wait(5*time.Minute), time.Second); result.RequeueAfter == 0 || recheck < result.RequeueAfter {
			result.RequeueAfter = recheck
		}
	}
	return result, nil
}

// inService says whether an instance is one repair may pick: running and
// in service (not joining the group, nor leaving it).
func inService(i cloud.Instance) bool {
	return i.State == cloud.StateRunning && i.LifecycleState == cloud.LifecycleInService
}

// candidates are the group's members as repair sees them (instances
// leaving for another reason are none of its business), each with its
// member by instance id. It clears the record of a NoAction or Reboot
// whose problem is over.
func (c *Controller) candidates(ctx context.Context, ng *eksv1.NodeGroup, members []resources.Member, rules []Rule, now time.Time) ([]Candidate, map[string]resources.Member, error) {
	c.mu.Lock()
	gone, replacing := map[string]time.Time{}, map[string]time.Time{}
	oldGone, oldReplacing := c.gone[ng.Name], c.replacing[ng.Name]
	c.mu.Unlock()
	byInstance := map[string]resources.Member{}
	var out []Candidate
	for _, m := range members {
		inst, node := m.Instance, m.Node
		byInstance[inst.ID] = m
		switch {
		case node == nil && !inService(inst):
			if at, ok := oldReplacing[inst.ID]; ok {
				replacing[inst.ID] = at
				out = append(out, Candidate{Name: inst.ID, Instance: inst.ID, Repairing: true})
			}
		case node == nil:
			since, ok := oldGone[inst.ID]
			if !ok {
				since = now
			}
			gone[inst.ID] = since
			if inst.LaunchTime.After(since) {
				since = inst.LaunchTime
			}
			out = append(out, Candidate{Name: inst.ID, Instance: inst.ID, Problem: Missing(since, resources.JoinTimeout, c.env.Wait)})
		case Action(node.Annotations[AnnotationRepairAction]) == Replace:
			out = append(out, Candidate{Name: node.Name, Instance: inst.ID, Repairing: true})
		case !inService(inst):
		default:
			acked := recorded(node)
			p, ack, keep := Pending(Diagnose(node, rules, c.env.Wait), acked)
			if len(keep) != len(acked) {
				if err := c.record(ctx, node, keep); err != nil {
					return nil, nil, err
				}
			}
			out = append(out, Candidate{Name: node.Name, Instance: inst.ID, Problem: p, Acknowledged: ack})
		}
	}
	c.mu.Lock()
	c.gone[ng.Name], c.replacing[ng.Name] = gone, replacing
	c.mu.Unlock()
	return out, byInstance, nil
}

func (c *Controller) forget(group string) {
	c.mu.Lock()
	delete(c.gone, group)
	delete(c.replacing, group)
	c.mu.Unlock()
	held.DeleteLabelValues(group)
}

// start acts on a problem that is due: records it on the node (with a
// cordon, for a replacement) under the node's version it was decided on,
// says so, and replaces the instance; NoAction and Reboot are recorded and
// said only.
func (c *Controller) start(ctx context.Context, ng *eksv1.NodeGroup, m resources.Member, p Problem, plan Plan, underWay int, now time.Time) error {
	inst, node := m.Instance, m.Node
	action := p.Rule.Action
	if node != nil {
		problems := p.Key()
		if action != Replace {
			problems = strings.Join(append(recorded(node), p.Key()), ",")
		}
		patch := map[string]any{"metadata": map[string]any{
			"resourceVersion": node.ResourceVersion,
			"annotations": map[string]string{
				AnnotationRepairStarted: now.UTC().Format(time.RFC3339Nano),
				AnnotationRepairAction:  string(action),
				AnnotationRepairProblem: problems,
			},
		}}
		if action == Replace {
			patch["spec"] = map[string]any{"unschedulable": true}
		}
		if err := c.patch(ctx, node, patch); err != nil {
			return err
		}
	}
	for_ := now.Sub(p.Since).Round(time.Second)
	rule := fmt.Sprintf("node auto repair acts after %s", c.env.Wait(p.Rule.Wait))
	if p.Rule.Override {
		rule = fmt.Sprintf("the group's override for %s/%s acts after %s", p.Rule.Condition, p.Rule.Reason, c.env.Wait(p.Rule.Wait))
	}
	name := nodeName(m)
	switch action {
	case Replace:
		msg := fmt.Sprintf("Replacing node %s (instance %s): %s, for %s (%s). The instance terminates without lowering the desired size, drained first; the Auto Scaling group launches another (%d of %d nodes unhealthy, %d repairs under way of at most %d)",
			name, inst.ID, p, for_, rule, plan.Unhealthy, plan.Total, underWay, plan.Parallel)
		c.both(ng, m, corev1.EventTypeWarning, ReasonRepairing, msg)
		if node == nil {
			c.mu.Lock()
			c.replacing[ng.Name][inst.ID] = now
			c.mu.Unlock()
		}
		log.FromContext(ctx).Info("replacing an unhealthy node", "nodegroup", ng.Name, "node", name, "instance", inst.ID, "problem", p.String())
		repairs.WithLabelValues(string(action), p.Condition, "started").Inc()
		return c.terminate(ctx, inst)
	case Reboot:
		c.both(ng, m, corev1.EventTypeWarning, ReasonNotSupported, fmt.Sprintf("Not repairing node %s (instance %s): %s, for %s (%s), and its action is Reboot, which kdp does not support yet: the node is left as it is", name, inst.ID, p, for_, rule))
		repairs.WithLabelValues(string(action), p.Condition, "not_supported").Inc()
	default:
		c.both(ng, m, corev1.EventTypeNormal, ReasonSkipped, fmt.Sprintf("Not repairing node %s (instance %s): %s, for %s (%s), and its action is NoAction: the node is left as it is", name, inst.ID, p, for_, rule))
		repairs.WithLabelValues(string(action), p.Condition, "no_action").Inc()
	}
	return nil
}

// held says that a due repair is held back by the threshold. The event
// recorder folds its repeats into one event's series.
func (c *Controller) held(ng *eksv1.NodeGroup, m resources.Member, p Problem, plan Plan) {
	c.both(ng, m, corev1.EventTypeWarning, ReasonHeld, fmt.Sprintf("Not repairing node %s (instance %s) yet: %s, but %s; repairs under way finish, and repairs resume once fewer nodes are unhealthy",
		nodeName(m), m.Instance.ID, p, plan.Threshold))
}

// queued says that a due repair waits for one under way to finish.
func (c *Controller) queued(ng *eksv1.NodeGroup, m resources.Member, p Problem, plan Plan) {
	c.recorder.Eventf(nodeOf(m), ng, corev1.EventTypeNormal, ReasonQueued, "Repair", "Node %s (instance %s) is replaced once a repair under way finishes: %s; %d under way, at most %d at once (maxParallelNodesRepaired)",
		nodeName(m), m.Instance.ID, p, plan.Repairing, plan.Parallel)
}

// both records an event on the node (or the node it had) and on the group.
func (c *Controller) both(ng *eksv1.NodeGroup, m resources.Member, eventType, reason, msg string) {
	node := nodeOf(m)
	c.recorder.Eventf(node, ng, eventType, reason, "Repair", "%s", msg)
	c.recorder.Eventf(ng, node, eventType, reason, "Repair", "%s", msg)
}

// nodeOf is a member's Node, or a reference to the one it had (named after
// the instance's private DNS name, as its kubelet names it).
func nodeOf(m resources.Member) *corev1.Node {
	if m.Node != nil {
		return m.Node
	}
	return &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: m.Instance.PrivateDNSName}}
}

func nodeName(m resources.Member) string { return nodeOf(m).Name }

// recorded are the problems (keys) a NoAction or Reboot was recorded for on
// a node.
func recorded(node *corev1.Node) []string {
	if node.Annotations[AnnotationRepairAction] == "" || node.Annotations[AnnotationRepairProblem] == "" {
		return nil
	}
	return strings.Split(node.Annotations[AnnotationRepairProblem], ",")
}

// record keeps, of the problems a NoAction or Reboot was recorded for,
// those still there (all annotations go with the last), so that the next
// episode of a problem that is over is acted on again.
func (c *Controller) record(ctx context.Context, node *corev1.Node, keep []string) error {
	annotations := map[string]any{AnnotationRepairStarted: nil, AnnotationRepairAction: nil, AnnotationRepairProblem: nil}
	if len(keep) > 0 {
		annotations = map[string]any{AnnotationRepairProblem: strings.Join(keep, ",")}
	}
	return c.patch(ctx, node, map[string]any{"metadata": map[string]any{
		"resourceVersion": node.ResourceVersion, "annotations": annotations,
	}})
}

func (c *Controller) patch(ctx context.Context, node *corev1.Node, patch map[string]any) error {
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	err = c.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, data))
	switch {
	case apierrors.IsConflict(err), apierrors.IsNotFound(err):
		return errStale
	case err != nil:
		return fmt.Errorf("recording the repair of node %s: %w", node.Name, err)
	}
	return nil
}

// terminate terminates a repaired node's instance without lowering the
// desired capacity: its group launches another. The group's termination
// hook holds it until its node is drained.
func (c *Controller) terminate(ctx context.Context, inst cloud.Instance) error {
	err := c.cloud.TerminateInstance(ctx, inst.ID, false)
	if cloud.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replacing instance %s: %w", inst.ID, err)
	}
	return nil
}
