package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/testenv"
)

// plainKubelets is the baseline's stand-in for KWOK's default stages on the
// plain Nodes of startPlain, run in the benchmark's process as KWOK runs in
// its own: each node's Lease renewed every 10 seconds, and every pod bound
// to a node patched Running and Ready, once, with the status a kubelet
// reports (phase, IPs, start time, conditions, container statuses). It is
// the least work that makes pods Running, the reference kdp's simulated
// kubelets are measured against.
type plainKubelets struct {
	client kubernetes.Interface
	queue  workqueue.TypedRateLimitingInterface[types.NamespacedName]
	pods   cache.Indexer
	// podIPs counts the pod addresses given.
	podIPs atomic.Int64
}

// runPlainKubelets starts plainKubelets for n nodes; stop ends them.
func runPlainKubelets(b *testing.B, e *testenv.Env, n int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	// Protobuf, as kdp's simulated kubelets and KWOK speak it.
	cfg := rest.CopyConfig(e.Config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.QPS, cfg.Burst = -1, 0 // no client-side limit, as KWOK's
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	k := &plainKubelets{client: cs, queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())}
	factory := informers.NewSharedInformerFactory(cs, 0)
	informer := factory.Core().V1().Pods().Informer()
	k.pods = informer.GetIndexer()
	enqueue := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" && pod.Status.Phase == corev1.PodPending && pod.DeletionTimestamp == nil {
			k.queue.Add(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name})
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		b.Fatal(err)
	}
	stopInformers := runInformers(factory)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k.runPod(ctx, b) {
			}
		})
	}
	wg.Go(func() { k.heartbeats(ctx, b, n) })
	return func() {
		cancel()
		k.queue.ShutDown()
		wg.Wait()
		stopInformers()
	}
}

func (k *plainKubelets) runPod(ctx context.Context, b *testing.B) bool {
	key, shutdown := k.queue.Get()
	if shutdown {
		return false
	}
	defer k.queue.Done(key)
	obj, ok, _ := k.pods.GetByKey(key.String())
	if !ok {
		return true
	}
	pod := obj.(*corev1.Pod)
	if pod.Status.Phase != corev1.PodPending {
		return true
	}
	now := metav1.Now()
	var node int
	if _, err := fmt.Sscanf(pod.Spec.NodeName, "plain-%d", &node); err != nil {
		b.Errorf("pod %s on node %s: not a plain node", key, pod.Spec.NodeName)
		return true
	}
	ip := k.podIPs.Add(1)
	hostIP, podIP := plainNodeIP(node), fmt.Sprintf("10.2.%d.%d", ip/250%250, 1+ip%250)
	status := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    hostIP,
		HostIPs:   []corev1.HostIP{{IP: hostIP}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &now,
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		status.Conditions = append(status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr.To(true),
			ContainerID: "containerd://" + string(pod.UID) + "-" + c.Name,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		b.Error(err)
		return true
	}
	if _, err := k.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil && ctx.Err() == nil {
		b.Logf("pod %s: %v (retrying)", key, err)
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	return true
}

// heartbeats renews every node's Lease every 10 seconds, spread over the
// interval, until ctx ends.
func (k *plainKubelets) heartbeats(ctx context.Context, b *testing.B, n int) {
	const interval = 10 * time.Second
	tick := time.NewTicker(interval / time.Duration(n))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i = (i + 1) % n {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wg.Go(func() {
			patch := fmt.Appendf(nil, `{"spec":{"renewTime":%q}}`, metav1.NowMicro().Format(metav1.RFC3339Micro))
			_, err := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Patch(ctx, plainNodeName(i), types.MergePatchType, patch, metav1.PatchOptions{})
			if err != nil && ctx.Err() == nil {
				b.Errorf("lease %s: %v", plainNodeName(i), err)
			}
		})
	}
}
