package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestMonitoringConditions: nothing is written for a node that never had a
// failed condition; a failure sets all five (the failed one False with its
// reason), and only what changes is written again, keeping transition
// times of conditions whose status stays.
func TestMonitoringConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if got := monitoringConditions(nil, ready, t0); got != nil {
		t.Fatalf("without a fault: %+v", got)
	}
	first := monitoringConditions(map[string]string{"KernelReady": "KernelBug"}, ready, t0)
	if len(first) != 5 {
		t.Fatalf("%d conditions, want 5: %+v", len(first), first)
	}
	for _, c := range first {
		want := corev1.ConditionTrue
		if c.Type == "KernelReady" {
			want = corev1.ConditionFalse
			if c.Reason != "KernelBug" {
				t.Errorf("KernelReady reason %q", c.Reason)
			}
		}
		if c.Status != want || !c.LastTransitionTime.Equal(&t0) {
			t.Errorf("%s: %+v", c.Type, c)
		}
	}
	have := append(ready, first...)
	if got := monitoringConditions(map[string]string{"KernelReady": "KernelBug"}, have, t1); got != nil {
		t.Errorf("nothing changed, yet: %+v", got)
	}
	got := monitoringConditions(map[string]string{"KernelReady": "ForkBomb"}, have, t1)
	if len(got) != 1 || got[0].Reason != "ForkBomb" || !got[0].LastTransitionTime.Equal(&t0) {
		t.Errorf("a new reason, the same status: %+v", got)
	}
	got = monitoringConditions(nil, have, t1)
	if len(got) != 1 || got[0].Type != "KernelReady" || got[0].Status != corev1.ConditionTrue || !got[0].LastTransitionTime.Equal(&t1) {
		t.Errorf("the fault gone: %+v", got)
	}
}
