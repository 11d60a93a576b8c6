// Package profile is the Fargate profile's lifecycle: CREATING until the
// pod execution role's identity may register the pods' nodes (kdp grants
// what EKS's aws-auth entry for the role grants: a bootstrap token of the
// profile's own group, allowed to ask for node certificates, which are
// approved automatically), then ACTIVE; CREATE_FAILED if that cannot be
// granted within EKS's 15 minutes. Deleting a profile makes it DELETING:
// the pods it placed are deleted (their controllers recreate them, and the
// new pods match another profile or none), and once they are gone what the
// profile granted is revoked and the profile goes.
package profile

import (
	"context"
	"fmt"
	"slices"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/join"
)

// Controller runs Fargate profiles' lifecycle.
type Controller struct {
	client   client.Client
	kube     kubernetes.Interface
	recorder events.EventRecorder
	env      resources.Env
	// private are the cloud's private subnets: a profile that names none
	// uses them all.
	private []string
}

// NewController returns the profile controller.
func NewController(c client.Client, kube kubernetes.Interface, recorder events.EventRecorder, env resources.Env, subnets []cloud.Subnet) *Controller {
	ctl := &Controller{client: c, kube: kube, recorder: recorder, env: env}
	for _, s := range subnets {
		if !s.Public {
			ctl.private = append(ctl.private, s.ID)
		}
	}
	return ctl
}

// Name is the controller's name.
func (*Controller) Name() string { return "fargate.profile" }

// Register adds the controller to the manager: it looks at a profile when
// it changes and when one of the pods it placed changes (a deleting
// profile waits for them to go).
func (c *Controller) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&eksv1.FargateProfile{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if name := o.GetLabels()[eksv1.LabelFargateProfile]; name != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
			}
			return nil
		})).
		Complete(c)
}

// Reconcile moves one profile along, and writes its status once.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	fp := &eksv1.FargateProfile{}
	if err := c.client.Get(ctx, req.NamespacedName, fp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if fp.DeletionTimestamp != nil {
		return c.delete(ctx, fp)
	}
	if controllerutil.AddFinalizer(fp, eksv1.FargateFinalizer) {
		// Before anything is granted: a profile never goes without
		// revoking what it granted.
		if err := c.client.Update(ctx, fp); err != nil {
			return reconcile.Result{}, err
		}
	}
	base := fp.DeepCopy()
	result, err := c.create(ctx, fp)
	if !apiequality.Semantic.DeepEqual(base.Status, fp.Status) {
		if perr := c.client.Status().Patch(ctx, fp, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); perr != nil && err == nil {
			err = perr
		}
	}
	return result, err
}

// create makes a new profile ACTIVE: it records what EKS reports of it,
// grants its pods' nodes their join, and checks the grant took.
func (c *Controller) create(ctx context.Context, fp *eksv1.FargateProfile) (reconcile.Result, error) {
	st := &fp.Status
	switch st.Status {
	case eksv1.FargateActive, eksv1.FargateCreateFailed:
		// Only the tags can have changed (TagResource): nothing to do
		// but say the status is of this generation.
		st.ObservedGeneration = fp.Generation
		return reconcile.Result{}, nil
	case "":
		c.setStatus(fp, eksv1.FargateCreating, "granting the pod execution role its nodes' join")
		st.CreatedAt = ptr.To(fp.CreationTimestamp)
		st.ClusterName = c.env.Cluster
		st.FargateProfileArn = resources.ARN(c.env.Account, c.env.Cluster, fp)
		st.Subnets = fp.Spec.Subnets
		if len(st.Subnets) == 0 {
			st.Subnets = slices.Clone(c.private)
		}
	}
	st.ObservedGeneration = fp.Generation
	if err := c.grant(ctx, fp); err != nil {
		return reconcile.Result{}, err
	}
	allowed, why, err := c.mayJoin(ctx, fp)
	if err != nil {
		return reconcile.Result{}, err
	}
	if allowed {
		st.Health.Issues = nil
		c.setStatus(fp, eksv1.FargateActive, "pods matching the profile's selectors run on Fargate")
		c.recorder.Eventf(fp, nil, corev1.EventTypeNormal, "Active", "Create", "Fargate profile is ACTIVE: pods matching its selectors run on Fargate from now on (pods created before keep their nodes)")
		return reconcile.Result{}, nil
	}
	st.Health.Issues = []eksv1.FargateProfileIssue{{Code: eksv1.FargateIssueAccessDenied, Message: why, ResourceIDs: []string{fp.Spec.PodExecutionRoleArn}}}
	left := c.env.Wait(resources.CreateTimeout) - c.env.Clock.Since(fp.CreationTimestamp.Time)
	if left <= 0 {
		c.setStatus(fp, eksv1.FargateCreateFailed, why)
		c.recorder.Eventf(fp, nil, corev1.EventTypeWarning, "CreateFailed", "Create", "Fargate profile is CREATE_FAILED: %s", why)
		return reconcile.Result{}, nil
	}
	return reconcile.Result{RequeueAfter: min(left, time.Second)}, nil
}

// grant gives the profile's pods' nodes their join: a bootstrap token of
// the profile's group, and that group's right to ask for node client
// certificates and have them approved.
func (c *Controller) grant(ctx context.Context, fp *eksv1.FargateProfile) error {
	labels := map[string]string{resources.LabelProfile: fp.Name}
	if _, err := join.EnsureGroupToken(ctx, c.kube, resources.TokenID(fp), "kdp Fargate profile "+fp.Name+" ("+fp.Spec.PodExecutionRoleArn+")", resources.Group(fp), labels); err != nil {
		return err
	}
	for name, role := range resources.Bindings(fp) {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: resources.Group(fp)}},
		}
		if _, err := c.kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("granting Fargate profile %s's nodes their join (ClusterRoleBinding %s): %w", fp.Name, name, err)
		}
	}
	return nil
}

// mayJoin asks the API server whether the profile's identity may do what
// a joining node does: ask for a client certificate, approved
// automatically.
func (c *Controller) mayJoin(ctx context.Context, fp *eksv1.FargateProfile) (bool, string, error) {
	for _, sub := range []string{"", "nodeclient"} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   "system:bootstrap:" + resources.TokenID(fp),
			Groups: []string{"system:bootstrappers", resources.Group(fp), "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Group: certificatesv1.GroupName, Resource: "certificatesigningrequests", Subresource: sub, Verb: "create",
			},
		}}
		got, err := c.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			return false, "", fmt.Errorf("checking Fargate profile %s's grant: %w", fp.Name, err)
		}
		if !got.Status.Allowed {
			what := "create certificatesigningrequests"
			if sub != "" {
				what += "/" + sub
			}
			return false, fmt.Sprintf("the pod execution role %s may not %s (its nodes could not join): %s", fp.Spec.PodExecutionRoleArn, what, got.Status.Reason), nil
		}
	}
	return true, "", nil
}

// setStatus sets the profile's status and its Ready condition with it.
func (c *Controller) setStatus(fp *eksv1.FargateProfile, status eksv1.FargateProfileStatusValue, message string) {
	fp.Status.Status = status
	ready := metav1.ConditionFalse
	if status == eksv1.FargateActive {
		ready = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&fp.Status.Conditions, metav1.Condition{
		Type: eksv1.FargateProfileReady, Status: ready, Reason: reasons[status], Message: message,
		ObservedGeneration: fp.Generation, LastTransitionTime: metav1.NewTime(c.env.Clock.Now()),
	})
}

var reasons = map[eksv1.FargateProfileStatusValue]string{
	eksv1.FargateCreating: "Creating", eksv1.FargateActive: "Active", eksv1.FargateDeleting: "Deleting",
	eksv1.FargateCreateFailed: "CreateFailed", eksv1.FargateDeleteFailed: "DeleteFailed",
}
