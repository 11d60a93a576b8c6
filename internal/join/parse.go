package join

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	kubeletapis "k8s.io/kubelet/pkg/apis"
)

// ParseLabels parses "k=v,k2=v2" as kubelet's --node-labels does.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("label %q: must be key=value", kv)
		}
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return nil, fmt.Errorf("label key %q: %s", k, msgs[0])
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return nil, fmt.Errorf("label %q value %q: %s", k, v, msgs[0])
		}
		if restricted(k) {
			return nil, fmt.Errorf("label %q: a kubelet may not set labels in the kubernetes.io or k8s.io namespaces other than %s (NodeRestriction); set it on the Node afterwards",
				k, strings.Join(kubeletapis.KubeletLabels(), ", "))
		}
		out[k] = v
	}
	return out, nil
}

// ParseTaints parses "k=v:Effect,k2:Effect" as kubelet's
// --register-with-taints does.
func ParseTaints(s string) ([]corev1.Taint, error) {
	if s == "" {
		return nil, nil
	}
	var out []corev1.Taint
	for _, spec := range strings.Split(s, ",") {
		kv, effect, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, fmt.Errorf("taint %q: must be key[=value]:Effect", spec)
		}
		switch corev1.TaintEffect(effect) {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", spec)
		}
		k, v, _ := strings.Cut(kv, "=")
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return nil, fmt.Errorf("taint key %q: %s", k, msgs[0])
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return nil, fmt.Errorf("taint %q value %q: %s", k, v, msgs[0])
		}
		out = append(out, corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)})
	}
	return out, nil
}

// restricted reports whether NodeRestriction forbids a kubelet to register
// with the label, as the kubelet itself checks at start.
func restricted(key string) bool {
	namespace := ""
	if i := strings.Index(key, "/"); i >= 0 {
		namespace = key[:i]
	}
	inK8s := namespace == "kubernetes.io" || strings.HasSuffix(namespace, ".kubernetes.io") ||
		namespace == "k8s.io" || strings.HasSuffix(namespace, ".k8s.io")
	return inK8s && !kubeletapis.IsKubeletLabel(key)
}
