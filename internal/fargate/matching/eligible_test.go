package matching

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

func TestEligible(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*corev1.Pod)
		reason string // "": eligible
	}{
		{name: "a plain pod", change: func(*corev1.Pod) {}},
		{name: "the default scheduler", change: func(p *corev1.Pod) { p.Spec.SchedulerName = corev1.DefaultSchedulerName }},
		{name: "fargate-scheduler already", change: func(p *corev1.Pod) { p.Spec.SchedulerName = eksv1.FargateScheduler }},
		{name: "a ReplicaSet's pod", change: func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1"}}
		}},
		{name: "annotated compute-type fargate", change: func(p *corev1.Pod) {
			p.Annotations = map[string]string{eksv1.AnnotationComputeType: "fargate"}
		}},
		{name: "annotated compute-type ec2", change: func(p *corev1.Pod) {
			p.Annotations = map[string]string{eksv1.AnnotationComputeType: "ec2"}
		}, reason: "compute-type: ec2"},
		{name: "a DaemonSet's pod", change: func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "kube-proxy"}}
		}, reason: "DaemonSet kube-proxy"},
		{name: "another scheduler", change: func(p *corev1.Pod) { p.Spec.SchedulerName = "volcano" }, reason: `scheduler "volcano"`},
		{name: "already bound", change: func(p *corev1.Pod) { p.Spec.NodeName = "ip-10-0-0-1" }, reason: "bound to node ip-10-0-0-1"},
	} {
		p := pod("prod")
		c.change(p)
		ok, reason := Eligible(p)
		if ok != (c.reason == "") || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: Eligible = %v, %q; want reason %q", c.name, ok, reason, c.reason)
		}
	}
}
