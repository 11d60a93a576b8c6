package lifecycle

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// deleteRetry is how long a deletion the cloud refused waits before it
// tries again (time-scaled, at least a second).
const deleteRetry = 30 * time.Second

func (c *Controller) deleteRetry() time.Duration { return max(c.env.Wait(deleteRetry), time.Second) }

// delete takes the group down, in order: its Auto Scaling group (whose
// termination hook holds each instance until its node is drained: the
// termination controller's work), then its launch template and bootstrap
// token, and last the finalizer. A step the cloud refuses makes the group
// DELETE_FAILED with the reason as a health issue, and is tried again.
func (c *Controller) delete(ctx context.Context, ng *eksv1.NodeGroup) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(ng, eksv1.Finalizer) {
		return reconcile.Result{}, nil
	}
	if ng.Status.Status != eksv1.StatusDeleting && ng.Status.Status != eksv1.StatusDeleteFailed {
		c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Deleting", "Delete", "Deleting node group %s: every node is drained before its instance terminates", ng.Name)
		ng.Status.Health.Issues = nil
		c.setStatus(ng, eksv1.StatusDeleting, nil)
	}
	name := resources.ASGName(ng)
	group, err := c.cloud.GetGroup(ctx, name)
	switch {
	case cloud.IsNotFound(err):
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("reading Auto Scaling group %s: %w", name, err)
	case group.Status != cloud.GroupDeleting:
		if err := c.cloud.DeleteGroup(ctx, name); err != nil && !cloud.IsNotFound(err) {
			return c.deleteFailed(ctx, ng, eksv1.IssueAutoScalingGroupInvalidConfiguration, name, err)
		}
		log.FromContext(ctx).Info("deleting the node group's Auto Scaling group", "nodegroup", ng.Name, "group", name, "instances", group.InService+group.Pending)
		c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "DeletingAutoScalingGroup", "Delete", "Deleting Auto Scaling group %s: terminating %d instances, each after its node is drained", name, group.InService+group.Pending)
		return reconcile.Result{RequeueAfter: requeueSoon}, nil
	default:
		// Its instances are going, each once drained (or its hook timed
		// out); the group's deletion events bring the next look.
		ng.Status.Nodes.Instances = group.InService + group.Pending
		return reconcile.Result{RequeueAfter: requeueSoon}, nil
	}
	lt := resources.TemplateName(ng)
	if err := c.cloud.DeleteLaunchTemplate(ctx, cloud.TemplateRef{Name: lt}); err != nil && !cloud.IsNotFound(err) {
		return c.deleteFailed(ctx, ng, eksv1.IssueEc2LaunchTemplateDeletionFailure, lt, err)
	}
	if err := join.DeleteToken(ctx, c.kube, resources.TokenID(ng)); err != nil {
		return reconcile.Result{}, err
	}
	before := ng.DeepCopy()
	controllerutil.RemoveFinalizer(ng, eksv1.Finalizer)
	if err := c.client.Patch(ctx, ng, client.MergeFrom(before)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("deleted the node group", "nodegroup", ng.Name)
	c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted node group %s: its Auto Scaling group, launch template and bootstrap token are gone", ng.Name)
	return reconcile.Result{}, nil
}

// deleteFailed marks the group DELETE_FAILED with why, and tries again
// later: the cause may pass (a template another group still uses).
func (c *Controller) deleteFailed(ctx context.Context, ng *eksv1.NodeGroup, code eksv1.IssueCode, resource string, err error) (reconcile.Result, error) {
	issue := eksv1.Issue{Code: code, Message: err.Error(), ResourceIDs: []string{resource}}
	if !hasIssue(ng.Status.Health.Issues, issue) {
		c.recorder.Eventf(ng, nil, corev1.EventTypeWarning, "DeleteFailed", "Delete", "Node group is DELETE_FAILED: %s: %v (trying again every %s)", code, err, c.deleteRetry())
	}
	ng.Status.Health.Issues = []eksv1.Issue{issue}
	c.setStatus(ng, eksv1.StatusDeleteFailed, nil)
	log.FromContext(ctx).Info("could not delete a node group's resource; trying again", "nodegroup", ng.Name, "resource", resource, "error", err.Error())
	return reconcile.Result{RequeueAfter: c.deleteRetry()}, nil
}
