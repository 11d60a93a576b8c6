package sim

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
)

// NodeLifecycleController does what a cloud-controller-manager's node
// lifecycle controller does: it deletes the Node of an instance that is
// terminated (or gone). A node whose kubelet died is left to
// kube-controller-manager, which marks it NotReady and taints it once its
// Lease stops being renewed.
type NodeLifecycleController struct {
	client   client.Client
	recorder events.EventRecorder
}

// NewNodeLifecycleController returns the node lifecycle controller.
func NewNodeLifecycleController(c client.Client, recorder events.EventRecorder) *NodeLifecycleController {
	return &NodeLifecycleController{client: c, recorder: recorder}
}

// Name is the controller's name.
func (*NodeLifecycleController) Name() string { return "sim.nodelifecycle" }

// Register adds the controller to the manager.
func (n *NodeLifecycleController) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(n.Name()).For(&corev1.Node{}).
		Watches(&simv1.Instance{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if name := o.(*simv1.Instance).Status.PrivateDNSName; name != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
			}
			return nil
		})).
		WithOptions(controllerOptions()).Complete(n)
}

// InstanceID returns the instance id of a simulated node's providerID
// (aws:///<zone>/<id>), or "".
func InstanceID(node *corev1.Node) string {
	rest, ok := strings.CutPrefix(node.Spec.ProviderID, "aws:///")
	if !ok {
		return ""
	}
	_, id, _ := strings.Cut(rest, "/")
	return id
}

// Reconcile deletes one node if its instance is terminated.
func (n *NodeLifecycleController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	node := &corev1.Node{}
	if err := n.client.Get(ctx, req.NamespacedName, node); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	id := InstanceID(node)
	if id == "" || !node.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	inst := &simv1.Instance{}
	err := n.client.Get(ctx, client.ObjectKey{Name: id}, inst)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	gone := err != nil || inst.Status.State == simv1.StateTerminated || inst.Status.State == simv1.StateShuttingDown
	if !gone {
		return reconcile.Result{}, nil
	}
	if err := n.client.Delete(ctx, node); client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	reason := "not found"
	if inst.Status.State != "" {
		reason = inst.Status.State + " (" + inst.Spec.TerminationReason + ")"
	}
	log.FromContext(ctx).Info("deleted node of a terminated instance", "node", node.Name, "instance", id, "state", reason)
	n.recorder.Eventf(node, nil, corev1.EventTypeNormal, "DeletingNode", "NodeLifecycle", "Deleting node %s because instance %s is %s", node.Name, id, reason)
	return reconcile.Result{}, nil
}
