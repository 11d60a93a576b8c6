// Package teardown removes the micro-VMs of Fargate pods that are gone: a
// pod's node lives as long as the pod object does (a Succeeded or Failed
// pod keeps its node, and is billed for it, until it is deleted, as on
// EKS). It is level-based: each sweep compares the micro-VMs the cloud
// runs for the cluster with the pods there are, so micro-VMs whose pods
// went while kdp was down go at its next start. The Node goes with its
// instance (the cloud node lifecycle controller's job).
package teardown

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/resources"
)

// Interval is how often a sweep runs when no pod goes.
const Interval = 30 * time.Second

// sweep is the one request: every sweep looks at everything.
var sweep = reconcile.Request{NamespacedName: types.NamespacedName{Name: "micro-vms"}}

// Controller sweeps micro-VMs.
type Controller struct {
	client client.Client
	cloud  cloud.Instances
}

// NewController returns the teardown controller.
func NewController(c client.Client, p cloud.Instances) *Controller {
	return &Controller{client: c, cloud: p}
}

// Name is the controller's name.
func (*Controller) Name() string { return "fargate.teardown" }

// Register adds the controller to the manager: it sweeps at start, when a
// Fargate pod is deleted, and every Interval. Deletions that come together
// (a Deployment scaled to 0) make one sweep.
func (c *Controller) Register(mgr ctrl.Manager) error {
	gone := predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(event.UpdateEvent) bool { return false },
		DeleteFunc: func(e event.DeleteEvent) bool {
			return e.Object.(*corev1.Pod).Spec.SchedulerName == eksv1.FargateScheduler
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	atStart := source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(sweep)
		return nil
	})
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		WatchesRawSource(atStart).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
			return []reconcile.Request{sweep}
		}), builder.WithPredicates(gone)).
		Complete(c)
}

// Reconcile terminates every micro-VM whose pod is gone.
func (c *Controller) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	vms, err := c.microVMs(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(vms) == 0 {
		return reconcile.Result{RequeueAfter: Interval}, nil
	}
	pods := &corev1.PodList{}
	if err := c.client.List(ctx, pods); err != nil {
		return reconcile.Result{}, err
	}
	live := make(map[string]*corev1.Pod, len(pods.Items))
	for i := range pods.Items {
		live[string(pods.Items[i].UID)] = &pods.Items[i]
	}
	for _, vm := range vms {
		pod, ok := live[vm.Tags[cloud.TagMicroVMPod]]
		if ok && (pod.Spec.NodeName == "" || pod.Spec.NodeName == vm.PrivateDNSName) {
			continue
		}
		if err := c.cloud.TerminateInstance(ctx, vm.ID, false); err != nil && !cloud.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("terminating micro-VM %s: %w", vm.ID, err)
		}
		log.FromContext(ctx).Info("terminated the micro-VM of a pod that is gone", "instance", vm.ID, "node", vm.PrivateDNSName, "pod", vm.Tags[resources.TagPod])
	}
	return reconcile.Result{RequeueAfter: Interval}, nil
}

// microVMs are the cluster's micro-VMs that run or boot.
func (c *Controller) microVMs(ctx context.Context) ([]cloud.Instance, error) {
	var out []cloud.Instance
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		is, next, err := c.cloud.ListInstances(ctx, cloud.InstanceFilter{States: []string{cloud.StatePending, cloud.StateRunning}}, page)
		if err != nil {
			return nil, fmt.Errorf("listing micro-VMs: %w", err)
		}
		for _, i := range is {
			if i.MicroVM != nil && i.Group == "" {
				out = append(out, i)
			}
		}
		if next == "" {
			return out, nil
		}
		page.NextToken = next
	}
}
