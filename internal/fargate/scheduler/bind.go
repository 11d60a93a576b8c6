package scheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
)

// bind binds the pod to its node, as kube-scheduler does, with the event
// kube-scheduler writes. The binding carries the pod's CapacityProvisioned
// annotation (the API server copies a binding's annotations onto its pod):
// the size, which the pod is billed for, is written with the bind, not in
// a write of its own.
func (s *Controller) bind(ctx context.Context, pod *corev1.Pod, node *corev1.Node, size sizing.Result, inst *cloud.Instance) error {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			Annotations: map[string]string{sizing.AnnotationCapacityProvisioned: size.CapacityProvisioned()}},
		Target: corev1.ObjectReference{Kind: "Node", Name: node.Name},
	}
	err := s.kube.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	switch {
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		return nil // bound already (a retry), or gone: nothing to do
	case err != nil:
		return fmt.Errorf("binding pod %s/%s to %s: %w", pod.Namespace, pod.Name, node.Name, err)
	}
	s.recorder.Eventf(pod, nil, corev1.EventTypeNormal, "Scheduled", "Binding", "Successfully assigned %s/%s to %s (micro-VM %s, %s, %s)", pod.Namespace, pod.Name, node.Name, inst.ID, size.CapacityProvisioned(), inst.Zone)
	log.FromContext(ctx).V(1).Info("bound", "node", node.Name)
	return nil
}

// unschedulable leaves the pod Pending, saying why: its PodScheduled
// condition and one FailedScheduling event, as kube-scheduler does; the
// same reason again writes nothing.
func (s *Controller) unschedulable(ctx context.Context, pod *corev1.Pod, why string) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && c.Message == why {
			return nil
		}
	}
	base := pod.DeepCopy()
	cond := corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: why, LastTransitionTime: metav1.NewTime(s.env.Clock.Now()),
	}
	replaced := false
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			pod.Status.Conditions[i], replaced = cond, true
		}
	}
	if !replaced {
		pod.Status.Conditions = append(pod.Status.Conditions, cond)
	}
	if err := s.client.Status().Patch(ctx, pod, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	s.recorder.Eventf(pod, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", "%s", why)
	return nil
}

// patch changes the pod's metadata or spec with a merge patch.
func (s *Controller) patch(ctx context.Context, pod *corev1.Pod, change func(*corev1.Pod)) error {
	base := pod.DeepCopy()
	change(pod)
	return client.IgnoreNotFound(s.client.Patch(ctx, pod, client.MergeFrom(base)))
}
