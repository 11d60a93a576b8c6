package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
)

// Labels kdp's simulated kubelets register with, besides the well-known ones.
const (
	LabelInstanceID = "sim.kdp.dev/instance-id"
)

// KubeletController plays the kubelet of each running instance: it reads
// the instance's user data (a join.NodeConfig), joins through TLS
// bootstrap, registers the Node as system:node:<name> with the labels and
// taints of the user data, and then renews the node's Lease every
// Heartbeat. Registration uses the node's own credentials, as NodeRestriction
// demands; heartbeats use kdp's, which spares the API server a TLS client
// per node (KWOK does the same).
type KubeletController struct {
	client   client.Client
	catalog  *Catalog
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
}

// NewKubeletController returns the kubelet simulator.
func NewKubeletController(c client.Client, catalog *Catalog, clk clock.Clock, timing Timing, recorder events.EventRecorder) *KubeletController {
	return &KubeletController{client: c, catalog: catalog, clock: clk, timing: timing, recorder: recorder}
}

// Name is the controller's name.
func (*KubeletController) Name() string { return "sim.kubelet" }

// Register adds the controller to the manager.
func (k *KubeletController) Register(mgr ctrl.Manager) error {
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
	return ctrl.NewControllerManagedBy(mgr).Named(k.Name()).
		For(&simv1.Instance{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: kubeletChange})).
		WithOptions(kubeletOptions()).Complete(k)
}

// kubeletChange tells whether an instance update concerns its kubelet: it
// started or stopped running, its kubelet failed, its user data changed.
// Everything else EC2 and Auto Scaling write does not (heartbeats run on
// their own timer).
var kubeletChange = instanceUpdate(func(old, cur *simv1.Instance) bool {
	return old.Status.State != cur.Status.State || old.Spec.KubeletFailed != cur.Spec.KubeletFailed ||
		old.Spec.UserData != cur.Spec.UserData
})

// Reconcile joins or heartbeats one instance's node.
func (k *KubeletController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	inst := &simv1.Instance{}
	if err := k.client.Get(ctx, req.NamespacedName, inst); err != nil {
		k.forget(req.Name)
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if inst.Status.State != simv1.StateRunning || inst.Spec.KubeletFailed || inst.Spec.UserData == "" {
		k.forget(req.Name)
		return reconcile.Result{}, nil // no kubelet runs
	}
	// The registered Node is the record of the join: a kubelet that has
	// one heartbeats, one that has none joins.
	nodeName := inst.Status.PrivateDNSName
	node := &corev1.Node{}
	err := k.client.Get(ctx, client.ObjectKey{Name: nodeName}, node)
	switch {
	case err == nil && InstanceID(node) == inst.Name:
		next, err := k.heartbeat(ctx, inst.Name, node)
		return reconcile.Result{RequeueAfter: next}, err
	case err == nil:
		// The Node of an earlier instance at the same address, on its way
		// out (the node lifecycle controller deletes it).
		return reconcile.Result{RequeueAfter: time.Second}, nil
	case !apierrors.IsNotFound(err):
		return reconcile.Result{}, err
	}
	if at, ok := k.registered.Load(inst.Name); ok && k.clock.Since(at.(time.Time)) < time.Minute {
		return reconcile.Result{RequeueAfter: time.Second}, nil // registered; the cache has yet to see it
	}
	if wait := k.timing.Jittered(k.timing.Join, inst.Name+"/join") - k.clock.Since(inst.Status.StateTransitionTime.Time); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	return k.join(ctx, inst)
}

func (k *KubeletController) forget(instance string) {
	k.registered.Delete(instance)
	k.renewed.Delete(instance)
}

func (k *KubeletController) join(ctx context.Context, inst *simv1.Instance) (reconcile.Result, error) {
	nc, err := join.Parse([]byte(inst.Spec.UserData))
	if err != nil {
		// A kubelet with bad user data never starts; nothing to retry.
		k.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot join: %v", inst.Name, err)
		return reconcile.Result{}, nil
	}
	nodeName := inst.Status.PrivateDNSName
	creds, err := join.Bootstrap(ctx, nc, nodeName, k.waitForCertificate)
	if err != nil {
		return reconcile.Result{}, err
	}
	cfg, err := join.NodeClientConfig(nc, creds)
	if err != nil {
		return reconcile.Result{}, err
	}
	node, err := k.node(inst, nc, nodeName)
	if err != nil {
		k.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot join: %v", inst.Name, err)
		return reconcile.Result{}, nil
	}
	cfg.UserAgent = "kubelet/" + node.Status.NodeInfo.KubeletVersion + " (linux/" + node.Status.NodeInfo.Architecture + ")"
	uid, err := register(ctx, cfg, node, inst.Name)
	if err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
			// As a real kubelet, it would fail the same way again.
			k.recorder.Eventf(inst, nil, corev1.EventTypeWarning, "JoinFailed", "Join", "Instance %s cannot register node %s: %v", inst.Name, nodeName, err)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("registering node %s: %w", nodeName, err)
	}
	now := k.clock.Now()
	k.registered.Store(inst.Name, now) // so that a retry waits for the cache rather than joining again
	// The kubelet's first Lease comes with its registration (or, should
	// this fail, with the first heartbeat).
	if err := client.IgnoreAlreadyExists(k.client.Create(ctx, k.lease(nodeName, uid))); err != nil {
		return reconcile.Result{}, err
	}
	k.renewed.Store(inst.Name, now)
	// The Node's own RegisteredNode event (kube-controller-manager's)
	// tells users; an Event here too would cost a write per node.
	log.FromContext(ctx).Info("node joined", "instance", inst.Name, "node", nodeName)
	return reconcile.Result{RequeueAfter: k.timing.Heartbeat}, nil
}

// waitForCertificate reads the CSR from kdp's shared cache until it is
// signed, woken by the cache's updates, instead of a watch per joining node
// (the API server's cost of a thousand watches is the simulator's, not the
// kubelets').
func (k *KubeletController) waitForCertificate(ctx context.Context, name string, uid types.UID) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer k.signed.forget(name)
	for {
		updated := k.signed.wait(name) // before reading, so no update is missed
		req := &certificatesv1.CertificateSigningRequest{}
		err := k.client.Get(ctx, client.ObjectKey{Name: name}, req)
		switch {
		case err == nil && req.UID != uid:
			return nil, fmt.Errorf("CSR %s was replaced", name)
		case err == nil:
			for _, c := range req.Status.Conditions {
				if (c.Type == certificatesv1.CertificateDenied || c.Type == certificatesv1.CertificateFailed) && c.Status == corev1.ConditionTrue {
					return nil, fmt.Errorf("CSR %s %s: %s", name, c.Type, c.Message)
				}
			}
			if len(req.Status.Certificate) > 0 {
				return req.Status.Certificate, nil
			}
		case !apierrors.IsNotFound(err): // not yet in the cache is fine
			return nil, err
		}
		select {
		case <-updated:
		case <-time.After(time.Second): // the CSR's creation, which no update announces
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waiters wakes goroutines waiting on a named object.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// wait returns a channel closed at the next notify of name.
func (w *waiters) wait(name string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]chan struct{}{}
	}
	ch, ok := w.m[name]
	if !ok {
		ch = make(chan struct{})
		w.m[name] = ch
	}
	return ch
}

func (w *waiters) notify(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[name]; ok {
		close(ch)
		delete(w.m, name)
	}
}

func (w *waiters) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, name)
}

// register creates the Node as the node itself and returns its UID; a Node
// of that name already registered by this instance (before a restart of
// kdp) will do, another instance's will not. The
// node's client gets a transport of its own, outside client-go's transport
// cache (which would keep one per node certificate forever), closed once
// the Node exists.
func register(ctx context.Context, cfg *rest.Config, node *corev1.Node, instance string) (types.UID, error) {
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	cfg.ContentType = runtime.ContentTypeProtobuf // as the kubelet talks
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	defer hc.CloseIdleConnections()
	cs, err := corev1client.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return "", err
	}
	created, err := cs.Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) { // registered before a restart
		created, err = cs.Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err == nil && InstanceID(created) != instance {
			return "", fmt.Errorf("node %s is still instance %s's", node.Name, InstanceID(created)) // retried until it goes
		}
	}
	if err != nil {
		return "", err
	}
	return created.UID, nil
}

// node is the Node a kubelet on inst registers.
func (k *KubeletController) node(inst *simv1.Instance, nc *join.NodeConfig, name string) (*corev1.Node, error) {
	it, ok := k.catalog.InstanceType(inst.Spec.InstanceType)
	if !ok {
		return nil, fmt.Errorf("unknown instance type %s", inst.Spec.InstanceType)
	}
	img, ok := k.catalog.Image(inst.Spec.ImageID)
	if !ok {
		return nil, fmt.Errorf("unknown image %s", inst.Spec.ImageID)
	}
	labels, _ := nc.Labels() // checked by Parse
	taints, _ := nc.Taints()
	if labels == nil {
		labels = map[string]string{}
	}
	for key, v := range map[string]string{
		"kubernetes.io/hostname":           name,
		"kubernetes.io/arch":               it.Architecture,
		"kubernetes.io/os":                 "linux",
		"beta.kubernetes.io/arch":          it.Architecture, // as the kubelet still sets them
		"beta.kubernetes.io/os":            "linux",
		"node.kubernetes.io/instance-type": it.Name,
		"topology.kubernetes.io/region":    k.catalog.Region,
		"topology.kubernetes.io/zone":      inst.Spec.Zone,
		LabelInstanceID:                    inst.Name,
	} {
		labels[key] = v
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(it.VCPU), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(it.MemoryMiB*1024*1024, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(it.MaxPods()), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("20Gi"),
	}
	if it.GPUs > 0 {
		capacity["nvidia.com/gpu"] = *resource.NewQuantity(int64(it.GPUs), resource.DecimalSI)
	}
	now := metav1.NewTime(k.clock.Now())
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.NodeSpec{
			ProviderID: "aws:///" + inst.Spec.Zone + "/" + inst.Name,
			Taints:     taints,
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable(capacity, it),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: inst.Spec.PrivateIP},
				{Type: corev1.NodeHostName, Address: name},
				{Type: corev1.NodeInternalDNS, Address: name},
			},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: now, LastTransitionTime: now},
			},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion:          "v" + img.KubernetesVersion,
				OSImage:                 osImage(img),
				OperatingSystem:         "linux",
				Architecture:            it.Architecture,
				ContainerRuntimeVersion: "containerd://2.1.4",
				KernelVersion:           "6.12.40",
				MachineID:               inst.Name,
				SystemUUID:              inst.Name,
				BootID:                  inst.Name,
			},
		},
	}, nil
}

// allocatable reserves for the system what EKS's AMIs reserve: memory
// 255 MiB + 11 MiB per pod, CPU by the kubelet's tiered formula (6 % of the
// first core, 1 % of the second, 0.5 % of the next two, 0.25 % of the rest).
func allocatable(capacity corev1.ResourceList, it cloud.InstanceType) corev1.ResourceList {
	out := capacity.DeepCopy()
	memReserved := int64(255+11*it.MaxPods()) * 1024 * 1024
	cpuReservedMilli := int64(0)
	for core := 1; core <= it.VCPU; core++ {
		switch {
		case core == 1:
			cpuReservedMilli += 60
		case core == 2:
			cpuReservedMilli += 10
		case core <= 4:
			cpuReservedMilli += 5
		default:
			cpuReservedMilli += 2 // 0.25 %, rounded down as the AMI does
		}
	}
	out[corev1.ResourceMemory] = *resource.NewQuantity(it.MemoryMiB*1024*1024-memReserved-100*1024*1024, resource.BinarySI) // and 100 MiB eviction threshold
	out[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(it.VCPU)*1000-cpuReservedMilli, resource.DecimalSI)
	return out
}

func osImage(img cloud.Image) string {
	if len(img.Type) >= 12 && img.Type[:12] == "BOTTLEROCKET" {
		return "Bottlerocket OS 1.44.0 (aws-k8s-" + minor(img.KubernetesVersion) + ")"
	}
	return "Amazon Linux 2023.9.20261101"
}

func minor(v string) string {
	for i, dots := 0, 0; i < len(v); i++ {
		if v[i] == '.' {
			dots++
			if dots == 2 {
				return v[:i]
			}
		}
	}
	return v
}

// heartbeat renews the node's Lease once a Heartbeat has passed since it
// last did (right away after a restart of kdp), as the kubelet does every
// 10 seconds (kube-controller-manager's node lifecycle controller reads
// it), and creates the Lease if it is missing. It writes without reading:
// no cache of every node's Lease. It returns when to come back.
func (k *KubeletController) heartbeat(ctx context.Context, instance string, node *corev1.Node) (time.Duration, error) {
	now := k.clock.Now()
	if last, ok := k.renewed.Load(instance); ok {
		if wait := k.timing.Heartbeat - now.Sub(last.(time.Time)); wait > 0 {
			return wait, nil
		}
	}
	renew, err := json.Marshal(map[string]any{"spec": map[string]any{"renewTime": metav1.NewMicroTime(now)}})
	if err != nil {
		return 0, err
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: corev1.NamespaceNodeLease, Name: node.Name}}
	err = k.client.Patch(ctx, lease, client.RawPatch(types.MergePatchType, renew))
	if apierrors.IsNotFound(err) {
		err = client.IgnoreAlreadyExists(k.client.Create(ctx, k.lease(node.Name, node.UID)))
	}
	if err != nil {
		return 0, err
	}
	k.renewed.Store(instance, now)
	return k.timing.Heartbeat, nil
}

// lease is a node's Lease as its kubelet creates it, owned by the Node.
func (k *KubeletController) lease(nodeName string, uid types.UID) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: nodeName, Namespace: corev1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: nodeName, UID: uid}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(nodeName), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: ptr.To(metav1.NewMicroTime(k.clock.Now())),
		},
	}
}
