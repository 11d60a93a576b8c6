package drain_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// drainer runs a manager (for its cache, with the pod index) and returns a
// Drainer on it.
func drainer(t *testing.T) (*drain.Drainer, client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(env.Config, manager.Options{MetricsAddr: "0", HealthAddr: "0", SkipNameValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := drain.IndexPods(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	return drain.New(mgr.GetClient(), mgr.GetEventRecorder("drain-test")), mgr.GetClient()
}

func readyNode(t *testing.T, name string) *corev1.Node {
	t.Helper()
	ctx := context.Background()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), n) })
	// kube-controller-manager may write the new node (its taints) first:
	// the status is written on what is there.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		n.Status = corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now()}},
		}
		return env.Client.Status().Update(ctx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	heartbeat(t, name)
	return n
}

// heartbeat renews the node's Lease as a kubelet would, so that
// kube-controller-manager keeps the node (and its pods) Ready for the test.
func heartbeat(t *testing.T, node string) {
	ctx := testenv.Context(t)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &metav1.MicroTime{Time: time.Now()}},
	}
	if err := env.Client.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), lease) })
	go func() {
		for range time.Tick(2 * time.Second) {
			if ctx.Err() != nil {
				return
			}
			lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			_ = env.Client.Update(ctx, lease)
		}
	}()
}

// pod creates a pod bound to node, Running and Ready (there is no kubelet
// here to make it so), with no grace period so that an eviction deletes it
// at once.
func pod(t *testing.T, ns, name, node string, mutate func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName: node, TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	phase := p.Status.Phase
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if phase == "" {
		phase = corev1.PodRunning
	}
	p.Status = corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIntegration_DrainHonoursBudgetsAndLeavesDaemonSets(t *testing.T) {
	ctx := testenv.Context(t)
	d, c := drainer(t)
	ns := env.Namespace(t)
	node := readyNode(t, "drain-1")

	// Two replicas behind a budget that lets one go at a time.
	for _, name := range []string{"web-1", "web-2"} {
		pod(t, ns, name, node.Name, func(p *corev1.Pod) { p.Labels["app"] = "web" })
	}
	budget := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	if err := env.Client.Create(ctx, budget); err != nil {
		t.Fatal(err)
	}
	// The disruption controller sees both replicas healthy.
	testenv.Eventually(t, 30*time.Second, func() error {
		got := &policyv1.PodDisruptionBudget{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(budget), got); err != nil {
			return err
		}
		if got.Status.DisruptionsAllowed != 1 || got.Status.ObservedGeneration != got.Generation {
			return fmt.Errorf("budget status %+v", got.Status)
		}
		return nil
	})
	// Pods that must go whatever they hold: local storage, no controller.
	pod(t, ns, "scratch", node.Name, func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	})
	// And pods that stay: a DaemonSet's, and one that has finished.
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
	if err := env.Client.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var agent types.NamespacedName
	testenv.Eventually(t, 30*time.Second, func() error { // the DaemonSet's pod, scheduled to the node
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "agent"}, client.MatchingFields{drain.NodeNameIndex: node.Name}); err != nil {
			return err
		}
		if len(pods.Items) != 1 {
			return fmt.Errorf("%d agent pods on the node", len(pods.Items))
		}
		agent = client.ObjectKeyFromObject(&pods.Items[0])
		return nil
	})
	pod(t, ns, "job", node.Name, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	testenv.Eventually(t, 10*time.Second, func() error { // every pod in the cache
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.MatchingFields{drain.NodeNameIndex: node.Name}); err != nil {
			return err
		}
		if len(pods.Items) != 5 {
			return fmt.Errorf("%d pods on the node in the cache", len(pods.Items))
		}
		return nil
	})

	req := drain.Request{Reason: "test", Group: "g"}
	fresh := func() *corev1.Node {
		n := &corev1.Node{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(node), n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	r, err := d.Step(ctx, fresh(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh().Spec.Unschedulable {
		t.Fatal("the node was not cordoned")
	}
	// One replica and the scratch pod went; the other replica is blocked,
	// naming its budget.
	if r.Done || r.Evicted != 2 || len(r.Blocked) != 1 || r.Blocked[0].Budget != ns+"/web" ||
		!strings.Contains(r.Blocked[0].Message, "PodDisruptionBudget "+ns+"/web allows 0 disruptions") {
		t.Fatalf("first step: %+v", r)
	}
	blocked := r.Blocked[0].Pod
	for _, gone := range []string{"scratch"} {
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: gone}, &corev1.Pod{}); !apierrors.IsNotFound(err) {
			t.Errorf("pod %s was not evicted: %v", gone, err)
		}
	}
	// Again: still blocked, nothing more evicted.
	testenv.Eventually(t, 10*time.Second, func() error {
		r, err = d.Step(ctx, fresh(), req)
		if err != nil {
			return err
		}
		if r.Done || r.Evicted != 0 || len(r.Remaining) != 1 || r.Remaining[0] != blocked {
			return fmt.Errorf("second step: %+v", r)
		}
		return nil
	})
	// The budget lifted, the last replica goes and the drain is done; the
	// DaemonSet's pod and the finished one are still there.
	if err := env.Client.Delete(ctx, budget); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		r, err = d.Step(ctx, fresh(), req)
		if err != nil {
			return err
		}
		if !r.Done {
			return fmt.Errorf("not done: %+v", r)
		}
		return nil
	})
	for _, stays := range []types.NamespacedName{agent, {Namespace: ns, Name: "job"}} {
		if err := env.Client.Get(ctx, stays, &corev1.Pod{}); err != nil {
			t.Errorf("pod %s should have stayed: %v", stays, err)
		}
	}
	// The refusal is an event on the node.
	testenv.Eventually(t, 10*time.Second, func() error {
		evs := &corev1.EventList{}
		if err := env.Client.List(ctx, evs, client.MatchingFields{"involvedObject.name": node.Name}); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == "EvictionBlocked" && strings.Contains(e.Message, "PodDisruptionBudget "+ns+"/web") {
				return nil
			}
		}
		return fmt.Errorf("no EvictionBlocked event among %d", len(evs.Items))
	})
}

func TestStays(t *testing.T) {
	for _, c := range []struct {
		name  string
		pod   corev1.Pod
		stays bool
	}{
		{"mirror pod", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "x"}}}, true},
		{"daemonset pod", corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "d", Controller: ptr.To(true)}}}}, true},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, true},
		{"failed", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, true},
		{"replicaset pod", corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "r", Controller: ptr.To(true)}}}}, false},
		{"bare pod", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, false},
		{"non-controller daemonset owner", corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "d"}}}}, false},
	} {
		if got := drain.Stays(&c.pod); got != c.stays {
			t.Errorf("%s: stays %v, want %v", c.name, got, c.stays)
		}
	}
}

// TestIntegration_AnEvictionSentIsSeenThrough: kdp stopping mid-drain (its
// context cancelled) does not abandon an eviction request, which would
// leave the pod's budget counting it as disrupted for two minutes while
// the pod stays: the pod is evicted.
func TestIntegration_AnEvictionSentIsSeenThrough(t *testing.T) {
	d, _ := drainer(t)
	ns := env.Namespace(t)
	node := readyNode(t, "evict-through")
	p := pod(t, ns, "web", node.Name, nil)
	stopping, cancel := context.WithCancel(context.Background())
	cancel()
	if blocked, err := drain.Evict(d, stopping, p, node, drain.Request{Reason: "test"}); err != nil || blocked != nil {
		t.Fatalf("evicting with a cancelled context: blocked %v, %v", blocked, err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(p), &corev1.Pod{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod %s still there: %v", p.Name, err)
		}
		return nil
	})
}
