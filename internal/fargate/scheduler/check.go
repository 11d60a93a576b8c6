package scheduler

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/fargate/sizing"
	"github.com/kdp-project/kdp/internal/fargate/support"
)

// check says what Fargate cannot run of the pod (every reason, in one
// message), or sizes it.
func (s *Controller) check(ctx context.Context, pod *corev1.Pod) (sizing.Result, string, error) {
	reasons, err := support.Check(pod, s.volumeOf(ctx, pod.Namespace))
	if err != nil {
		return sizing.Result{}, "", err
	}
	if len(reasons) > 0 {
		return sizing.Result{}, support.Message(reasons), nil
	}
	size, err := sizing.Size(pod)
	if err != nil {
		return sizing.Result{}, err.Error(), nil
	}
	return size, "", nil
}

// volumeOf looks up the PersistentVolume a claim of the namespace is bound
// to (nil if it is not bound yet).
func (s *Controller) volumeOf(ctx context.Context, namespace string) func(claim string) (*corev1.PersistentVolume, error) {
	return func(claim string) (*corev1.PersistentVolume, error) {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: claim}, pvc); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		if pvc.Spec.VolumeName == "" {
			return nil, nil
		}
		pv := &corev1.PersistentVolume{}
		if err := s.client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return pv, nil
	}
}
