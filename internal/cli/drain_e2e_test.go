package cli_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_DrainRefusesToBreakAPodDisruptionBudget drains a node whose two
// pods are covered by a PDB that allows no disruption: the node is cordoned,
// every eviction is refused until --timeout, and both pods stay.
func TestE2E_DrainRefusesToBreakAPodDisruptionBudget(t *testing.T) {
	e, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	ns := e.Namespace(t)

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "self-managed-1"}}
	if err := e.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	base := node.DeepCopy()
	node.Status = corev1.NodeStatus{
		Capacity:   corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if err := e.Client.Status().Patch(ctx, node, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "db"}
	for i := range 2 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("db-%d", i), Namespace: ns, Labels: labels},
			Spec:       corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "db", Image: "postgres"}}},
		}
		if err := e.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		base := pod.DeepCopy()
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
		if err := e.Client.Status().Patch(ctx, pod, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}
	if err := e.Client.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(pdb), pdb); err != nil {
			return err
		}
		if pdb.Status.CurrentHealthy != 2 || pdb.Status.ObservedGeneration != pdb.Generation {
			return fmt.Errorf("PDB status %+v", pdb.Status)
		}
		return nil
	})

	code, out, stderr := kdp(t, "nodes", "drain", node.Name, "--kubeconfig", e.Kubeconfig(), "--timeout", "3s", "--force")
	if code == 0 || !strings.Contains(stderr, "disruption budget") || !strings.Contains(stderr, "draining self-managed-1 (still cordoned)") {
		t.Fatalf("drain: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(node), node); err != nil || !node.Spec.Unschedulable {
		t.Errorf("node not cordoned (unschedulable=%v, %v)", node.Spec.Unschedulable, err)
	}
	var pods corev1.PodList
	if err := e.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			t.Errorf("pod %s was evicted despite the PDB", p.Name)
		}
	}
	if len(pods.Items) != 2 {
		t.Errorf("%d pods left, want 2", len(pods.Items))
	}
}
