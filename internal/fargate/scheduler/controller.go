// Package scheduler is kdp's fargate-scheduler: it places each pod whose
// schedulerName is fargate-scheduler (the admission webhook routed it
// there) on a node of its own. For each pod it checks what Fargate cannot
// run, sizes it (internal/fargate/sizing), launches one micro-VM for it
// through cloud.Provider in a subnet of its profile, waits for the
// micro-VM's kubelet to join as node fargate-ip-…, and binds the pod to it
// with the Binding API.
//
// It is level-based and crash-safe: the launch's client token is the
// pod's UID, so a pod never gets two micro-VMs however often it is
// reconciled (a restart between the launch and the bind launches nothing
// new), and the micro-VM's tags name its pod, so a node that joins wakes
// the pod it is for. It writes as little as it can, for every write to the
// API server counts when hundreds of pods start at once: the bind (which
// carries the CapacityProvisioned annotation) and its event, and nothing
// else for a pod that can be placed (EKS's scheduler also writes
// status.nominatedNodeName first; kdp does not need it). Micro-VMs whose
// pod is gone are the teardown controller's.
package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/resources"
)

// Controller is the fargate-scheduler.
type Controller struct {
	client   client.Client
	kube     kubernetes.Interface
	cloud    cloud.Provider
	recorder events.EventRecorder
	env      resources.Env
	images   []cloud.Image
	subnets  map[string]cloud.Subnet

	// seen is when this process first saw each pod it has not yet seen
	// Running: the start of its create→Running latency (more exact than
	// its creationTimestamp, which has whole seconds).
	seen sync.Map
	// spread counts launches per profile, to spread them across subnets.
	spread sync.Map
	// tokens are the profiles' bootstrap tokens, by profile UID.
	tokens sync.Map
}

// NewController returns the fargate-scheduler. images and subnets are the
// cloud's catalogue (read once).
func NewController(c client.Client, kube kubernetes.Interface, p cloud.Provider, recorder events.EventRecorder, env resources.Env, images []cloud.Image, subnets []cloud.Subnet) *Controller {
	s := &Controller{client: c, kube: kube, cloud: p, recorder: recorder, env: env, images: images, subnets: map[string]cloud.Subnet{}}
	for _, sn := range subnets {
		s.subnets[sn.ID] = sn
	}
	return s
}

// Name is the controller's name.
func (*Controller) Name() string { return "fargate.scheduler" }

// Register adds the controller to the manager: it looks at the pods of
// fargate-scheduler, and at a node that joins, for the pod it is for.
func (s *Controller) Register(mgr ctrl.Manager) error {
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.(*corev1.Pod).Spec.SchedulerName == eksv1.FargateScheduler
	})
	return ctrl.NewControllerManagedBy(mgr).Named(s.Name()).
		For(&corev1.Pod{}, builder.WithPredicates(ours)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(s.podOf), builder.WithPredicates(fargateNode)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 32}).
		Complete(s)
}

var fargateNode = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetLabels()[eksv1.LabelComputeType] == eksv1.ComputeTypeFargate
})

// podOf is the pod a Fargate node is for: its micro-VM's tag says.
func (s *Controller) podOf(ctx context.Context, o client.Object) []reconcile.Request {
	id := cloud.InstanceOfProviderID(o.(*corev1.Node).Spec.ProviderID)
	if id == "" {
		return nil
	}
	inst, err := s.cloud.GetInstance(ctx, id)
	if err != nil {
		return nil
	}
	ns, name, ok := strings.Cut(inst.Tags[resources.TagPod], "/")
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

// Reconcile places one pod: check, size, launch, wait for the node, bind.
func (s *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pod := &corev1.Pod{}
	if err := s.client.Get(ctx, req.NamespacedName, pod); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if pod.Spec.SchedulerName != eksv1.FargateScheduler {
		return reconcile.Result{}, nil
	}
	if pod.DeletionTimestamp != nil {
		s.forget(pod.UID) // its micro-VM, if any, is teardown's
		return reconcile.Result{}, nil
	}
	if pod.Spec.NodeName != "" {
		s.observeStart(pod)
		return reconcile.Result{}, nil
	}
	if _, ok := s.seen.Load(pod.UID); !ok {
		s.seen.Store(pod.UID, s.env.Clock.Now())
	}
	profile, why, err := s.profile(ctx, pod)
	if err != nil {
		return reconcile.Result{}, err
	}
	if why != "" {
		return reconcile.Result{}, s.unschedulable(ctx, pod, why)
	}
	size, why, err := s.check(ctx, pod)
	if err != nil {
		return reconcile.Result{}, err
	}
	if why != "" {
		return reconcile.Result{}, s.unschedulable(ctx, pod, why)
	}
	inst, retry, err := s.launch(ctx, pod, profile, size)
	if err != nil || inst == nil {
		return reconcile.Result{RequeueAfter: retry}, err
	}
	node := &corev1.Node{}
	err = s.client.Get(ctx, client.ObjectKey{Name: inst.PrivateDNSName}, node)
	if apierrors.IsNotFound(err) || (err == nil && !ready(node)) {
		// The node's joining wakes the pod (the micro-VM's tags); the
		// requeue is for a join that never comes (the micro-VM ended).
		return reconcile.Result{RequeueAfter: 30 * time.Second}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, s.bind(ctx, pod, node, size, inst)
}

// profile is the pod's profile, or why the pod cannot use it.
func (s *Controller) profile(ctx context.Context, pod *corev1.Pod) (*eksv1.FargateProfile, string, error) {
	name := pod.Labels[eksv1.LabelFargateProfile]
	if name == "" {
		return nil, fmt.Sprintf("Pod is not matched to a Fargate profile: it has no %s label (set schedulerName: %s only through a profile)", eksv1.LabelFargateProfile, eksv1.FargateScheduler), nil
	}
	fp := &eksv1.FargateProfile{}
	err := s.client.Get(ctx, client.ObjectKey{Name: name}, fp)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("Fargate profile %s does not exist", name), nil
	case err != nil:
		return nil, "", err
	case fp.DeletionTimestamp != nil:
		return nil, fmt.Sprintf("Fargate profile %s is being deleted", name), nil
	case fp.Status.Status != eksv1.FargateActive:
		return nil, fmt.Sprintf("Fargate profile %s is %s, not ACTIVE", name, statusOf(fp)), nil
	}
	return fp, "", nil
}

func statusOf(fp *eksv1.FargateProfile) string {
	if fp.Status.Status == "" {
		return string(eksv1.FargateCreating)
	}
	return string(fp.Status.Status)
}

func ready(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// attempt is the pod's launch attempt (0 for its first).
func attempt(pod *corev1.Pod) int {
	n, _ := strconv.Atoi(pod.Annotations[resources.AnnotationAttempt])
	return n
}

// forget drops what the controller holds of a pod.
func (s *Controller) forget(uid types.UID) { s.seen.Delete(uid) }
