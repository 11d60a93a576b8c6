package cli_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/testenv"
)

// listedNode is a node as kdp nodes -o json prints it.
type listedNode struct {
	NodeName, DataPlane, NodegroupName, FargateProfileName, AutoScalingGroupName string
	InstanceID, InstanceType, AvailabilityZone, CapacityType, KubeletVersion     string
	Pods, MaxPods                                                                int
	PricePerHour                                                                 *float64
	Status, CreatedAt, Age                                                       string
}

// TestE2E_NodesListAndDescribe: kdp nodes classifies every node of a
// cluster with a managed node group, a self-managed Auto Scaling group and
// a Fargate pod by its data plane and group, each priced; kdp nodes
// describe of the managed node shows its instance, its group and the
// events of its instance; an unknown node is an error.
func TestE2E_NodesListAndDescribe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)

	// A managed node group, a self-managed group and a Fargate profile,
	// all at once; then a pod on Fargate once its profile is ACTIVE.
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: eksv1.NodeGroupSpec{
		InstanceTypes: []string{"m5.large"}, ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 1},
	}}
	if err := e.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	const ns = "serverless"
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	fp := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "apps"}, Spec: eksv1.FargateProfileSpec{
		PodExecutionRoleArn: "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole",
		Selectors:           []eksv1.FargateProfileSelector{{Namespace: ns}},
	}}
	if err := e.Client.Create(ctx, fp); err != nil {
		t.Fatal(err)
	}
	nodeTemplate(t, dir, "batch", "t3.medium", "--labels", "team=batch")
	simKdp(t, dir, "sim", "group", "create", "batch", "--launch-template", "batch", "--min-size", "1", "--max-size", "2", "--desired-capacity", "1")
	testenv.Eventually(t, time.Minute, func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(fp), fp); err != nil {
			return err
		}
		if fp.Status.Status != eksv1.FargateActive {
			return fmt.Errorf("profile %s is %q, want ACTIVE", fp.Name, fp.Status.Status)
		}
		return nil
	})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "job"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}}}
	if err := e.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitNodeGroup(t, e.Client, "web", 1)

	// Every node listed, once each is there: the managed one, the
	// self-managed one and the Fargate pod's.
	var nodes []listedNode
	byPlane := map[string]listedNode{}
	testenv.Eventually(t, time.Minute, func() error {
		code, out, stderr := kdp(t, "nodes", "--data-dir", dir, "-o", "json")
		if code != 0 {
			return fmt.Errorf("kdp nodes -o json: exit %d: %s", code, stderr)
		}
		var list struct{ Nodes []listedNode }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return fmt.Errorf("kdp nodes -o json: %v:\n%s", err, out)
		}
		nodes, byPlane = list.Nodes, map[string]listedNode{}
		for _, n := range nodes {
			if n.Status == "Ready" {
				byPlane[n.DataPlane] = n
			}
		}
		if len(nodes) != 3 || len(byPlane) != 3 {
			return fmt.Errorf("nodes %+v; want 3 Ready: managed, self-managed-group and fargate", nodes)
		}
		return nil
	})
	for plane, want := range map[string]struct{ group, typ, capacity string }{
		"managed":            {"web", "m5.large", "ON_DEMAND"},
		"self-managed-group": {"batch", "t3.medium", "ON_DEMAND"},
		"fargate":            {"apps", "0.25vCPU 0.5GB", "ON_DEMAND"},
	} {
		n, ok := byPlane[plane]
		group := map[string]string{"managed": n.NodegroupName, "self-managed-group": n.AutoScalingGroupName, "fargate": n.FargateProfileName}[plane]
		if !ok || group != want.group || n.InstanceType != want.typ || n.CapacityType != want.capacity || n.PricePerHour == nil || *n.PricePerHour <= 0 ||
			!strings.HasPrefix(n.InstanceID, "i-") || !strings.HasPrefix(n.AvailabilityZone, "us-east-1") || !strings.HasPrefix(n.KubeletVersion, "v1.") {
			t.Errorf("%s node %+v; want group %s, %s, %s, priced, with its instance", plane, n, want.group, want.typ, want.capacity)
		}
		if _, err := time.Parse(time.RFC3339, n.CreatedAt); err != nil {
			t.Errorf("%s node's createdAt: %v", plane, err)
		}
		if _, err := time.ParseDuration(n.Age); err != nil {
			t.Errorf("%s node's age: %v", plane, err)
		}
	}
	if n := byPlane["managed"]; n.PricePerHour != nil && *n.PricePerHour != 0.096 {
		t.Errorf("the m5.large costs $%v/h, want the catalogue's $0.096", *n.PricePerHour)
	}
	if n := byPlane["fargate"]; n.Pods != 1 || n.MaxPods != 1 {
		t.Errorf("the Fargate node runs %d of %d pods, want its pod alone", n.Pods, n.MaxPods)
	}

	code, table, stderr := kdp(t, "nodes", "--data-dir", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^NAME\s+DATA-PLANE\s+GROUP\s+TYPE\s+ZONE\s+CAPACITY\s+VERSION\s+PODS\s+PRICE/H\s+AGE$`).MatchString(table) ||
		!regexp.MustCompile(`managed\s+web\s+m5.large\s+us-east-1\w\s+ON_DEMAND\s+v1\.\d+\.\d+\s+\d+/29\s+0.0960\s`).MatchString(table) {
		t.Errorf("kdp nodes: exit %d, %s\n%s", code, stderr, table)
	}
	t.Logf("kdp nodes:\n%s", table)
	if code, wide, _ := kdp(t, "nodes", "list", "--data-dir", dir, "-o", "wide"); code != 0 || !strings.Contains(wide, byPlane["managed"].InstanceID) {
		t.Errorf("kdp nodes list -o wide: exit %d\n%s", code, wide)
	}

	managed := byPlane["managed"]
	code, text, stderr := kdp(t, "nodes", "describe", managed.NodeName, "--data-dir", dir)
	if code != 0 {
		t.Fatalf("kdp nodes describe: exit %d: %s", code, stderr)
	}
	t.Logf("kdp nodes describe %s:\n%s", managed.NodeName, text)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^Data plane:\s+managed$`),
		regexp.MustCompile(`(?m)^  ID:\s+` + managed.InstanceID + `$`),
		regexp.MustCompile(`(?m)^  State:\s+running$`),
		regexp.MustCompile(`(?m)^  Lifecycle state:\s+InService$`),
		regexp.MustCompile(`(?m)^  Image:\s+ami-\w+ \(AL2023_x86_64_STANDARD, release `),
		regexp.MustCompile(`(?m)^  Node group:\s+web$`),
		regexp.MustCompile(`(?m)^  Size:\s+min 1, max 2, desired 1 `),
		regexp.MustCompile(`(?m)^  \S+\s+Normal\s+EC2 Instance State-change Notification\s+aws.ec2\s+Instance/` + managed.InstanceID + `\s`),
	} {
		if !want.MatchString(text) {
			t.Errorf("kdp nodes describe lacks %s", want)
		}
	}
	var d struct {
		Node     listedNode
		Instance struct{ InstanceID, State string }
		Events   []struct{ Object, Reason string }
	}
	code, out, stderr := kdp(t, "nodes", "describe", managed.NodeName, "--data-dir", dir, "-o", "json")
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil {
		t.Fatalf("kdp nodes describe -o json: exit %d, %v: %s", code, err, stderr)
	}
	if d.Node.NodeName != managed.NodeName || d.Instance.InstanceID != managed.InstanceID || len(d.Events) == 0 {
		t.Errorf("kdp nodes describe -o json: %+v", d)
	}

	code, _, stderr = kdp(t, "nodes", "describe", "nosuch", "--data-dir", dir)
	if want := "kdp nodes describe: node \"nosuch\" not found\n"; code != 1 || stderr != want {
		t.Errorf("kdp nodes describe nosuch: exit %d, %q; want 1, %q", code, stderr, want)
	}
}

// TestE2E_NodesWithoutTheCloud: against a cluster whose data dir serves no
// cloud (kdp up --control-plane-only), kdp nodes still lists its nodes,
// with - for what only the cloud knows, and says why on stderr; describe
// says the cloud knows no instance of the node.
func TestE2E_NodesWithoutTheCloud(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-7", Labels: map[string]string{corev1.LabelInstanceTypeStable: "c5.xlarge", corev1.LabelTopologyZone: "eu-west-1a"}},
		Spec:       corev1.NodeSpec{ProviderID: "aws:///eu-west-1a/i-0123456789abcdef0"},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.36.4"}},
	}
	if err := e.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := kdp(t, "nodes", "--data-dir", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^worker-7\s+-\s+-\s+c5.xlarge\s+eu-west-1a\s+-\s+v1.36.4\s+0/0\s+-\s+\d+s$`).MatchString(out) ||
		!strings.Contains(stderr, "instances, prices and self-managed groups are unknown (-)") {
		t.Errorf("kdp nodes without a cloud: exit %d, stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	code, out, _ = kdp(t, "nodes", "describe", "worker-7", "--data-dir", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^Instance:\s+<none known to the cloud>$`).MatchString(out) || !regexp.MustCompile(`(?m)^Data plane:\s+-$`).MatchString(out) {
		t.Errorf("kdp nodes describe without a cloud: exit %d:\n%s", code, out)
	}
}
