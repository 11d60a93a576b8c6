package inventory

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func prices() billing.Prices {
	return billing.NewPrices([]cloud.InstanceType{
		{Name: "m5.large", OnDemandPrice: 0.096, SpotPrices: map[string]float64{"us-east-1a": 0.03}},
		{Name: "t3.medium", OnDemandPrice: 0.0416},
	}, catalog.FargatePrices{VCPUPerHour: 0.04048, GBPerHour: 0.004445, EphemeralStorageGBPerHour: 0.000111, IncludedEphemeralStorageGB: 20})
}

// node is a Ready Node of an instance (id "" for none), created an hour
// before now.
func node(name, id string, labels map[string]string) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Status: corev1.NodeStatus{
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"},
			Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("29")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.1.5"}},
		},
	}
	if id != "" {
		n.Spec.ProviderID = cloud.ProviderID("us-east-1a", id)
	}
	return n
}

func pod(ns, name, node string, phase corev1.PodPhase, labels map[string]string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(now.Add(-time.Minute))},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
}

func TestNodes(t *testing.T) {
	ngTags := map[string]string{"eks:nodegroup-name": "web"}
	vm := &cloud.MicroVM{MilliCPU: 250, MemoryMiB: 512, StorageGiB: 20}
	instances := []cloud.Instance{
		{ID: "i-managed", Type: "m5.large", Zone: "us-east-1a", Lifecycle: cloud.OnDemand, State: cloud.StateRunning, Group: "eks-web-1", LifecycleState: cloud.LifecycleInService, Tags: ngTags, ImageID: "ami-1"},
		{ID: "i-spot", Type: "m5.large", Zone: "us-east-1a", Lifecycle: cloud.Spot, State: cloud.StateRunning, Group: "eks-web-1", Tags: ngTags},
		{ID: "i-tagonly", Type: "m5.large", Zone: "us-east-1b", Lifecycle: cloud.OnDemand, State: cloud.StateRunning, Group: "eks-web-1", Tags: ngTags},
		{ID: "i-asg", Type: "t3.medium", Zone: "us-east-1b", Lifecycle: cloud.OnDemand, State: cloud.StateRunning, Group: "web-asg"},
		{ID: "i-alone", Type: "t3.medium", Zone: "us-east-1c", Lifecycle: cloud.Spot, State: cloud.StateRunning},
		{ID: "i-exotic", Type: "x9.mega", Zone: "us-east-1c", Lifecycle: cloud.OnDemand, State: cloud.StateRunning},
		{ID: "fg-1", Type: cloud.MicroVMType, Zone: "us-east-1a", MicroVM: vm, State: cloud.StateRunning, Tags: map[string]string{"eks.kdp.dev/fargate-profile": "apps"}},
	}
	managed := map[string]string{eksv1.LabelNodegroup: "web", eksv1.LabelCapacityType: "ON_DEMAND"}
	fargate := map[string]string{eksv1.LabelComputeType: eksv1.ComputeTypeFargate, corev1.LabelTopologyZone: "us-east-1b"}
	cordoned := node("n-cordoned", "i-asg", nil)
	cordoned.Spec.Unschedulable = true
	cordoned.Status.Conditions[0].Status = corev1.ConditionFalse
	nodes := []corev1.Node{
		node("n-managed", "i-managed", managed),
		node("n-spot", "i-spot", map[string]string{eksv1.LabelNodegroup: "web", eksv1.LabelCapacityType: "SPOT"}),
		node("n-tagonly", "i-tagonly", nil),
		cordoned,
		node("n-alone", "i-alone", nil),
		node("n-exotic", "i-exotic", nil),
		node("fargate-ip-10-0-1-9", "fg-1", fargate),
		node("fargate-ip-10-0-9-9", "fg-gone", fargate),
		node("other-cluster", "", map[string]string{corev1.LabelInstanceTypeStable: "c5.xlarge", corev1.LabelTopologyZone: "eu-west-1a"}),
		node("other-managed", "i-elsewhere", map[string]string{eksv1.LabelNodegroup: "theirs", eksv1.LabelCapacityType: "SPOT"}),
	}
	pods := []corev1.Pod{
		pod("default", "a", "n-managed", corev1.PodRunning, nil),
		pod("default", "b", "n-managed", corev1.PodPending, nil),
		pod("default", "done", "n-managed", corev1.PodSucceeded, nil),
		pod("default", "failed", "n-managed", corev1.PodFailed, nil),
		pod("default", "unbound", "", corev1.PodPending, nil),
		pod("apps", "fg", "fargate-ip-10-0-9-9", corev1.PodRunning, map[string]string{eksv1.LabelFargateProfile: "apps-from-pod"}),
	}
	rows := Nodes(Inputs{Nodes: nodes, Instances: instances, Pods: pods, Prices: prices(), Now: now})
	type want struct {
		plane                      DataPlane
		group, asg, typ, zone, cap string
		price                      float64 // -1: unknown
		pods                       int
		status                     string
	}
	fargateRate := 0.012343 // 0.25*0.04048 + 0.5*0.004445, to the millionth
	wants := map[string]want{
		"n-managed":           {Managed, "web", "eks-web-1", "m5.large", "us-east-1a", OnDemand, 0.096, 2, StatusReady},
		"n-spot":              {Managed, "web", "eks-web-1", "m5.large", "us-east-1a", Spot, 0.03, 0, StatusReady},
		"n-tagonly":           {Managed, "web", "eks-web-1", "m5.large", "us-east-1b", OnDemand, 0.096, 0, StatusReady},
		"n-cordoned":          {SelfManagedGroup, "web-asg", "web-asg", "t3.medium", "us-east-1b", OnDemand, 0.0416, 0, "NotReady,SchedulingDisabled"},
		"n-alone":             {Standalone, "", "", "t3.medium", "us-east-1c", Spot, 0.0416, 0, StatusReady},
		"n-exotic":            {Standalone, "", "", "x9.mega", "us-east-1c", OnDemand, -1, 0, StatusReady},
		"fargate-ip-10-0-1-9": {Fargate, "apps", "", "0.25vCPU 0.5GB", "us-east-1a", OnDemand, fargateRate, 0, StatusReady},
		"fargate-ip-10-0-9-9": {Fargate, "apps-from-pod", "", "", "us-east-1b", OnDemand, -1, 1, StatusReady},
		"other-cluster":       {Unknown, "", "", "c5.xlarge", "eu-west-1a", "", -1, 0, StatusReady},
		"other-managed":       {Managed, "theirs", "", "", "", "SPOT", -1, 0, StatusReady},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, r := range rows {
		if i > 0 && rows[i-1].Name >= r.Name {
			t.Errorf("rows not by name: %s before %s", rows[i-1].Name, r.Name)
		}
		w, ok := wants[r.Name]
		if !ok {
			t.Errorf("unexpected row %s", r.Name)
			continue
		}
		price := -1.0
		if r.PricePerHour != nil {
			price = *r.PricePerHour
		}
		if r.DataPlane != w.plane || r.Group() != w.group || r.AutoScalingGroupName != w.asg || r.InstanceType != w.typ || r.Zone != w.zone ||
			r.CapacityType != w.cap || !near(price, w.price) || r.Pods != w.pods || r.Status != w.status {
			t.Errorf("%s: %s/%q (asg %q) %q %q %q $%v %d pods %s; want %+v", r.Name, r.DataPlane, r.Group(), r.AutoScalingGroupName, r.InstanceType,
				r.Zone, r.CapacityType, price, r.Pods, r.Status, w)
		}
		if r.KubeletVersion != "v1.37.2" || r.MaxPods != 29 || r.Age.Duration != time.Hour || !r.CreatedAt.Equal(now.Add(-time.Hour)) {
			t.Errorf("%s: version %q, max pods %d, age %v, created %v", r.Name, r.KubeletVersion, r.MaxPods, r.Age, r.CreatedAt)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestNodeJSON: one naming style, EKS's camelCase; unknown fields are
// left out, the age is a duration string and the creation RFC 3339.
func TestNodeJSON(t *testing.T) {
	rows := Nodes(Inputs{Nodes: []corev1.Node{node("other", "", nil)}, Now: now})
	b, err := json.Marshal(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"nodeName":"other","kubeletVersion":"v1.37.2","pods":0,"maxPods":29,"internalIp":"10.0.1.5","status":"Ready","createdAt":"2026-12-02T11:00:00Z","age":"1h0m0s"}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
}

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		name          string
		cond          *corev1.ConditionStatus
		unschedulable bool
		want          string
	}{
		{"Ready", ptr(corev1.ConditionTrue), false, "Ready"},
		{"not Ready", ptr(corev1.ConditionFalse), false, "NotReady"},
		{"Ready unknown", ptr(corev1.ConditionUnknown), false, "Unknown"},
		{"no Ready condition", nil, false, "Unknown"},
		{"cordoned", ptr(corev1.ConditionTrue), true, "Ready,SchedulingDisabled"},
	} {
		n := corev1.Node{Spec: corev1.NodeSpec{Unschedulable: c.unschedulable}}
		if c.cond != nil {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: *c.cond}}
		}
		if got := status(&n); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestConcernsAndNamesInstance(t *testing.T) {
	nodeRef := corev1.ObjectReference{Kind: "Node", Name: "n1"}
	for _, c := range []struct {
		name string
		e    corev1.Event
		want bool
	}{
		{"about the node", corev1.Event{InvolvedObject: nodeRef}, true},
		{"related to the node", corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "NodeGroup", Name: "web"}, Related: &nodeRef}, true},
		{"about another node", corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n2"}}, false},
		{"about a pod of the same name", corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "n1"}}, false},
	} {
		if got := Concerns(&c.e, "n1"); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		e    cloud.Event
		want bool
	}{
		{"the instance's ARN", cloud.Event{Resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-1"}}, true},
		{"its id in the detail", cloud.Event{Detail: json.RawMessage(`{"EC2InstanceId":"i-1"}`)}, true},
		{"another instance whose id starts the same", cloud.Event{Resources: []string{"arn:aws:ec2:us-east-1:1:instance/i-10"}, Detail: json.RawMessage(`{"instance-id":"i-10"}`)}, false},
	} {
		if got := NamesInstance(c.e, "i-1"); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	n := node("n1", "i-1", map[string]string{eksv1.LabelNodegroup: "web"})
	launched := now.Add(-time.Hour)
	inst := &cloud.Instance{ID: "i-1", Type: "m5.large", Zone: "us-east-1a", Lifecycle: cloud.Spot, State: cloud.StateRunning, Group: "eks-web-1",
		LifecycleState: cloud.LifecycleInService, LaunchTime: launched, ImageID: "ami-1", LaunchTemplate: &cloud.TemplateRef{Name: "eks-web", Version: "2"}}
	asg := &cloud.Group{Name: "eks-web-1", MinSize: 1, MaxSize: 3, DesiredCapacity: 2, InService: 2, CapacityType: cloud.Spot, LaunchTemplate: cloud.TemplateRef{Name: "eks-web", Version: "2"}}
	img := &cloud.Image{ID: "ami-1", Type: "AL2023_x86_64_STANDARD", ReleaseVersion: "1.37.2-20261101"}
	p := pod("default", "b", "n1", corev1.PodRunning, nil)
	p.Spec.Containers = []corev1.Container{
		{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}},
		{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}},
	}
	nodeRef := corev1.ObjectReference{Kind: "Node", Name: "n1"}
	events := []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Name: "late"}, InvolvedObject: nodeRef, Reason: "Cordoned", Type: "Normal", ReportingController: "kdp-drain",
			EventTime: metav1.NewMicroTime(now.Add(-time.Minute))},
		{ObjectMeta: metav1.ObjectMeta{Name: "other"}, InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n2"}, Reason: "Other", LastTimestamp: metav1.NewTime(now)},
		{ObjectMeta: metav1.ObjectMeta{Name: "early"}, InvolvedObject: corev1.ObjectReference{Kind: "NodeGroup", Name: "web"}, Related: &nodeRef,
			Reason: "Draining", Type: "Normal", Source: corev1.EventSource{Component: "kdp"}, LastTimestamp: metav1.NewTime(now.Add(-30 * time.Minute)), Count: 3},
	}
	cloudEvents := []cloud.Event{
		{DetailType: cloud.DetailStateChange, Source: cloud.SourceEC2, Time: launched, Detail: json.RawMessage(`{"instance-id":"i-1","state":"running"}`)},
		{DetailType: cloud.DetailSpotInterruption, Source: cloud.SourceEC2, Time: now.Add(-10 * time.Minute), Detail: json.RawMessage(`{"instance-id":"i-1","instance-action":"terminate"}`)},
		{DetailType: cloud.DetailStateChange, Source: cloud.SourceEC2, Time: now, Detail: json.RawMessage(`{"instance-id":"i-2","state":"running"}`)},
	}
	d := Describe(DescribeInputs{Node: &n, Instance: inst, Group: asg, Image: img, Pods: []corev1.Pod{p, pod("default", "a", "n1", corev1.PodSucceeded, nil)},
		Events: events, CloudEvents: cloudEvents, Prices: prices(), Now: now})

	if d.Node.DataPlane != Managed || d.Node.CapacityType != Spot || d.Instance == nil || d.Instance.AMIType != "AL2023_x86_64_STANDARD" ||
		d.Instance.LaunchTemplate != "eks-web:2" || d.Instance.PricePerHour == nil || !near(*d.Instance.PricePerHour, 0.03) {
		t.Errorf("node %+v, instance %+v", d.Node, d.Instance)
	}
	if g := d.Group; g == nil || g.Name != "web" || g.AutoScalingGroupName != "eks-web-1" || g.Size == nil || *g.Size != (GroupSize{Min: 1, Max: 3, Desired: 2, InService: 2}) || g.CapacityType != Spot {
		t.Errorf("group %+v", d.Group)
	}
	if len(d.Pods) != 1 || d.Pods[0].Name != "b" || d.Pods[0].CPU != "500m" || d.Pods[0].Memory != "256Mi" {
		t.Errorf("pods %+v, want b with 500m and 256Mi", d.Pods)
	}
	var got []string
	for _, e := range d.Events {
		got = append(got, e.Object+" "+e.Type+" "+e.Reason+" "+e.From+" "+e.Message)
	}
	want := []string{
		"Instance/i-1 Normal EC2 Instance State-change Notification aws.ec2 instance i-1 is running",
		"NodeGroup/web Normal Draining kdp ",
		"Instance/i-1 Warning EC2 Spot Instance Interruption Warning aws.ec2 instance i-1 is interrupted: terminate",
		"Node/n1 Normal Cordoned kdp-drain ",
	}
	if len(got) != len(want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, got[i], want[i])
		}
	}
	if d.Events[1].Count != 3 || d.Events[3].Age.Duration != time.Minute {
		t.Errorf("events %+v", d.Events)
	}

	// A node of no group and no instance: neither section.
	other := node("other", "", nil)
	if d := Describe(DescribeInputs{Node: &other, Now: now}); d.Instance != nil || d.Group != nil || len(d.Events) != 0 || d.Pods == nil {
		t.Errorf("a node without an instance: %+v", d)
	}
}
