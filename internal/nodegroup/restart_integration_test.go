package nodegroup_test

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_RestartInTheMiddleOfAScaleIn: kdp (controllers and
// cloud) stops while a scale-in drains nodes whose pods a budget guards,
// and starts again on the same data: the scale-in ends with no instance
// launched twice, every node that went drained first, the budget never
// violated (counted by a watcher of the pods' own) and one update record.
func TestIntegration_RestartInTheMiddleOfAScaleIn(t *testing.T) {
	k := start(t, options{})
	ns := env.Namespace(t)
	ng := group(t, "restart", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 4}
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	d := deployment(t, ns, "steady", ng.Name, 8, false)
	defer func() { _ = env.Client.Delete(context.Background(), d) }() // before the group goes
	waitAvailable(t, ns, "steady", 8, time.Minute)
	budget(t, ns, "steady", nil, ptr.To(intstr.FromInt32(1)))
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "steady", 1) })
	pods := watchBudget(t, ns, "steady", 8)
	gone := watchDeletedNodes(t, ng.Name)

	scale(t, ng.Name, 1, 1, 4)
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, n := range nodesOf(t, ng.Name) {
			if n.Annotations[termination.AnnotationDrainStarted] != "" {
				return nil
			}
		}
		return errorf("no node is draining yet")
	})
	k.stop()
	k = start(t, options{dir: k.dir})

	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 1, time.Minute)
	testenv.Eventually(t, time.Minute, func() error {
		if n := len(nodesOf(t, ng.Name)); n != 1 {
			return errorf("%d nodes", n)
		}
		return nil
	})
	waitAvailable(t, ns, "steady", 8, time.Minute)

	if fewest := pods.Fewest(); fewest < 7 {
		t.Errorf("the budget (maxUnavailable 1 of 8) was violated: %d pods healthy at one moment", fewest)
	}
	if ever := instancesEver(t, k.provider, get(t, ng.Name)); len(ever) != 4 {
		t.Errorf("%d instances launched, want 4", len(ever))
	}
	for name, result := range gone.results() {
		if result != drain.ResultDrained {
			t.Errorf("node %s went with drain result %q, want %q", name, result, drain.ResultDrained)
		}
	}
	if n := len(gone.results()); n != 3 {
		t.Errorf("%d nodes went, want 3", n)
	}
	records := updatesOf(t, ng.Name)
	if len(records) != 1 || records[0].Status.Status != eksv1.UpdateSuccessful {
		t.Errorf("records %+v, want one successful", records)
	}
}

// deletedNodes records, from its own watch, the drain result each of a
// group's nodes had when it was deleted.
type deletedNodes struct {
	mu   sync.Mutex
	last map[string]string
}

func (d *deletedNodes) results() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]string, len(d.last))
	for k, v := range d.last {
		out[k] = v
	}
	return out
}

func watchDeletedNodes(t testing.TB, group string) *deletedNodes {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := env.Clientset.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{LabelSelector: eksv1.LabelNodegroup + "=" + group})
	if err != nil {
		t.Fatal(err)
	}
	d := &deletedNodes{last: map[string]string{}}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for e := range w.ResultChan() {
			n, ok := e.Object.(*corev1.Node)
			if !ok || e.Type != watch.Deleted {
				continue
			}
			d.mu.Lock()
			d.last[n.Name] = n.Annotations[termination.AnnotationDrainResult]
			d.mu.Unlock()
		}
	}()
	return d
}

// TestIntegration_NewNodesJoinWhereTheAPIServerIsNow: a group created
// while kdp told nodes another API server address (kdp started then with
// another --apiserver-port, say) gets, when kdp starts again, a launch
// template version with the address it has now, and its new nodes join.
func TestIntegration_NewNodesJoinWhereTheAPIServerIsNow(t *testing.T) {
	k := start(t, options{joinServer: "https://127.0.0.1:1"})
	ng := group(t, "moved", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 2, DesiredSize: 0}
	})
	defer deleteGroup(t, ng.Name, time.Minute)
	before := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute).Status.Resources.LaunchTemplate.Version
	k.stop()

	start(t, options{dir: k.dir})
	testenv.Eventually(t, 30*time.Second, func() error {
		if len(events(t, ng.Name, "JoinEndpointChanged")) != 1 {
			return errorf("no JoinEndpointChanged event")
		}
		if v := get(t, ng.Name).Status.Resources.LaunchTemplate.Version; v == before {
			return errorf("launch template still at version %s", v)
		}
		return nil
	})
	scale(t, ng.Name, 0, 2, 2)
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 2, time.Minute)
}

// TestIntegration_PodsMarkedNotReadyAreReadyAgain: the node lifecycle
// controller marks a node's pods not Ready when the node stops reporting
// (kdp down past the grace period); once its simulated kubelet reports
// again they are Ready again, as a kubelet's status manager makes them,
// and a budget over them allows disruptions again.
func TestIntegration_PodsMarkedNotReadyAreReadyAgain(t *testing.T) {
	start(t, options{})
	ctx := testenv.Context(t)
	ns := env.Namespace(t)
	ng := group(t, "ready-again", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 1, DesiredSize: 1}
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	d := deployment(t, ns, "web", ng.Name, 2, false)
	defer func() { _ = env.Client.Delete(context.Background(), d) }()
	waitAvailable(t, ns, "web", 2, time.Minute)

	pods := &corev1.PodList{}
	if err := env.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "web"}); err != nil {
		t.Fatal(err)
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		base := pod.DeepCopy()
		for j := range pod.Status.Conditions {
			if c := &pod.Status.Conditions[j]; c.Type == corev1.PodReady {
				// What the node lifecycle controller writes.
				c.Status, c.Reason, c.LastTransitionTime = corev1.ConditionFalse, "NodeNotReady", metav1.Now()
			}
		}
		if err := env.Client.Status().Patch(ctx, pod, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "web"}); err != nil {
			return err
		}
		for _, pod := range pods.Items {
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodReady && (c.Status != corev1.ConditionTrue || c.Reason != "") {
					return errorf("pod %s: Ready %s (%s)", pod.Name, c.Status, c.Reason)
				}
			}
		}
		return nil
	})
}
