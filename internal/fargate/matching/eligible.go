package matching

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// ComputeTypeEC2 is the value of the eks.amazonaws.com/compute-type
// annotation that keeps a pod off Fargate (CoreDNS ships with it on
// clusters with EC2 nodes, so a profile selecting kube-system does not
// take it).
const ComputeTypeEC2 = "ec2"

// Eligible reports whether a pod may be placed on Fargate at all, before
// any profile is looked at, and if not, why (for the webhook's answer and
// events). A pod is left alone when:
//   - it is annotated eks.amazonaws.com/compute-type: ec2;
//   - it belongs to a DaemonSet (Fargate runs one pod per node, its own:
//     a DaemonSet's pod must run on the node it was made for);
//   - it names a scheduler other than the default one and
//     fargate-scheduler: whoever chose that scheduler chose where it runs;
//   - it is created already bound to a node (spec.nodeName, as mirror pods
//     of static pods are): no scheduler ever sees it, so labelling it
//     with a profile would only say something false.
func Eligible(pod *corev1.Pod) (ok bool, reason string) {
	if pod.Annotations[eksv1.AnnotationComputeType] == ComputeTypeEC2 {
		return false, fmt.Sprintf("annotated %s: %s", eksv1.AnnotationComputeType, ComputeTypeEC2)
	}
	for i := range pod.OwnerReferences {
		// Any group's DaemonSet (apps, or a DaemonSet of an add-on's own
		// API): each means a pod per node.
		if ref := &pod.OwnerReferences[i]; ref.Kind == "DaemonSet" {
			return false, fmt.Sprintf("a pod of DaemonSet %s (Fargate runs no DaemonSets: use a sidecar)", ref.Name)
		}
	}
	switch s := pod.Spec.SchedulerName; s {
	case "", corev1.DefaultSchedulerName, eksv1.FargateScheduler:
	default:
		return false, fmt.Sprintf("names scheduler %q", s)
	}
	if pod.Spec.NodeName != "" {
		return false, fmt.Sprintf("already bound to node %s", pod.Spec.NodeName)
	}
	return true, ""
}
