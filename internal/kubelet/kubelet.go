package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
)

// Controller plays the kubelet of each running instance: it reads the
// instance's user data (a join.NodeConfig), joins through TLS bootstrap,
// registers the Node as system:node:<name> with the labels and taints of
// the user data, and then renews the node's Lease every Heartbeat.
// Registration uses the node's own credentials, as NodeRestriction demands;
// heartbeats use kdp's, which spares the API server a TLS client per node
// (KWOK does the same). Its requests are instance ids.
type Controller struct {
	client   client.Client
	cloud    cloud.Provider
	machines *machines
	clock    clock.Clock
	timing   Timing
	recorder events.EventRecorder

	// registered and renewed hold, per instance, when its kubelet
	// registered its Node and last renewed its Lease: hints that spare
	// writes while the cache catches up; after a restart of kdp the Nodes
	// alone tell who has joined, and every Lease is renewed at once.
	registered, renewed sync.Map
	// signed wakes the kubelets waiting for their CSRs.
	signed waiters
	// bootstrapClients are the TLS-bootstrap clients, one per NodeConfig
	// endpoint and token: a clientset costs more to build than a join.
	bootstrapClients sync.Map
	// nodeConfigs are the user data parsed, by their text.
	nodeConfigs sync.Map
}

// nodeConfig parses user data, once for all the instances launched with it.
func (k *Controller) nodeConfig(userData string) (*join.NodeConfig, error) {
	if nc, ok := k.nodeConfigs.Load(userData); ok {
		return nc.(*join.NodeConfig), nil
	}
	nc, err := join.Parse([]byte(userData))
	if err == nil {
		k.nodeConfigs.Store(userData, nc)
	}
	return nc, err
}

func (k *Controller) bootstrapClient(nc *join.NodeConfig) (kubernetes.Interface, error) {
	key := nc.Spec.Cluster.APIServerEndpoint + " " + nc.Spec.Kubelet.BootstrapToken
	if c, ok := k.bootstrapClients.Load(key); ok {
		return c.(kubernetes.Interface), nil
	}
	c, err := join.BootstrapClient(nc)
	if err != nil {
		return nil, err
	}
	actual, _ := k.bootstrapClients.LoadOrStore(key, c)
	return actual.(kubernetes.Interface), nil
}

// NewController returns the kubelet simulator.
func NewController(c client.Client, p cloud.Provider, m *machines, clk clock.Clock, timing Timing, recorder events.EventRecorder) *Controller {
	return &Controller{client: c, cloud: p, machines: m, clock: clk, timing: timing, recorder: recorder}
}

// Name is the controller's name.
func (*Controller) Name() string { return "kubelet" }

// Register adds the controller to the manager: it hears of instances from
// the cloud's events (an instance started or stopped running, its kubelet
// died).
func (k *Controller) Register(mgr ctrl.Manager) error {
	// Joining kubelets wait for their certificates on kdp's shared CSR
	// informer, woken by its updates.
	csrs, err := mgr.GetCache().GetInformer(context.Background(), &certificatesv1.CertificateSigningRequest{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	if _, err := csrs.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
				k.signed.notify(csr.Name)
			}
		},
	}); err != nil {
		return err
	}
	relevant := func(e cloud.Event) bool {
		s := stateChange(e)
		return s == cloud.StateRunning || s == cloud.StateShuttingDown || e.DetailType == cloud.DetailKubeletFailed || e.DetailType == cloud.DetailConditionFailed
	}
	return ctrl.NewControllerManagedBy(mgr).Named(k.Name()).
		WatchesRawSource(instanceEvents(k.cloud, []string{cloud.StateRunning}, relevant, byInstance)).
		WithOptions(kubeletOptions()).Complete(k)
}

// Reconcile joins or heartbeats one instance's node.
func (k *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	inst, err := k.cloud.GetInstance(ctx, req.Name)
	if cloud.IsNotFound(err) || (err == nil && (inst.State != cloud.StateRunning || inst.KubeletFailed)) {
		k.forget(req.Name)
		return reconcile.Result{}, nil // no kubelet runs
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	// The registered Node is the record of the join: a kubelet that has
	// one heartbeats, one that has none joins.
	nodeName := inst.PrivateDNSName
	node := &corev1.Node{}
	err = k.client.Get(ctx, client.ObjectKey{Name: nodeName}, node)
	switch id, ours := InstanceOf(node); {
	case err == nil && ours && id == inst.ID:
		if err := k.reportConditions(ctx, inst, node); err != nil {
			return reconcile.Result{}, err
		}
		next, err := k.heartbeat(ctx, inst.ID, node)
		return reconcile.Result{RequeueAfter: next}, err
	case err == nil:
		// A Node of that name that is not this instance's: an earlier
		// instance's at the same address, on its way out, or one kdp did
		// not launch, which it leaves alone (and which keeps this kubelet
		// from registering, as it would a real one).
		return reconcile.Result{RequeueAfter: 10 * time.Second}, nil
	case !apierrors.IsNotFound(err):
		return reconcile.Result{}, err
	}
	if at, ok := k.registered.Load(inst.ID); ok {
		if k.clock.Since(at.(time.Time)) < time.Minute {
			return reconcile.Result{RequeueAfter: time.Second}, nil // registered; the cache has yet to see it
		}
		// Its Node was deleted while it ran. A real kubelet registers once
		// per start and does not register again (which is why EKS's node
		// repair replaces such an instance); this one does the same, until
		// kdp restarts, which starts its kubelets again.
		log.FromContext(ctx).Info("the node of a running kubelet was deleted; it does not register again", "instance", inst.ID, "node", nodeName)
		return reconcile.Result{}, nil
	}
	join := k.timing.Join
	if inst.MicroVM != nil {
		join = k.timing.MicroVMJoin
	}
	if wait := k.timing.jittered(join, inst.ID+"/join") - k.clock.Since(inst.StateTransitionTime); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	return k.join(ctx, inst)
}

func (k *Controller) forget(instance string) {
	k.registered.Delete(instance)
	k.renewed.Delete(instance)
}

// nodeRef is what a kubelet's events are about: its Node, which may not
// exist yet.
func nodeRef(name string) *corev1.Node {
	return &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func (k *Controller) join(ctx context.Context, inst *cloud.Instance) (reconcile.Result, error) {
	nodeName := inst.PrivateDNSName
	userData, err := k.cloud.GetUserData(ctx, inst.ID)
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if userData == "" {
		return reconcile.Result{}, nil // not a node: nothing to join with
	}
	nc, err := k.nodeConfig(userData)
	if err != nil {
		// A kubelet with bad user data never starts; nothing to retry.
		k.recorder.Eventf(nodeRef(nodeName), nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot join: its user data: %v", inst.ID, err)
		return reconcile.Result{}, nil
	}
	bootstrap, err := k.bootstrapClient(nc)
	if err != nil {
		return reconcile.Result{}, err
	}
	creds, err := join.Bootstrap(ctx, bootstrap, nodeName, k.waitForCertificate)
	if err != nil {
		return reconcile.Result{}, err
	}
	cfg, err := join.NodeClientConfig(nc, creds)
	if err != nil {
		return reconcile.Result{}, err
	}
	node, err := k.machines.node(inst, nc, nodeName, metav1.NewTime(k.clock.Now()))
	if err != nil {
		k.recorder.Eventf(nodeRef(nodeName), nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot join: %v", inst.ID, err)
		return reconcile.Result{}, nil
	}
	cfg.UserAgent = "kubelet/" + node.Status.NodeInfo.KubeletVersion + " (linux/" + node.Status.NodeInfo.Architecture + ")"
	uid, err := register(ctx, cfg, node, inst.ID)
	if err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
			// As a real kubelet, it would fail the same way again.
			k.recorder.Eventf(nodeRef(nodeName), nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot register node %s: %v", inst.ID, nodeName, err)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("registering node %s: %w", nodeName, err)
	}
	now := k.clock.Now()
	k.registered.Store(inst.ID, now) // so that a retry waits for the cache rather than joining again
	// The kubelet's first Lease comes with its registration (or, should
	// this fail, with the first heartbeat).
	if err := client.IgnoreAlreadyExists(k.client.Create(ctx, k.lease(nodeName, uid))); err != nil {
		return reconcile.Result{}, err
	}
	k.renewed.Store(inst.ID, now)
	// The Node's own RegisteredNode event (kube-controller-manager's)
	// tells users; an Event here too would cost a write per node.
	log.FromContext(ctx).Info("node joined", "instance", inst.ID, "node", nodeName)
	return reconcile.Result{RequeueAfter: k.timing.Heartbeat}, nil
}

// heartbeat renews the node's Lease once a Heartbeat has passed since it
// last did (right away after a restart of kdp), as the kubelet does every
// 10 seconds (kube-controller-manager's node lifecycle controller reads
// it), and creates the Lease if it is missing. It writes without reading:
// no cache of every node's Lease. It returns when to come back.
func (k *Controller) heartbeat(ctx context.Context, instance string, node *corev1.Node) (time.Duration, error) {
	now := k.clock.Now()
	if last, ok := k.renewed.Load(instance); ok {
		if wait := k.timing.Heartbeat - now.Sub(last.(time.Time)); wait > 0 {
			return wait, nil
		}
	}
	if err := renewLease(ctx, k.client, node, now); err != nil {
		return 0, err
	}
	k.renewed.Store(instance, now)
	return k.timing.Heartbeat, nil
}

// renewLease renews a node's Lease, creating it if it is missing. A JSON
// patch whose test makes sure the Lease is this Node's (owned by it) leaves
// a Lease of that name that is not alone.
func renewLease(ctx context.Context, c client.Client, node *corev1.Node, now time.Time) error {
	renew, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/ownerReferences/0/uid", "value": node.UID},
		{"op": "replace", "path": "/spec/renewTime", "value": metav1.NewMicroTime(now)},
	})
	if err != nil {
		return err
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: corev1.NamespaceNodeLease, Name: node.Name}}
	err = c.Patch(ctx, lease, client.RawPatch(types.JSONPatchType, renew))
	switch {
	case apierrors.IsNotFound(err):
		return client.IgnoreAlreadyExists(c.Create(ctx, newLease(node.Name, node.UID, now)))
	case apierrors.IsInvalid(err):
		log.FromContext(ctx).Info("not renewing a Lease that is not the node's", "node", node.Name, "error", err.Error())
		return nil
	}
	return err
}

// lease is a node's Lease as its kubelet creates it, owned by the Node.
func (k *Controller) lease(nodeName string, uid types.UID) *coordinationv1.Lease {
	return newLease(nodeName, uid, k.clock.Now())
}

func newLease(nodeName string, uid types.UID, now time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: nodeName, Namespace: corev1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: nodeName, UID: uid}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(nodeName), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: ptr.To(metav1.NewMicroTime(now)),
		},
	}
}
