package fargate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/testenv"
)

// A matched pod gets a micro-VM of its own, sized to it, which joins as a
// fargate-ip-… node with EKS's label and taint; the pod is bound to it and
// runs, and no other pod ever lands there (not a DaemonSet's that
// tolerates every taint).
func TestIntegration_OneNodePerPod(t *testing.T) {
	k := start(t, "")
	ns := env.Namespace(t)
	profile(t, "one-node", selector(ns))
	ctx := context.Background()
	for i := range 3 {
		create(t, pod(ns, fmt.Sprintf("web-%d", i), "500m", "1Gi"))
	}
	nodes := map[string]bool{}
	for i := range 3 {
		p := running(t, ns, fmt.Sprintf("web-%d", i))
		if p.Spec.SchedulerName != eksv1.FargateScheduler || p.Labels[eksv1.LabelFargateProfile] != "one-node" || ptrVal(p.Spec.Priority) != eksv1.FargatePriority {
			t.Errorf("pod %s was not routed to Fargate: scheduler %q, labels %v, priority %v", p.Name, p.Spec.SchedulerName, p.Labels, p.Spec.Priority)
		}
		// 0.5 vCPU and 1 GiB + 256 MiB rounds up to 0.5 vCPU / 2 GB.
		if got := p.Annotations[sizing.AnnotationCapacityProvisioned]; got != "0.5vCPU 2GB" {
			t.Errorf("pod %s: CapacityProvisioned %q, want 0.5vCPU 2GB", p.Name, got)
		}
		if nodes[p.Spec.NodeName] {
			t.Errorf("two pods on node %s", p.Spec.NodeName)
		}
		nodes[p.Spec.NodeName] = true
		n := node(t, p.Spec.NodeName)
		if !strings.HasPrefix(n.Name, "fargate-ip-") || !strings.HasSuffix(n.Name, ".ec2.internal") {
			t.Errorf("node name %s, want fargate-ip-….ec2.internal", n.Name)
		}
		if n.Labels[eksv1.LabelComputeType] != eksv1.ComputeTypeFargate {
			t.Errorf("node %s labels %v", n.Name, n.Labels)
		}
		if !slices.ContainsFunc(n.Spec.Taints, func(tt corev1.Taint) bool {
			return tt.Key == eksv1.LabelComputeType && tt.Value == "fargate" && tt.Effect == corev1.TaintEffectNoSchedule
		}) {
			t.Errorf("node %s taints %+v, want eks.amazonaws.com/compute-type=fargate:NoSchedule", n.Name, n.Spec.Taints)
		}
		if cpu, mem := n.Status.Capacity[corev1.ResourceCPU], n.Status.Capacity[corev1.ResourceMemory]; cpu.MilliValue() != 500 || mem.Value() != 2<<30 {
			t.Errorf("node %s capacity cpu %s memory %s, want 500m and 2Gi", n.Name, cpu.String(), mem.String())
		}
		if p.Status.PodIP != p.Status.HostIP {
			t.Errorf("pod %s has IP %s on a node at %s: a Fargate pod has its micro-VM's address", p.Name, p.Status.PodIP, p.Status.HostIP)
		}
		testenv.Eventually(t, 10*time.Second, func() error {
			if evs := events(t, ns, p.Name, "Scheduled"); len(evs) != 1 {
				return fmt.Errorf("pod %s: Scheduled events %+v, want one", p.Name, evs)
			}
			return nil
		})
	}
	if vms := microVMs(t, k); len(vms) != 3 {
		t.Errorf("%d micro-VMs for 3 pods", len(vms))
	}
	byProfile := map[string]string{"profile": "one-node"}
	for name, want := range map[string]float64{"kdp_fargate_pods": 3, "kdp_fargate_provisioned_vcpu": 1.5, "kdp_fargate_provisioned_memory_gb": 6} {
		if got := metric(t, name, byProfile); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metric(t, "kdp_fargate_pod_start_seconds", nil); got < 3 {
		t.Errorf("kdp_fargate_pod_start_seconds has %v samples, want at least 3", got)
	}
	// A DaemonSet that tolerates every taint: the daemon controller makes
	// pods for the Fargate nodes, which never run there.
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "everywhere-" + ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "everywhere-" + ns}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "everywhere-" + ns}},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  []corev1.Container{{Name: "agent", Image: "agent:1"}},
				},
			},
		},
	}
	create(t, ds)
	t.Cleanup(func() { _ = env.Client.Delete(ctx, ds) })
	testenv.Eventually(t, 30*time.Second, func() error {
		pods := &corev1.PodList{}
		if err := env.Client.List(ctx, pods, client.InNamespace("kube-system"), client.MatchingLabels{"app": "everywhere-" + ns}); err != nil {
			return err
		}
		seen := 0
		for _, p := range pods.Items {
			if target := daemonTarget(&p); nodes[target] {
				seen++
				if p.Spec.NodeName == target && p.Status.Phase == corev1.PodRunning {
					return fmt.Errorf("DaemonSet pod %s runs on Fargate node %s", p.Name, target)
				}
			}
		}
		if seen == 0 {
			return fmt.Errorf("no DaemonSet pod was tried on a Fargate node yet")
		}
		return nil
	})
}

// daemonTarget is the node a DaemonSet's pod is for (its node affinity).
func daemonTarget(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, f := range term.MatchFields {
				if f.Key == "metadata.name" && len(f.Values) == 1 {
					return f.Values[0]
				}
			}
		}
	}
	return ""
}

// A pod's size follows EKS's rules, and a pod too large for Fargate stays
// Pending with an event naming the largest size.
func TestIntegration_Sizing(t *testing.T) {
	start(t, "")
	ns := env.Namespace(t)
	profile(t, "sizing", selector(ns))
	init := func(cpu, memory string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init", Image: "init:1", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
			}})
		}
	}
	for _, c := range []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod(ns, "none", "", ""), "0.25vCPU 0.5GB"},
		{pod(ns, "exact", "250m", "256Mi"), "0.25vCPU 0.5GB"},             // + 256 MiB = 0.5 GB exactly
		{pod(ns, "next", "1", "8Gi"), "2vCPU 9GB"},                        // EKS's worked example: 8.25 GB
		{pod(ns, "init", "250m", "512Mi", init("2", "4Gi")), "2vCPU 5GB"}, // the init container is larger than the sum
	} {
		create(t, c.pod)
		p := running(t, ns, c.pod.Name)
		if got := p.Annotations[sizing.AnnotationCapacityProvisioned]; got != c.want {
			t.Errorf("pod %s: CapacityProvisioned %q, want %q", c.pod.Name, got, c.want)
		}
	}
	create(t, pod(ns, "huge", "32", "64Gi"))
	pending(t, ns, "huge", "16 vCPU and 120 GB")
}

// Every reason a pod cannot run on Fargate is in one FailedScheduling
// event, in EKS's words, and the pod stays Pending with no micro-VM.
func TestIntegration_Unsupported(t *testing.T) {
	k := start(t, "")
	ns := env.Namespace(t)
	profile(t, "unsupported", selector(ns))
	p := pod(ns, "everything", "", "", func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		c := &p.Spec.Containers[0]
		c.SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true)}
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		c.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
		p.Spec.Volumes = []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var"}}}}
		p.Spec.NodeSelector = map[string]string{"kubernetes.io/arch": "arm64"}
	})
	create(t, p)
	ev := pending(t, ns, "everything", "Pod not supported on Fargate: ")
	for _, want := range []string{"fields not supported: HostNetwork", "invalid SecurityContext fields: Privileged", "port contains HostIP or HostPort",
		"volumes not supported: host", "nvidia.com/gpu", "kubernetes.io/arch=arm64"} {
		if !strings.Contains(ev.Message, want) {
			t.Errorf("event %q does not say %q", ev.Message, want)
		}
	}
	if !strings.HasPrefix(ev.Message, "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged, port contains HostIP or HostPort") {
		t.Errorf("event %q is not in EKS's words and order", ev.Message)
	}
	if vms := microVMs(t, k); len(vms) != 0 {
		t.Errorf("micro-VMs for an unsupported pod: %+v", vms)
	}
	if got := metric(t, "kdp_fargate_pods_unsupported", map[string]string{"profile": "unsupported"}); got != 1 {
		t.Errorf("kdp_fargate_pods_unsupported = %v, want 1", got)
	}
}

// pending waits for the pod's one FailedScheduling event saying want, and
// checks the pod is Pending, unbound, with PodScheduled False saying it.
func pending(t testing.TB, ns, name, want string) corev1.Event {
	t.Helper()
	var ev corev1.Event
	testenv.Eventually(t, 30*time.Second, func() error {
		evs := events(t, ns, name, "FailedScheduling")
		if len(evs) != 1 || !strings.Contains(evs[0].Message, want) {
			return fmt.Errorf("FailedScheduling events of %s: %+v, want one saying %q", name, evs, want)
		}
		ev = evs[0]
		return nil
	})
	p := &corev1.Pod{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending {
		t.Errorf("pod %s is %s on %q", name, p.Status.Phase, p.Spec.NodeName)
	}
	found := false
	for _, c := range p.Status.Conditions {
		found = found || (c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && strings.Contains(c.Message, want))
	}
	if !found {
		t.Errorf("pod %s conditions %+v do not say %q", name, p.Status.Conditions, want)
	}
	return ev
}

// A deleted pod's node and micro-VM go; a finished pod keeps its node (and
// is billed) until the pod is deleted, as on EKS.
func TestIntegration_Teardown(t *testing.T) {
	k := start(t, "")
	ns := env.Namespace(t)
	profile(t, "teardown", selector(ns))
	ctx := context.Background()
	create(t, pod(ns, "job", "", "", func(p *corev1.Pod) {
		p.Annotations = map[string]string{kubelet.AnnotationRunSeconds: "1"}
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
	}))
	create(t, pod(ns, "web", "", ""))
	web := running(t, ns, "web")
	job := &corev1.Pod{}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "job"}, job); err != nil {
			return err
		}
		if job.Status.Phase != corev1.PodSucceeded {
			return fmt.Errorf("job pod is %s", job.Status.Phase)
		}
		return nil
	})
	if err := env.Client.Delete(ctx, web); err != nil {
		t.Fatal(err)
	}
	gone(t, k.Provider, web.Spec.NodeName)
	// The finished pod's node is still there.
	if n := node(t, job.Spec.NodeName); n.Name == "" {
		t.Fatal("no node")
	}
	if vms := microVMs(t, k); len(vms) != 1 || vms[0].PrivateDNSName != job.Spec.NodeName {
		t.Errorf("micro-VMs %+v, want only the finished pod's", vms)
	}
	if err := env.Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	gone(t, k.Provider, job.Spec.NodeName)
}

// gone waits until a Fargate node and its micro-VM are gone.
func gone(t testing.TB, k interface {
	ListInstances(context.Context, cloud.InstanceFilter, cloud.Page) ([]cloud.Instance, string, error)
}, nodeName string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKey{Name: nodeName}, &corev1.Node{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("node %s is still there (%v)", nodeName, err)
		}
		is, _, err := k.ListInstances(context.Background(), cloud.InstanceFilter{States: []string{cloud.StatePending, cloud.StateRunning}}, cloud.Page{})
		if err != nil {
			return err
		}
		for _, i := range is {
			if i.PrivateDNSName == nodeName {
				return fmt.Errorf("micro-VM %s of node %s is %s", i.ID, nodeName, i.State)
			}
		}
		return nil
	})
}

func ptrTo[T any](v T) *T { return &v }

func ptrVal[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// With no Fargate capacity in any of its profile's zones a pod waits,
// saying so, and runs once capacity is back; a zone without capacity
// passes its pods to the others.
func TestIntegration_NoCapacity(t *testing.T) {
	k := start(t, "")
	ns := env.Namespace(t)
	ctx := context.Background()
	fp := profile(t, "capacity", selector(ns))
	zones := map[string]bool{}
	subnets, _ := k.Provider.Subnets(ctx)
	for _, s := range subnets {
		if slices.Contains(fp.Status.Subnets, s.ID) {
			zones[s.Zone] = true
		}
	}
	for z := range zones {
		if err := k.Provider.SetCapacity(ctx, cloud.MicroVMType, z, 0); err != nil {
			t.Fatal(err)
		}
	}
	create(t, pod(ns, "waits", "", ""))
	pending(t, ns, "waits", "Fargate has no capacity for 0.25vCPU 0.5GB")
	first := ""
	for z := range zones {
		if first == "" {
			first = z
			if err := k.Provider.SetCapacity(ctx, cloud.MicroVMType, z, -1); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := running(t, ns, "waits")
	if got := node(t, p.Spec.NodeName).Labels["topology.kubernetes.io/zone"]; got != first {
		t.Errorf("pod in zone %s, want the only zone with capacity, %s", got, first)
	}
	for z := range zones {
		_ = k.Provider.SetCapacity(ctx, cloud.MicroVMType, z, -1)
	}
}
