// Package lifecycle is the node group lifecycle controller: it creates a
// NodeGroup's cloud resources (its bootstrap token, launch template and
// Auto Scaling group, with EKS's tags and a termination hook), reports
// what they are doing in the NodeGroup's status (EKS's statuses and health
// issues, conditions, node counts), and deletes them, every node drained
// first, before the NodeGroup goes. Names come from the NodeGroup's UID, so
// a crash at any point leaves nothing that a restart does not find again.
package lifecycle

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/watch"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// Controller is the node group lifecycle controller.
type Controller struct {
	client   client.Client
	kube     kubernetes.Interface
	cloud    cloud.Provider
	recorder events.EventRecorder
	env      resources.Env
	// endpoints are the launch template versions (id/version) whose join
	// address ensureEndpoint found current.
	endpoints sync.Map
}

// NewController returns the lifecycle controller. kube writes the groups'
// bootstrap tokens (Secrets, which the manager does not cache).
func NewController(c client.Client, kube kubernetes.Interface, p cloud.Provider, recorder events.EventRecorder, env resources.Env) *Controller {
	return &Controller{client: c, kube: kube, cloud: p, recorder: recorder, env: env}
}

// Name is the controller's name.
func (*Controller) Name() string { return "nodegroup.lifecycle" }

// Register adds the controller to the manager: it looks at a NodeGroup when
// it changes, when one of its nodes does, and when its Auto Scaling group
// launches or terminates an instance.
func (c *Controller) Register(mgr ctrl.Manager) error {
	serveMetrics(mgr.GetClient())
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&eksv1.NodeGroup{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(resources.ByNodeLabel)).
		WatchesRawSource(watch.Source(c.cloud, resources.ByGroupEvent, resources.AllGroups(c.client))).
		WithOptions(controller.Options{MaxConcurrentReconciles: 8}).
		Complete(c)
}

// Reconcile brings one node group's cloud resources and status in line.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ng := &eksv1.NodeGroup{}
	if err := c.client.Get(ctx, req.NamespacedName, ng); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := ng.DeepCopy()
	var (
		result reconcile.Result
		err    error
	)
	if !ng.DeletionTimestamp.IsZero() {
		if result, err = c.delete(ctx, ng); !controllerutil.ContainsFinalizer(ng, eksv1.Finalizer) {
			return result, err // gone: no status to write
		}
	} else {
		if !controllerutil.ContainsFinalizer(ng, eksv1.Finalizer) {
			// The finalizer goes on before anything is made in the cloud.
			controllerutil.AddFinalizer(ng, eksv1.Finalizer)
			if err := c.client.Patch(ctx, ng, client.MergeFrom(before)); err != nil {
				return reconcile.Result{}, fmt.Errorf("adding the finalizer: %w", err)
			}
			before = ng.DeepCopy()
		}
		result, err = c.reconcile(ctx, ng)
	}
	if perr := c.patchStatus(ctx, before, ng); perr != nil && err == nil && !apierrors.IsNotFound(perr) {
		err = perr
	}
	return result, err
}

// reconcile creates what is missing of the group and observes it.
func (c *Controller) reconcile(ctx context.Context, ng *eksv1.NodeGroup) (reconcile.Result, error) {
	if ng.Status.Status == eksv1.StatusCreateFailed && len(ng.Status.Resources.AutoScalingGroups) == 0 {
		return reconcile.Result{}, nil // failed before its group existed: nothing to watch
	}
	if ng.Status.Applied == nil {
		if ng.Status.Status == "" {
			c.setStatus(ng, eksv1.StatusCreating, nil)
		}
		if done, err := c.create(ctx, ng); err != nil || !done {
			return reconcile.Result{}, err
		}
	}
	if err := c.ensureEndpoint(ctx, ng); err != nil {
		return reconcile.Result{}, err
	}
	return c.observe(ctx, ng)
}

// observe reads the group's Auto Scaling group, instances, nodes and
// activities, and writes what they mean into the status.
func (c *Controller) observe(ctx context.Context, ng *eksv1.NodeGroup) (reconcile.Result, error) {
	now := c.env.Clock.Now()
	o := observation{
		now: now, prior: ng.Status.Status, updating: ng.Status.ActiveUpdate != "",
		joinTimeout: c.env.Wait(resources.JoinTimeout), createTimeout: c.env.Wait(resources.CreateTimeout),
	}
	if ng.Status.CreatedAt != nil {
		o.created = ng.Status.CreatedAt.Time
	}
	group, err := c.cloud.GetGroup(ctx, resources.ASGName(ng))
	switch {
	case cloud.IsNotFound(err):
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("reading Auto Scaling group %s: %w", resources.ASGName(ng), err)
	default:
		o.group = group
		if o.members, err = resources.Members(ctx, c.client, c.cloud, ng); err != nil {
			return reconcile.Result{}, err
		}
		if o.activities, _, err = c.cloud.ListActivities(ctx, group.Name, cloud.Page{MaxResults: 50}); err != nil {
			return reconcile.Result{}, fmt.Errorf("listing the activities of %s: %w", group.Name, err)
		}
	}
	v := judge(o)
	c.report(ng, v)
	ng.Status.Nodes = v.nodes
	ng.Status.Health.Issues = v.issues
	c.setStatus(ng, v.status, &v)
	if v.next.IsZero() {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{RequeueAfter: v.next.Sub(now)}, nil
}

// report records the events a user asks about when a group's status or
// health changes.
func (c *Controller) report(ng *eksv1.NodeGroup, v verdict) {
	for _, issue := range v.issues {
		if hasIssue(ng.Status.Health.Issues, issue) {
			continue
		}
		note := issue.Message
		if issue.Code == eksv1.IssueNodeCreationFailure && len(issue.ResourceIDs) > 0 {
			note = fmt.Sprintf("instance %s did not join within %s", joinIDs(issue.ResourceIDs), c.env.Wait(resources.JoinTimeout))
		}
		c.recorder.Eventf(ng, nil, corev1.EventTypeWarning, string(issue.Code), "Observe", "%s", note)
	}
	if v.status == ng.Status.Status {
		return
	}
	switch v.status {
	case eksv1.StatusActive:
		c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Active", "Observe", "Node group is ACTIVE: %d of %d nodes Ready", v.nodes.Ready, v.desired)
	case eksv1.StatusDegraded:
		c.recorder.Eventf(ng, nil, corev1.EventTypeWarning, "Degraded", "Observe", "Node group is DEGRADED: %s", issueCodes(v.issues))
	case eksv1.StatusCreateFailed:
		c.recorder.Eventf(ng, nil, corev1.EventTypeWarning, "CreateFailed", "Observe", "Node group is CREATE_FAILED: %d of %d nodes Ready after %s: %s", v.nodes.Ready, v.desired, c.env.Wait(resources.CreateTimeout), issueCodes(v.issues))
	}
}

// setStatus sets the status and the conditions that follow from it.
func (c *Controller) setStatus(ng *eksv1.NodeGroup, status eksv1.Status, v *verdict) {
	ng.Status.Status = status
	ready := metav1.Condition{Type: eksv1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: ng.Generation}
	switch status {
	case eksv1.StatusActive:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, eksv1.ReasonActive, "The node group is ACTIVE"
	case eksv1.StatusCreating:
		ready.Reason, ready.Message = eksv1.ReasonCreating, "The node group is being created"
	case eksv1.StatusUpdating:
		ready.Reason, ready.Message = eksv1.ReasonUpdating, "Update "+ng.Status.ActiveUpdate+" is in progress"
	case eksv1.StatusDegraded:
		ready.Reason, ready.Message = eksv1.ReasonDegraded, "The node group has health issues: "+issueCodes(ng.Status.Health.Issues)
	case eksv1.StatusCreateFailed:
		ready.Reason, ready.Message = eksv1.ReasonCreateFailed, "The node group could not be created: "+issueCodes(ng.Status.Health.Issues)
	case eksv1.StatusDeleting:
		ready.Reason, ready.Message = eksv1.ReasonDeleting, "The node group is being deleted"
	case eksv1.StatusDeleteFailed:
		ready.Reason, ready.Message = eksv1.ReasonDeleteFailed, "The node group's cloud resources could not be deleted: "+issueCodes(ng.Status.Health.Issues)
	}
	meta.SetStatusCondition(&ng.Status.Conditions, ready)
	if v == nil {
		return
	}
	nodes := metav1.Condition{Type: eksv1.ConditionNodesReady, ObservedGeneration: ng.Generation,
		Message: fmt.Sprintf("%d of %d nodes Ready", v.nodes.Ready, v.desired)}
	switch {
	case v.nodes.Ready >= v.desired:
		nodes.Status, nodes.Reason = metav1.ConditionTrue, eksv1.ReasonAllNodesReady
	case len(v.issues) > 0:
		nodes.Status, nodes.Reason = metav1.ConditionFalse, string(v.issues[0].Code)
	case v.nodes.Instances < v.desired || v.nodes.Total < v.nodes.Instances:
		nodes.Status, nodes.Reason = metav1.ConditionFalse, eksv1.ReasonWaitingForNodes
	default:
		nodes.Status, nodes.Reason = metav1.ConditionFalse, eksv1.ReasonNodesUnavailable
	}
	meta.SetStatusCondition(&ng.Status.Conditions, nodes)
}

// patchStatus writes the status if it changed: one merge patch of the
// fields this controller owns.
func (c *Controller) patchStatus(ctx context.Context, before, ng *eksv1.NodeGroup) error {
	if equalStatus(before.Status, ng.Status) {
		return nil
	}
	if err := c.client.Status().Patch(ctx, ng, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("writing the status: %w", err)
	}
	return nil
}

func equalStatus(a, b eksv1.NodeGroupStatus) bool { return apiequality.Semantic.DeepEqual(a, b) }

func hasIssue(issues []eksv1.Issue, i eksv1.Issue) bool {
	for _, j := range issues {
		if j.Code == i.Code && fmt.Sprint(j.ResourceIDs) == fmt.Sprint(i.ResourceIDs) {
			return true
		}
	}
	return false
}

func issueCodes(issues []eksv1.Issue) string {
	if len(issues) == 0 {
		return "no issue"
	}
	s := ""
	for k, i := range issues {
		if k > 0 {
			s += ", "
		}
		s += string(i.Code)
	}
	return s
}

func joinIDs(ids []string) string {
	if len(ids) <= 3 {
		return fmt.Sprint(ids)[1 : len(fmt.Sprint(ids))-1]
	}
	return fmt.Sprintf("%s and %d more", fmt.Sprint(ids[:3])[1:len(fmt.Sprint(ids[:3]))-1], len(ids)-3)
}

// requeueSoon is how often a step that waits on the cloud looks again.
const requeueSoon = 2 * time.Second
