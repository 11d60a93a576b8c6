package profile

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/join"
)

// delete takes a deleted profile down: DELETING, its pods deleted, what it
// granted revoked, and then its finalizer removed.
func (c *Controller) delete(ctx context.Context, fp *eksv1.FargateProfile) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(fp, eksv1.FargateFinalizer) {
		return reconcile.Result{}, nil
	}
	if fp.Status.Status != eksv1.FargateDeleting {
		base := fp.DeepCopy()
		c.setStatus(fp, eksv1.FargateDeleting, "deleting the pods the profile placed")
		if err := c.client.Status().Patch(ctx, fp, client.MergeFrom(base)); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		c.recorder.Eventf(fp, nil, corev1.EventTypeNormal, "Deleting", "Delete", "Fargate profile is DELETING: deleting the pods it placed")
	}
	pods := &corev1.PodList{}
	if err := c.client.List(ctx, pods, client.MatchingLabels{eksv1.LabelFargateProfile: fp.Name}); err != nil {
		return reconcile.Result{}, err
	}
	left := 0
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Spec.SchedulerName != eksv1.FargateScheduler {
			continue // labelled by hand, not placed by the profile
		}
		left++
		if pod.DeletionTimestamp != nil {
			continue
		}
		err := c.client.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return reconcile.Result{}, c.failDelete(ctx, fp, fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err))
		}
		c.recorder.Eventf(pod, fp, corev1.EventTypeNormal, "FargateProfileDeleted", "Delete", "Fargate profile %s is being deleted: the pod is deleted, and its controller's new pod runs through another matching profile or stays Pending", fp.Name)
	}
	if left > 0 {
		// The pods' going wakes the profile; this is for one that hangs.
		return reconcile.Result{RequeueAfter: 10 * time.Second}, nil
	}
	if err := c.revoke(ctx, fp); err != nil {
		return reconcile.Result{}, c.failDelete(ctx, fp, err)
	}
	controllerutil.RemoveFinalizer(fp, eksv1.FargateFinalizer)
	return reconcile.Result{}, client.IgnoreNotFound(c.client.Update(ctx, fp))
}

// revoke removes what grant gave.
func (c *Controller) revoke(ctx context.Context, fp *eksv1.FargateProfile) error {
	for name := range resources.Bindings(fp) {
		err := c.kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("revoking ClusterRoleBinding %s: %w", name, err)
		}
	}
	return join.DeleteToken(ctx, c.kube, resources.TokenID(fp))
}

// failDelete reports a deletion that cannot go on as DELETE_FAILED, with
// the error as its issue; it is tried again.
func (c *Controller) failDelete(ctx context.Context, fp *eksv1.FargateProfile, cause error) error {
	base := fp.DeepCopy()
	c.setStatus(fp, eksv1.FargateDeleteFailed, cause.Error())
	fp.Status.Health.Issues = []eksv1.FargateProfileIssue{{Code: eksv1.FargateIssueInternalFailure, Message: cause.Error()}}
	if !apiequality.Semantic.DeepEqual(base.Status, fp.Status) {
		if err := c.client.Status().Patch(ctx, fp, client.MergeFrom(base)); err != nil {
			return err
		}
		c.recorder.Eventf(fp, nil, corev1.EventTypeWarning, "DeleteFailed", "Delete", "Fargate profile is DELETE_FAILED: %v", cause)
	}
	return cause
}
