package update

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

func TestRelabelled(t *testing.T) {
	node := func(labels map[string]string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	added := metav1.Now()
	// Taints other controllers put on are left alone.
	unreachable := corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	gpu := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	for _, c := range []struct {
		name       string
		node       *corev1.Node
		change     resources.Change
		wantLabels map[string]string
		wantTaints []corev1.Taint
	}{
		{"nothing", node(map[string]string{"team": "web"}, gpu), resources.Change{}, map[string]string{"team": "web"}, []corev1.Taint{gpu}},
		{"labels added and changed, others left",
			node(map[string]string{"team": "web", "kubernetes.io/hostname": "n", "eks.amazonaws.com/nodegroup": "web"}),
			resources.Change{LabelsToAdd: map[string]string{"team": "api", "env": "prod"}},
			map[string]string{"team": "api", "env": "prod", "kubernetes.io/hostname": "n", "eks.amazonaws.com/nodegroup": "web"}, nil},
		{"labels on a node without any", node(nil), resources.Change{LabelsToAdd: map[string]string{"env": "prod"}},
			map[string]string{"env": "prod"}, nil},
		{"labels removed, absent ones too", node(map[string]string{"team": "web", "env": "prod"}),
			resources.Change{LabelsToRemove: []string{"env", "absent"}}, map[string]string{"team": "web"}, nil},
		{"a taint added in EKS's spelling", node(nil, unreachable),
			resources.Change{TaintsToAdd: []eksv1.Taint{{Key: "spot", Effect: eksv1.PreferNoSchedule}}},
			map[string]string{}, []corev1.Taint{unreachable, {Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}}},
		{"a taint's new value replaces it in place", node(nil, gpu, unreachable),
			resources.Change{TaintsToAdd: []eksv1.Taint{{Key: "dedicated", Value: "cpu", Effect: eksv1.NoSchedule}}},
			map[string]string{}, []corev1.Taint{{Key: "dedicated", Value: "cpu", Effect: corev1.TaintEffectNoSchedule}, unreachable}},
		{"a taint of the same key and another effect is another taint", node(nil, gpu),
			resources.Change{TaintsToAdd: []eksv1.Taint{{Key: "dedicated", Value: "gpu", Effect: eksv1.NoExecute}}},
			map[string]string{}, []corev1.Taint{gpu, {Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute}}},
		{"a taint removed by key and effect, whatever its value", node(nil, gpu, unreachable),
			resources.Change{TaintsToRemove: []eksv1.Taint{{Key: "dedicated", Value: "other", Effect: eksv1.NoSchedule}}},
			map[string]string{}, []corev1.Taint{unreachable}},
		{"a taint of another effect is not removed", node(nil, gpu),
			resources.Change{TaintsToRemove: []eksv1.Taint{{Key: "dedicated", Value: "gpu", Effect: eksv1.NoExecute}}},
			map[string]string{}, []corev1.Taint{gpu}},
		{"a taint a user took off is not put back by another change", node(nil),
			resources.Change{LabelsToAdd: map[string]string{"env": "prod"}},
			map[string]string{"env": "prod"}, nil},
	} {
		before := c.node.DeepCopy()
		got := relabelled(c.node, c.change)
		if !reflect.DeepEqual(got.Labels, c.wantLabels) {
			t.Errorf("%s: labels %v, want %v", c.name, got.Labels, c.wantLabels)
		}
		if !reflect.DeepEqual(got.Spec.Taints, c.wantTaints) {
			t.Errorf("%s: taints %v, want %v", c.name, got.Spec.Taints, c.wantTaints)
		}
		if !reflect.DeepEqual(c.node, before) {
			t.Errorf("%s: relabelled changed the node it was given", c.name)
		}
	}
}

func TestIsLabelOrTaintFlag(t *testing.T) {
	for flag, want := range map[string]bool{
		"--node-labels=a=b":                   true,
		"--node-labels=":                      true,
		"--register-with-taints=k:NoSchedule": true,
		"--node-labels":                       false, // no value: not one kdp writes
		"--max-pods=58":                       false,
		"--node-labels-extra=a=b":             false,
		"node-labels=a=b":                     false,
		"--register-with-taints-and-more=x":   false,
		"":                                    false,
	} {
		if got := isLabelOrTaintFlag(flag); got != want {
			t.Errorf("isLabelOrTaintFlag(%q) = %v, want %v", flag, got, want)
		}
	}
}

func TestScaleNote(t *testing.T) {
	for _, c := range []struct {
		from, to int32
		want     string
	}{
		{2, 5, ": launching 3 instances"},
		{5, 2, ": 3 nodes are drained, then their instances terminate"},
		{0, 1, ": launching 1 instances"},
		{3, 3, ""},
	} {
		if got := scaleNote(c.from, c.to); got != c.want {
			t.Errorf("scaleNote(%d, %d) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}
