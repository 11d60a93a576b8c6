// Package audit tells users of pods that should have run on Fargate and do
// not. Fargate's pod webhook fails open (failurePolicy Ignore, as EKS's):
// a pod created while kdp's webhook did not answer (kdp down, or not yet
// reachable) is admitted as it is, and the default scheduler places it on
// EC2 nodes or leaves it Pending. Such a pod gets a Warning event naming
// the profile it matches and what to do. A pod created before the profile
// took pods is left alone, as on EKS (a profile moves no running pods).
package audit

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/fargate/matching"
)

// Controller audits pods as they are created (and, at a start of kdp,
// every pod there is).
type Controller struct {
	client   client.Client
	recorder events.EventRecorder
	// told are the pods this process has warned about.
	told sync.Map
}

// NewController returns the audit controller.
func NewController(c client.Client, recorder events.EventRecorder) *Controller {
	return &Controller{client: c, recorder: recorder}
}

// Name is the controller's name.
func (*Controller) Name() string { return "fargate.audit" }

// Register adds the controller to the manager.
func (c *Controller) Register(mgr ctrl.Manager) error {
	created := predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			p := e.Object.(*corev1.Pod)
			return p.Spec.SchedulerName != eksv1.FargateScheduler && p.DeletionTimestamp == nil
		},
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(e event.DeleteEvent) bool { c.told.Delete(e.Object.GetUID()); return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&corev1.Pod{}, builder.WithPredicates(created)).
		Complete(c)
}

// Reconcile warns about one pod if it matches a profile that took pods
// when the pod was created.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pod := &corev1.Pod{}
	if err := c.client.Get(ctx, req.NamespacedName, pod); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if _, done := c.told.Load(pod.UID); done || pod.Spec.SchedulerName == eksv1.FargateScheduler {
		return reconcile.Result{}, nil
	}
	if ok, _ := matching.Eligible(pod); !ok {
		return reconcile.Result{}, nil
	}
	profiles := &eksv1.FargateProfileList{}
	if err := c.client.List(ctx, profiles); err != nil {
		return reconcile.Result{}, err
	}
	name, ok := matching.Select(profiles.Items, pod)
	if !ok {
		return reconcile.Result{}, nil
	}
	for i := range profiles.Items {
		if fp := &profiles.Items[i]; fp.Name == name && createdWhileServing(pod, fp) {
			c.warn(pod, fp)
		}
	}
	return reconcile.Result{}, nil
}

// createdWhileServing reports whether the pod was created after the profile
// became ACTIVE: creation and transition times have whole seconds, and the
// webhook's list of profiles lags a little, so a pod of the same or the
// next second is given the benefit of the doubt.
func createdWhileServing(pod *corev1.Pod, fp *eksv1.FargateProfile) bool {
	ready := meta.FindStatusCondition(fp.Status.Conditions, eksv1.FargateProfileReady)
	if ready == nil || ready.Status != "True" {
		return false
	}
	return pod.CreationTimestamp.Time.After(ready.LastTransitionTime.Add(time.Second))
}

func (c *Controller) warn(pod *corev1.Pod, fp *eksv1.FargateProfile) {
	c.told.Store(pod.UID, true)
	c.recorder.Eventf(pod, fp, corev1.EventTypeWarning, "NotOnFargate", "Admission",
		"Pod matches Fargate profile %s but was created without kdp's Fargate webhook (kdp was down or the API server could not reach it; the webhook fails open, as EKS's does), so it is not on Fargate: delete it, and its controller's new pod runs on Fargate", fp.Name)
}
