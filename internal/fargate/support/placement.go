package support

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// fargateNodeLabels are the labels of every Fargate node that a pod's node
// selection can rule Fargate out by: EKS on Fargate runs Linux on x86 only.
// Other labels (zone, hostname, custom ones) are not judged here: they are
// either on Fargate nodes or a matter for the scheduler, not for support.
var fargateNodeLabels = map[string]string{
	"kubernetes.io/arch":             "amd64",
	"beta.kubernetes.io/arch":        "amd64",
	"kubernetes.io/os":               "linux",
	"beta.kubernetes.io/os":          "linux",
	"eks.amazonaws.com/compute-type": "fargate",
}

// nodeSelector reports nodeSelector entries that ask for another
// architecture, operating system or compute type, by key.
func nodeSelector(pod *corev1.Pod) []Reason {
	var out []Reason
	for _, key := range slices.Sorted(maps.Keys(pod.Spec.NodeSelector)) {
		want, known := fargateNodeLabels[key]
		if value := pod.Spec.NodeSelector[key]; known && value != want {
			out = append(out, Reason{Kind: KindNodeSelector, Field: "spec.nodeSelector[" + key + "]", Detail: key + "=" + value})
		}
	}
	return out
}

// nodeAffinity reports required node affinity that no Fargate node
// satisfies. The terms are alternatives: if any term can match a Fargate
// node the pod is fine, otherwise every expression that rules Fargate out
// is reported. Preferred affinity never keeps a pod off a node.
func nodeAffinity(pod *corev1.Pod) []Reason {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	var out []Reason
	for i, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var failed []Reason
		for j, e := range term.MatchExpressions {
			if value, known := fargateNodeLabels[e.Key]; known && !matches(e, value) {
				field := fmt.Sprintf("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%d].matchExpressions[%d]", i, j)
				failed = append(failed, Reason{Kind: KindNodeAffinity, Field: field, Detail: describe(e)})
			}
		}
		if len(failed) == 0 {
			return nil // this term can match a Fargate node
		}
		out = append(out, failed...)
	}
	return out
}

// matches reports whether a node whose label e.Key is value satisfies e.
// Gt and Lt compare integers; no label judged here is one.
func matches(e corev1.NodeSelectorRequirement, value string) bool {
	switch e.Operator {
	case corev1.NodeSelectorOpIn:
		return slices.Contains(e.Values, value)
	case corev1.NodeSelectorOpNotIn:
		return !slices.Contains(e.Values, value)
	case corev1.NodeSelectorOpExists:
		return true
	default: // DoesNotExist, Gt, Lt
		return false
	}
}

// describe writes e as a message names it: "kubernetes.io/arch in [arm64]".
func describe(e corev1.NodeSelectorRequirement) string {
	switch e.Operator {
	case corev1.NodeSelectorOpExists:
		return e.Key + " exists"
	case corev1.NodeSelectorOpDoesNotExist:
		return e.Key + " does not exist"
	case corev1.NodeSelectorOpNotIn:
		return e.Key + " not in [" + strings.Join(e.Values, " ") + "]"
	default:
		return e.Key + " " + strings.ToLower(string(e.Operator)) + " [" + strings.Join(e.Values, " ") + "]"
	}
}

// daemonSet reports a pod a DaemonSet owns: a DaemonSet wants a pod on every
// node, and a Fargate node is a pod's own VM, which runs no other pod.
func daemonSet(pod *corev1.Pod) []Reason {
	for i, ref := range pod.OwnerReferences {
		if ref.Kind == "DaemonSet" {
			return []Reason{{Kind: KindDaemonSet, Field: fmt.Sprintf("metadata.ownerReferences[%d]", i), Detail: "owned by DaemonSet " + ref.Name}}
		}
	}
	return nil
}
