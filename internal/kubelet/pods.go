package kubelet

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kdp-project/kdp/internal/cloud"
)

// PodController plays the kubelet's pod lifecycle on simulated nodes: a pod
// bound to one starts (Running, Ready, with an IP from the node's subnet)
// after the PodStart delay, a pod with run-seconds completes, and a
// deleted pod stops after its stop time, capped by its grace period.
type PodController struct {
	client   client.Client
	cloud    cloud.Instances
	machines *machines
	clock    clock.Clock
	timing   Timing
	// pulls is the image cache of each zone, for micro-VMs' pods.
	pulls pulls
}

// NewPodController returns the pod simulator.
func NewPodController(c client.Client, p cloud.Instances, m *machines, clk clock.Clock, timing Timing) *PodController {
	return &PodController{client: c, cloud: p, machines: m, clock: clk, timing: timing}
}

// Name is the controller's name.
func (*PodController) Name() string { return "kubelet.pods" }

// Register adds the controller to the manager.
func (p *PodController) Register(mgr ctrl.Manager) error {
	bound := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.(*corev1.Pod).Spec.NodeName != "" })
	return ctrl.NewControllerManagedBy(mgr).Named(p.Name()).
		For(&corev1.Pod{}, builder.WithPredicates(bound)).
		WithOptions(controllerOptions()).Complete(p)
}

// Reconcile moves one pod along.
func (p *PodController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pod := &corev1.Pod{}
	if err := p.client.Get(ctx, req.NamespacedName, pod); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	node := &corev1.Node{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	id, ours := InstanceOf(node)
	if !ours {
		return reconcile.Result{}, nil // not a simulated node: another kubelet's pods
	}
	inst, err := p.cloud.GetInstance(ctx, id)
	if cloud.IsNotFound(err) || (err == nil && (inst.KubeletFailed || inst.State != cloud.StateRunning)) {
		return reconcile.Result{}, nil // no kubelet to start or stop anything
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	now := p.clock.Now()
	if owner := inst.Tags[cloud.TagMicroVMPod]; inst.MicroVM != nil && owner != string(pod.UID) && pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodFailed {
		return reconcile.Result{}, p.reject(ctx, pod, node)
	}

	if pod.DeletionTimestamp != nil {
		stop := time.Second
		if s, err := strconv.Atoi(pod.Annotations[AnnotationStopSeconds]); err == nil {
			stop = time.Duration(s) * time.Second
		}
		if grace := pod.DeletionGracePeriodSeconds; grace != nil && time.Duration(*grace)*time.Second < stop {
			stop = time.Duration(*grace) * time.Second
		}
		requested := pod.DeletionTimestamp.Add(-time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 30)) * time.Second)
		if wait := requested.Add(stop).Sub(now); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		// The containers have exited: remove the pod, as the kubelet does.
		// Only this pod (a newer one of the same name may be on its way).
		return reconcile.Result{}, client.IgnoreNotFound(p.client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &pod.UID}))
	}

	switch pod.Status.Phase {
	case corev1.PodPending, "":
		scheduled := pod.CreationTimestamp.Time
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
				scheduled = c.LastTransitionTime.Time
			}
		}
		start := p.timing.jittered(p.timing.PodStart, string(pod.UID))
		if inst.MicroVM != nil {
			start = p.pulls.pulled(pod, inst.Zone, scheduled, p.timing).Sub(scheduled)
		}
		if wait := start - now.Sub(scheduled); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		p.pulls.forget(pod.UID)
		return p.start(ctx, pod, node, inst.MicroVM != nil)
	case corev1.PodRunning:
		if !podReady(pod) {
			// The node lifecycle controller marks a node's pods not Ready
			// when the node stops reporting (kdp was down past the grace
			// period); a kubelet that reports again says they are, as the
			// kubelet's status manager does.
			if !nodeReady(node) {
				return reconcile.Result{RequeueAfter: max(p.timing.Heartbeat, 100*time.Millisecond)}, nil
			}
			return reconcile.Result{}, p.ready(ctx, pod)
		}
		s, err := strconv.Atoi(pod.Annotations[AnnotationRunSeconds])
		if err != nil || pod.Status.StartTime == nil {
			return reconcile.Result{}, nil
		}
		if wait := pod.Status.StartTime.Add(time.Duration(s) * time.Second).Sub(now); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		return reconcile.Result{}, p.complete(ctx, pod)
	}
	return reconcile.Result{}, nil
}

func (p *PodController) start(ctx context.Context, pod *corev1.Pod, node *corev1.Node, microVM bool) (reconcile.Result, error) {
	base := pod.DeepCopy()
	now := metav1.NewTime(p.clock.Now())
	hostIP := ""
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			hostIP = a.Address
		}
	}
	podIP := hostIP // on a micro-VM the pod has the machine's own address, as on Fargate
	if !pod.Spec.HostNetwork && !microVM {
		podIP = p.podIP(node, pod)
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP, pod.Status.PodIP = hostIP, podIP
	pod.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	pod.Status.PodIPs = []corev1.PodIP{{IP: podIP}}
	pod.Status.StartTime = &now
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(pod, t, now)
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr.To(true),
			ContainerID: "containerd://" + string(pod.UID) + "-" + c.Name,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return reconcile.Result{}, p.client.Status().Patch(ctx, pod, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// ready reports a running pod's containers Ready again.
func (p *PodController) ready(ctx context.Context, pod *corev1.Pod) error {
	base := pod.DeepCopy()
	now := metav1.NewTime(p.clock.Now())
	for _, t := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(pod, t, now)
	}
	for i := range pod.Status.ContainerStatuses {
		pod.Status.ContainerStatuses[i].Ready = true
	}
	return p.client.Status().Patch(ctx, pod, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (p *PodController) complete(ctx context.Context, pod *corev1.Pod) error {
	base := pod.DeepCopy()
	now := metav1.NewTime(p.clock.Now())
	pod.Status.Phase = corev1.PodSucceeded
	for i := range pod.Status.Conditions {
		if c := &pod.Status.Conditions[i]; c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			c.Status, c.LastTransitionTime, c.Reason = corev1.ConditionFalse, now, "PodCompleted"
		}
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		started := now
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
		cs.Ready, cs.Started = false, ptr.To(false)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: now}}
	}
	return p.client.Status().Patch(ctx, pod, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// podIP gives a pod an address of its node's subnet, as the VPC CNI does.
func (p *PodController) podIP(node *corev1.Node, pod *corev1.Pod) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod.UID))
	for _, s := range p.machines.subnets {
		if s.Zone == node.Labels["topology.kubernetes.io/zone"] && !s.Public {
			if ip, err := s.Address(256 + int(h.Sum32()%3500)); err == nil {
				return ip
			}
		}
	}
	return ""
}

func setPodCondition(pod *corev1.Pod, t corev1.PodConditionType, now metav1.Time) {
	for i := range pod.Status.Conditions {
		if c := &pod.Status.Conditions[i]; c.Type == t {
			c.Status, c.LastTransitionTime, c.Reason, c.Message = corev1.ConditionTrue, now, "", ""
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
}

// reject fails a pod bound to a micro-VM that is not its own, as a kubelet
// rejects a pod it cannot admit: a micro-VM runs the one pod it was
// launched for (a DaemonSet that tolerates every taint gets its pod there
// rejected; its controller tries again later).
func (p *PodController) reject(ctx context.Context, pod *corev1.Pod, node *corev1.Node) error {
	base := pod.DeepCopy()
	pod.Status.Phase = corev1.PodFailed
	pod.Status.Reason = "MicroVMAdmission"
	pod.Status.Message = "Pod was rejected: " + node.Name + " is the Fargate micro-VM of another pod and runs no other pod"
	return p.client.Status().Patch(ctx, pod, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// pulls model the image pulls of micro-VMs' pods: a pod pulls all its
// images at once; an image no pod of the zone pulled before takes
// ImagePull (cold), one the zone has takes ImagePullCached (warm), and a
// pod that asks while another pulls the same image waits for that pull.
// It is simulation: a restart of kdp starts with cold caches.
type pulls struct {
	mu sync.Mutex
	// cached is when each zone has (or will have) each image.
	cached map[string]time.Time
	// ready is when each pod's images are pulled, once decided.
	ready map[types.UID]time.Time
}

// pulled returns when pod, bound at scheduled in zone, has its images.
func (p *pulls) pulled(pod *corev1.Pod, zone string, scheduled time.Time, t Timing) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.ready[pod.UID]; ok {
		return at
	}
	if p.cached == nil {
		p.cached, p.ready = map[string]time.Time{}, map[types.UID]time.Time{}
	}
	done := scheduled
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		key := zone + "/" + c.Image
		at, ok := p.cached[key]
		switch {
		case !ok:
			at = scheduled.Add(t.jittered(t.ImagePull, string(pod.UID)+"/"+c.Image))
			p.cached[key] = at
		case at.Before(scheduled):
			at = scheduled.Add(t.jittered(t.ImagePullCached, string(pod.UID)+"/"+c.Image))
		}
		done = later(done, at)
	}
	p.ready[pod.UID] = done
	return done
}

// forget drops a pod's decision (it has started or is gone).
func (p *pulls) forget(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ready, uid)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
