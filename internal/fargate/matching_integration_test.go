package fargate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/testenv"
)

// The pod webhook routes a pod created in the API server to the profile
// EKS would choose, or leaves it as it is (dry-run creates: what the
// webhook patched, nothing stored).
func TestIntegration_Matching(t *testing.T) {
	start(t, "")
	ns := env.Namespace(t)
	other := env.Namespace(t)
	profile(t, "a-labels", selector(ns, "app", "we?"))
	profile(t, "b-namespace", selector(ns))
	profile(t, "c-wildcard", selector(other[:len(other)-2]+"*", "t?er", "*end"))
	labels := func(kv ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for i := 0; i+1 < len(kv); i += 2 {
				p.Labels[kv[i]] = kv[i+1]
			}
		}
	}
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		want string // "" for not routed
	}{
		{"namespace only", pod(ns, "p1", "", ""), "b-namespace"},
		{"labels, and the first by name of two matches", pod(ns, "p2", "", "", labels("app", "web")), "a-labels"},
		{"labels that do not match", pod(ns, "p3", "", "", labels("app", "webs")), "b-namespace"},
		{"wildcards in namespace, key and value", pod(other, "p4", "", "", labels("tier", "backend")), "c-wildcard"},
		{"wildcard value that does not match", pod(other, "p5", "", "", labels("tier", "front")), ""},
		{"no profile for the namespace", pod("default", "p6", "", ""), ""},
		{"the explicit profile", pod(ns, "p7", "", "", labels("app", "web", eksv1.LabelFargateProfile, "b-namespace")), "b-namespace"},
		{"an explicit profile the pod does not match", pod(ns, "p8", "", "", labels(eksv1.LabelFargateProfile, "c-wildcard")), ""},
		{"the ec2 annotation", pod(ns, "p9", "", "", func(p *corev1.Pod) {
			p.Annotations = map[string]string{eksv1.AnnotationComputeType: "ec2"}
		}), ""},
		{"a DaemonSet's pod", pod(ns, "p10", "", "", func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "0f6b1c2e-5d4a-4c3b-9a8e-7d6c5b4a3f21"}}
		}), ""},
		{"another scheduler", pod(ns, "p11", "", "", func(p *corev1.Pod) { p.Spec.SchedulerName = "my-scheduler" }), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.pod
			if err := env.Client.Create(context.Background(), p, client.DryRunAll); err != nil {
				t.Fatal(err)
			}
			got := p.Labels[eksv1.LabelFargateProfile]
			routed := p.Spec.SchedulerName == eksv1.FargateScheduler
			switch {
			case c.want == "" && routed:
				t.Errorf("routed to Fargate (profile %q), want left alone", got)
			case c.want != "" && (!routed || got != c.want || p.Spec.PriorityClassName != eksv1.FargatePriorityClass || ptrVal(p.Spec.Priority) != eksv1.FargatePriority):
				t.Errorf("scheduler %q, profile %q, priority %q/%v; want fargate-scheduler through %s with system-node-critical", p.Spec.SchedulerName, got, p.Spec.PriorityClassName, p.Spec.Priority, c.want)
			}
		})
	}
}

// A pod created before its profile stays where it is (as on EKS); one
// created while kdp's webhook is down is admitted as it is (the webhook
// fails open) and, once kdp is back, gets an event saying it should have
// run on Fargate. After a restart in the middle of placing pods, every
// pod runs, each on a micro-VM of its own, and none is left over.
func TestIntegration_RestartAndWebhookDown(t *testing.T) {
	ctx := context.Background()
	k := start(t, "")
	ns := env.Namespace(t)
	create(t, pod(ns, "before", "", ""))
	profile(t, "restart", selector(ns))
	// Times have whole seconds, and a pod of the second after the profile
	// became ACTIVE is not warned about (the webhook may not have known the
	// profile yet): the pod created while kdp is down comes later, by the
	// API server's clock (a dry-run create reads it).
	fp := waitProfile(t, "restart", eksv1.FargateActive)
	readyAt := fp.Status.Conditions[0].LastTransitionTime.Time
	testenv.EventuallyEvery(t, 10*time.Second, 100*time.Millisecond, func() error {
		probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clock"}}
		if err := env.Client.Create(ctx, probe, client.DryRunAll); err != nil {
			return err
		}
		if !probe.CreationTimestamp.After(readyAt.Add(time.Second)) {
			return fmt.Errorf("the API server's clock reads %s, not yet 2 s past the profile's ACTIVE at %s", probe.CreationTimestamp, readyAt)
		}
		return nil
	})
	for i := range 8 {
		create(t, pod(ns, fmt.Sprintf("burst-%d", i), "", ""))
	}
	k.Stop()
	create(t, pod(ns, "while-down", "", ""))
	k = start(t, k.Dir)
	for i := range 8 {
		running(t, ns, fmt.Sprintf("burst-%d", i))
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if n := len(events(t, ns, "while-down", "NotOnFargate")); n != 1 {
			p, fp := &corev1.Pod{}, &eksv1.FargateProfile{}
			_ = env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "while-down"}, p)
			_ = env.Client.Get(ctx, client.ObjectKey{Name: "restart"}, fp)
			return fmt.Errorf("pod while-down (created %s, scheduler %s, labels %v) has %d NotOnFargate events, want 1; profile %+v", p.CreationTimestamp, p.Spec.SchedulerName, p.Labels, n, fp.Status)
		}
		return nil
	})
	if evs := events(t, ns, "before", "NotOnFargate"); len(evs) != 0 {
		t.Errorf("a pod created before its profile was warned about: %+v", evs)
	}
	for _, name := range []string{"before", "while-down"} {
		p := &corev1.Pod{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			t.Fatal(err)
		}
		if p.Spec.SchedulerName == eksv1.FargateScheduler {
			t.Errorf("pod %s was moved to Fargate", name)
		}
	}
	vms := microVMs(t, k)
	seen := map[string]bool{}
	for _, vm := range vms {
		if seen[vm.Tags["eks.kdp.dev/pod"]] {
			t.Errorf("pod %s has two micro-VMs", vm.Tags["eks.kdp.dev/pod"])
		}
		seen[vm.Tags["eks.kdp.dev/pod"]] = true
	}
	if len(vms) != 8 {
		t.Errorf("%d micro-VMs for 8 pods", len(vms))
	}
	if err := env.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if vms := microVMs(t, k); len(vms) != 0 {
			return fmt.Errorf("%d micro-VMs left", len(vms))
		}
		if nodes := fargateNodes(t); len(nodes) != 0 {
			return fmt.Errorf("%d Fargate nodes left", len(nodes))
		}
		return nil
	})
	deleteProfile(t, "restart") // while this kdp runs (its cleanup stops it first)
}
