package kubelet

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kdp-project/kdp/internal/cloud"
)

// NodeLifecycleController does what a cloud-controller-manager's node
// lifecycle controller does, for the nodes kdp launched only: it deletes the
// Node of an instance that is shutting down or gone. A Node is kdp's when
// its providerID and its sim.kdp.dev/instance-id label name the same
// instance and the cloud has a record of launching that instance for this
// cluster; any other Node (a real cluster's, with an aws:/// providerID of
// an instance kdp never launched) is never modified or deleted. A node whose
// kubelet died keeps its instance: kube-controller-manager marks it NotReady
// and taints it once its Lease stops, as on any cluster.
type NodeLifecycleController struct {
	client   client.Client
	cloud    cloud.Provider
	recorder events.EventRecorder
}

// NewNodeLifecycleController returns the node lifecycle controller.
func NewNodeLifecycleController(c client.Client, p cloud.Provider, recorder events.EventRecorder) *NodeLifecycleController {
	return &NodeLifecycleController{client: c, cloud: p, recorder: recorder}
}

// Name is the controller's name.
func (*NodeLifecycleController) Name() string { return "kubelet.nodelifecycle" }

// Register adds the controller to the manager: it looks at a Node when it
// changes and when its instance starts shutting down.
func (n *NodeLifecycleController) Register(mgr ctrl.Manager) error {
	ending := func(e cloud.Event) bool {
		s := stateChange(e)
		return s == cloud.StateShuttingDown || s == cloud.StateTerminated
	}
	return ctrl.NewControllerManagedBy(mgr).Named(n.Name()).For(&corev1.Node{}).
		WatchesRawSource(instanceEvents(n.cloud, []string{cloud.StateShuttingDown}, ending, n.nodeOf)).
		WithOptions(controllerOptions()).Complete(n)
}

// nodeOf is the request of the Node of an instance the cloud launched.
func (n *NodeLifecycleController) nodeOf(ctx context.Context, id string) []reconcile.Request {
	l, err := n.cloud.Launched(ctx, id)
	if err != nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: l.PrivateDNSName}}}
}

// Reconcile deletes one node if kdp launched its instance and the instance
// has ended.
func (n *NodeLifecycleController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	node := &corev1.Node{}
	if err := n.client.Get(ctx, req.NamespacedName, node); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	id, ours := InstanceOf(node)
	if !ours || !node.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	l, err := n.cloud.Launched(ctx, id)
	if cloud.IsNotFound(err) {
		log.FromContext(ctx).V(1).Info("leaving a node alone: the cloud never launched its instance", "node", node.Name, "instance", id)
		return reconcile.Result{}, nil
	}
	if err != nil || l.Ended == nil {
		return reconcile.Result{}, err
	}
	why := "gone"
	if inst, err := n.cloud.GetInstance(ctx, id); err == nil {
		why = inst.State
		if inst.StateReason != "" {
			why += " (" + inst.StateReason + ")"
		}
	}
	// The precondition keeps a newer Node of the same name (a later
	// instance at the same address) from being deleted in its stead.
	err = n.client.Delete(ctx, node, client.Preconditions{UID: &node.UID})
	if err := client.IgnoreNotFound(err); err != nil {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("deleted the node of an ended instance", "node", node.Name, "instance", id, "state", why)
	n.recorder.Eventf(node, nil, corev1.EventTypeNormal, "DeletingNode", "NodeLifecycle", "Deleting node %s because instance %s is %s", node.Name, id, why)
	return reconcile.Result{}, nil
}
