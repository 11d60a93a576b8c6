package support

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func selector(key, value string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		p.Spec.NodeSelector[key] = value
	}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

// required sets required node affinity, one term per argument.
func required(terms ...[]corev1.NodeSelectorRequirement) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		ns := &corev1.NodeSelector{}
		for _, t := range terms {
			ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, corev1.NodeSelectorTerm{MatchExpressions: t})
		}
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: ns}}
	}
}

func term(e ...corev1.NodeSelectorRequirement) []corev1.NodeSelectorRequirement { return e }

func ownedBy(kind, name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: new(true)})
	}
}

func TestCheckPlacement(t *testing.T) {
	runChecks(t, nil, []checkCase{
		{name: "an arm64 node selector", pod: newPod(selector("kubernetes.io/arch", "arm64")), want: "node selector not supported: kubernetes.io/arch=arm64", field: []string{"spec.nodeSelector[kubernetes.io/arch]"}},
		{name: "a beta arm64 node selector", pod: newPod(selector("beta.kubernetes.io/arch", "arm64")), want: "node selector not supported: beta.kubernetes.io/arch=arm64"},
		{name: "a windows node selector", pod: newPod(selector("kubernetes.io/os", "windows")), want: "node selector not supported: kubernetes.io/os=windows"},
		{name: "an EC2 node selector", pod: newPod(selector("eks.amazonaws.com/compute-type", "ec2")), want: "node selector not supported: eks.amazonaws.com/compute-type=ec2"},
		{
			name: "several node selectors, by key",
			pod:  newPod(selector("kubernetes.io/os", "windows"), selector("kubernetes.io/arch", "arm64"), selector("team", "web")),
			want: "node selector not supported: kubernetes.io/arch=arm64, kubernetes.io/os=windows",
		},
		{
			name:  "required affinity for arm64",
			pod:   newPod(required(term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "arm64")))),
			want:  "node affinity not supported: kubernetes.io/arch in [arm64]",
			field: []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"},
		},
		{name: "required affinity for amd64 or arm64", pod: newPod(required(term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64", "arm64"))))},
		{name: "required affinity: one of two terms can be Fargate", pod: newPod(required(
			term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "arm64")),
			term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"), expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "us-east-1a")),
		))},
		{
			name: "required affinity: no term can be Fargate",
			pod: newPod(required(
				term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "arm64"), expr("kubernetes.io/os", corev1.NodeSelectorOpExists)),
				term(expr("kubernetes.io/os", corev1.NodeSelectorOpIn, "windows")),
			)),
			want: "node affinity not supported: kubernetes.io/arch in [arm64], kubernetes.io/os in [windows]",
		},
		{
			name: "required affinity away from Fargate, as DaemonSet charts write it",
			pod:  newPod(required(term(expr("eks.amazonaws.com/compute-type", corev1.NodeSelectorOpNotIn, "fargate")))),
			want: "node affinity not supported: eks.amazonaws.com/compute-type not in [fargate]",
		},
		{
			name: "required affinity for nodes without a compute type",
			pod:  newPod(required(term(expr("eks.amazonaws.com/compute-type", corev1.NodeSelectorOpDoesNotExist)))),
			want: "node affinity not supported: eks.amazonaws.com/compute-type does not exist",
		},
		{
			name: "preferred affinity for arm64 does not keep a pod off Fargate",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
					Weight:     100,
					Preference: corev1.NodeSelectorTerm{MatchExpressions: term(expr("kubernetes.io/arch", corev1.NodeSelectorOpIn, "arm64"))},
				}}}}
			}),
		},
		{name: "a DaemonSet's pod", pod: newPod(ownedBy("DaemonSet", "fluent-bit")), want: "DaemonSet pods are not supported", field: []string{"metadata.ownerReferences[0]"}},
	})
}
