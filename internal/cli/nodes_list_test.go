package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/inventory"
)

// nodesGolden compares got with testdata/nodes/golden/name, or writes it
// there with -update (the flag of the advise goldens).
func nodesGolden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, "nodes", name, got, "TestNodesGolden")
}

// nodesNow is the fixed clock of the golden files.
var nodesNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// goldenCluster is a cluster of every data plane: two managed nodes (one
// spot, one cordoned), a Fargate pod's micro-VM, a self-managed node in an
// Auto Scaling group, a standalone one, and another cluster's node the
// cloud has no instance of.
func goldenCluster() ([]corev1.Node, []cloud.Instance, []corev1.Pod, billing.Prices) {
	prices := billing.NewPrices([]cloud.InstanceType{
		{Name: "m5.large", OnDemandPrice: 0.096, SpotPrices: map[string]float64{"us-east-1b": 0.0352}},
		{Name: "t3.medium", OnDemandPrice: 0.0416},
	}, catalog.FargatePrices{VCPUPerHour: 0.04048, GBPerHour: 0.004445, EphemeralStorageGBPerHour: 0.000111, IncludedEphemeralStorageGB: 20})
	ago := func(d time.Duration) time.Time { return nodesNow.Add(-d) }
	ng := map[string]string{"eks:nodegroup-name": "web"}
	lt := &cloud.TemplateRef{Name: "eks-web-3f2a", Version: "1"}
	instances := []cloud.Instance{
		{ID: "i-0a1b2c3d4e5f60001", Type: "m5.large", Zone: "us-east-1a", PrivateIP: "10.0.1.17", ImageID: "ami-0ee865d360b51637d", Lifecycle: cloud.OnDemand,
			State: cloud.StateRunning, Group: "eks-web-3f2a", LifecycleState: cloud.LifecycleInService, LaunchTemplate: lt, LaunchTime: ago(26 * time.Hour), Tags: ng},
		{ID: "i-0a1b2c3d4e5f60002", Type: "m5.large", Zone: "us-east-1b", PrivateIP: "10.0.2.33", ImageID: "ami-0ee865d360b51637d", Lifecycle: cloud.Spot,
			State: cloud.StateRunning, Group: "eks-web-3f2a", LifecycleState: cloud.LifecycleTerminatingWait, LaunchTemplate: lt, LaunchTime: ago(3 * time.Hour), Tags: ng},
		{ID: "i-0a1b2c3d4e5f60003", Type: "t3.medium", Zone: "us-east-1c", PrivateIP: "10.0.3.8", ImageID: "ami-0ee865d360b51637d", Lifecycle: cloud.OnDemand,
			State: cloud.StateRunning, Group: "batch", LifecycleState: cloud.LifecycleInService, LaunchTime: ago(45 * time.Minute)},
		{ID: "i-0a1b2c3d4e5f60004", Type: "t3.medium", Zone: "us-east-1a", PrivateIP: "10.0.1.99", ImageID: "ami-0ee865d360b51637d", Lifecycle: cloud.OnDemand,
			State: cloud.StateRunning, LaunchTime: ago(8 * 24 * time.Hour)},
		{ID: "i-0f0f0f0f0f0f00005", Type: cloud.MicroVMType, Zone: "us-east-1b", PrivateIP: "10.0.2.200", ImageID: "ami-0ee865d360b51637d",
			MicroVM: &cloud.MicroVM{MilliCPU: 250, MemoryMiB: 512, StorageGiB: 20}, State: cloud.StateRunning, LaunchTime: ago(90 * time.Second),
			Tags: map[string]string{"eks.kdp.dev/fargate-profile": "serverless"}},
	}
	node := func(name string, inst *cloud.Instance, created time.Duration, labels map[string]string, pods int64) corev1.Node {
		n := corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(ago(created))},
			Status: corev1.NodeStatus{
				NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"},
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("7934Mi"), corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1930m"), corev1.ResourceMemory: resource.MustParse("7220Mi"), corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
					LastTransitionTime: metav1.NewTime(ago(created - 5*time.Second))}},
			},
		}
		if inst != nil {
			n.Spec.ProviderID = cloud.ProviderID(inst.Zone, inst.ID)
			n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: inst.PrivateIP}}
		}
		return n
	}
	managed := func(capacity string) map[string]string {
		return map[string]string{eksv1.LabelNodegroup: "web", eksv1.LabelCapacityType: capacity, eksv1.LabelNodegroupImage: "ami-0ee865d360b51637d",
			corev1.LabelInstanceTypeStable: "m5.large", corev1.LabelArchStable: "amd64", corev1.LabelOSStable: "linux", "kubernetes.io/hostname": "x"}
	}
	spot := node("ip-10-0-2-33.ec2.internal", &instances[1], 3*time.Hour, managed("SPOT"), 29)
	spot.Spec.Unschedulable = true
	spot.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}}
	fargate := node("fargate-ip-10-0-2-200.ec2.internal", &instances[4], 80*time.Second, map[string]string{eksv1.LabelComputeType: eksv1.ComputeTypeFargate}, 1)
	fargate.Spec.Taints = []corev1.Taint{{Key: eksv1.LabelComputeType, Value: eksv1.ComputeTypeFargate, Effect: corev1.TaintEffectNoSchedule}}
	nodes := []corev1.Node{
		node("ip-10-0-1-17.ec2.internal", &instances[0], 26*time.Hour, managed("ON_DEMAND"), 29),
		spot,
		node("ip-10-0-3-8.ec2.internal", &instances[2], 44*time.Minute, map[string]string{"team": "batch"}, 17),
		node("ip-10-0-1-99.ec2.internal", &instances[3], 8*24*time.Hour, nil, 17),
		fargate,
		node("worker-7", nil, 400*24*time.Hour, map[string]string{corev1.LabelInstanceTypeStable: "c5.xlarge", corev1.LabelTopologyZone: "eu-west-1a"}, 58),
	}
	pod := func(ns, name, node string, created time.Duration, cpu, mem string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(ago(created))},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if cpu != "" {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
		}
		return p
	}
	pods := []corev1.Pod{
		pod("kube-system", "coredns-5d8f7c9b4-x2lqp", "ip-10-0-1-17.ec2.internal", 26*time.Hour, "100m", "70Mi"),
		pod("default", "web-7c9d8f6b5-abcde", "ip-10-0-1-17.ec2.internal", 2*time.Hour, "250m", "256Mi"),
		pod("default", "web-7c9d8f6b5-fghij", "ip-10-0-2-33.ec2.internal", 2*time.Hour, "250m", "256Mi"),
		pod("serverless", "job-1", "fargate-ip-10-0-2-200.ec2.internal", 100*time.Second, "", ""),
	}
	return nodes, instances, pods, prices
}

func TestNodesGolden(t *testing.T) {
	nodes, instances, pods, prices := goldenCluster()
	rows := inventory.Nodes(inventory.Inputs{Nodes: nodes, Instances: instances, Pods: pods, Prices: prices, Now: nodesNow})
	for _, c := range []struct{ output, golden string }{
		{"table", "table.golden"},
		{"wide", "wide.golden"},
		{"json", "json.golden"},
		{"yaml", "yaml.golden"},
	} {
		t.Run(c.output, func(t *testing.T) {
			var out strings.Builder
			if err := printNodes(&out, rows, c.output); err != nil {
				t.Fatal(err)
			}
			switch c.output {
			case "json":
				var list struct{ Nodes []map[string]any }
				if err := json.Unmarshal([]byte(out.String()), &list); err != nil || len(list.Nodes) != len(nodes) {
					t.Errorf("-o json is not {\"nodes\": [%d nodes]} (%v):\n%s", len(nodes), err, out.String())
				}
			case "yaml":
				var list struct{ Nodes []map[string]any }
				if err := yaml.Unmarshal([]byte(out.String()), &list); err != nil || len(list.Nodes) != len(nodes) {
					t.Errorf("-o yaml is not nodes: [%d nodes] (%v)", len(nodes), err)
				}
			}
			nodesGolden(t, c.golden, out.String())
		})
	}
	var out strings.Builder
	if err := printNodes(&out, nil, "table"); err != nil || out.String() != "No nodes.\n" {
		t.Errorf("no nodes: %q, %v", out.String(), err)
	}
}

func TestNodesDescribeGolden(t *testing.T) {
	nodes, instances, pods, prices := goldenCluster()
	spot, inst := &nodes[1], &instances[1]
	nodeRef := corev1.ObjectReference{Kind: "Node", Name: spot.Name}
	events := []corev1.Event{
		{InvolvedObject: nodeRef, Type: corev1.EventTypeNormal, Reason: "Cordoned", ReportingController: "kdp.dev/drain",
			Message: "Cordoned node ip-10-0-2-33.ec2.internal to drain it (spot interruption)", EventTime: metav1.NewMicroTime(nodesNow.Add(-110 * time.Second))},
		{InvolvedObject: corev1.ObjectReference{Kind: "NodeGroup", Name: "web"}, Related: &nodeRef, Type: corev1.EventTypeNormal, Reason: "Draining",
			ReportingController: "kdp.dev/nodegroup-termination", Message: "Draining node ip-10-0-2-33.ec2.internal before termination (spot interruption)",
			EventTime: metav1.NewMicroTime(nodesNow.Add(-100 * time.Second))},
		{InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "ip-10-0-1-17.ec2.internal"}, Type: corev1.EventTypeNormal, Reason: "NodeReady",
			EventTime: metav1.NewMicroTime(nodesNow.Add(-time.Hour))},
		{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-7c9d8f6b5-fghij"}, Related: &nodeRef, Type: corev1.EventTypeWarning,
			Reason: "EvictionBlocked", Source: corev1.EventSource{Component: "kdp"}, Message: "Cannot evict pod as it would violate the pod's disruption budget",
			LastTimestamp: metav1.NewTime(nodesNow.Add(-30 * time.Second)), Count: 4},
	}
	cloudEvents := []cloud.Event{
		{DetailType: cloud.DetailStateChange, Source: cloud.SourceEC2, Time: inst.LaunchTime.Add(20 * time.Second),
			Resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/" + inst.ID}, Detail: json.RawMessage(`{"instance-id":"` + inst.ID + `","state":"running"}`)},
		{DetailType: cloud.DetailSpotInterruption, Source: cloud.SourceEC2, Time: nodesNow.Add(-2 * time.Minute),
			Resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/" + inst.ID}, Detail: json.RawMessage(`{"instance-id":"` + inst.ID + `","instance-action":"terminate"}`)},
		{DetailType: cloud.DetailStateChange, Source: cloud.SourceEC2, Time: nodesNow.Add(-time.Minute),
			Resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60001"}, Detail: json.RawMessage(`{"instance-id":"i-0a1b2c3d4e5f60001","state":"running"}`)},
	}
	interrupt := nodesNow.Add(-2 * time.Minute).Add(2 * time.Minute)
	inst.SpotInterruptionTime = &interrupt
	asg := &cloud.Group{Name: "eks-web-3f2a", MinSize: 1, MaxSize: 4, DesiredCapacity: 2, InService: 1, Pending: 1, CapacityType: cloud.Spot,
		LaunchTemplate: cloud.TemplateRef{Name: "eks-web-3f2a", Version: "1"}}
	img := &cloud.Image{ID: "ami-0ee865d360b51637d", Type: "AL2023_x86_64_STANDARD", KubernetesVersion: "1.37.2", ReleaseVersion: "1.37.2-20261101"}
	d := inventory.Describe(inventory.DescribeInputs{Node: spot, Instance: inst, Group: asg, Image: img, Pods: pods, Events: events,
		CloudEvents: cloudEvents, Prices: prices, Now: nodesNow})
	var text, js strings.Builder
	if err := printDescription(&text, d); err != nil {
		t.Fatal(err)
	}
	nodesGolden(t, "describe.golden", text.String())
	if err := printJSON(&js, d); err != nil {
		t.Fatal(err)
	}
	nodesGolden(t, "describe-json.golden", js.String())

	// Another cluster's node: what the cloud does not know is said so.
	other := inventory.Describe(inventory.DescribeInputs{Node: &nodes[5], Now: nodesNow})
	text.Reset()
	if err := printDescription(&text, other); err != nil {
		t.Fatal(err)
	}
	nodesGolden(t, "describe-unknown.golden", text.String())
}

func TestNodesFlags(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"nodes", "-o", "xml"}, `kdp nodes: -o "xml": must be one of table, wide, json, yaml` + "\n"},
		{[]string{"nodes", "list", "-o", "xml"}, `kdp nodes list: -o "xml": must be one of table, wide, json, yaml` + "\n"},
		{[]string{"nodes", "describe", "n1", "-o", "wide"}, `kdp nodes describe: -o "wide": must be one of table, json, yaml` + "\n"},
		{[]string{"nodes", "describe"}, "kdp nodes describe: NODE: name one node (got 0 arguments); kdp nodes lists them\n"},
		{[]string{"nodes", "nosuch"}, `kdp nodes: unknown command "nosuch" for "kdp nodes"` + "\n"},
	} {
		code, stdout, stderr := runKdp(t, c.args...)
		if code != 1 || stdout != "" || stderr != c.stderr {
			t.Errorf("kdp %v: exit %d, stdout %q, stderr %q; want 1 and %q", c.args, code, stdout, stderr, c.stderr)
		}
	}
}
