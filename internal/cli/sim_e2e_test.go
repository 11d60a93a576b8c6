package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/testenv"
)

// simKdp runs a kdp subcommand against the data dir and fails the test if
// it fails.
func simKdp(t testing.TB, dir string, args ...string) string {
	t.Helper()
	code, out, stderr := kdp(t, append(args, "--data-dir", dir)...)
	if code != 0 {
		t.Fatalf("kdp %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// nodeTemplate creates, through the CLI, a launch template whose instances
// join the cluster: the user data is what kdp nodes join-config prints
// (with joinArgs: --labels, --kubeconfig, ...), the image the newest, the
// instance type instanceType (none if empty). It returns the image.
func nodeTemplate(t testing.TB, dir, name, instanceType string, joinArgs ...string) cloud.Image {
	t.Helper()
	userData := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(userData, []byte(simKdp(t, dir, append([]string{"nodes", "join-config"}, joinArgs...)...)), 0o600); err != nil {
		t.Fatal(err)
	}
	var images []cloud.Image
	if err := json.Unmarshal([]byte(simKdp(t, dir, "sim", "images", "-o", "json")), &images); err != nil {
		t.Fatal(err)
	}
	args := []string{"sim", "launch-template", "create", name, "--image-id", images[0].ID, "--user-data", userData}
	if instanceType != "" {
		args = append(args, "--instance-type", instanceType)
	}
	simKdp(t, dir, args...)
	return images[0] // the newest: AL2023 x86_64 for the control plane's version
}

// instance is an instance as kdp sim instances -o json prints it.
type instance struct {
	cloud.Instance
	NodeName string `json:"nodeName"`
}

func instances(t *testing.T, dir string, group string) []instance {
	t.Helper()
	var out []instance
	if err := json.Unmarshal([]byte(simKdp(t, dir, "sim", "instances", "--auto-scaling-group-name", group, "-o", "json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestE2E_SelfManagedNodesJoinAndGo walks the self-managed path through
// kdp up with a compressed clock: a join config, a launch template and a
// 3-instance group; nodes join with the join config's labels and taints, a
// Deployment runs on them, a terminated instance is replaced and its Node
// deleted, a spot interruption terminates its instance after the (scaled)
// 2 minutes, and a restart of kdp loses and duplicates nothing.
func TestE2E_SelfManagedNodesJoinAndGo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// 120×: the 2-minute spot notice passes in a second.
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "120"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)

	image := nodeTemplate(t, dir, "web", "m5.large", "--labels", "team=web,tier=frontend", "--taints", "dedicated=web:NoSchedule")
	simKdp(t, dir, "sim", "group", "create", "web", "--launch-template", "web", "--min-size", "1", "--max-size", "5", "--desired-capacity", "3")

	waitNodes := func(want int) []corev1.Node {
		t.Helper()
		var nodes corev1.NodeList
		testenv.Eventually(t, 60*time.Second, func() error {
			if err := e.Client.List(ctx, &nodes); err != nil {
				return err
			}
			ready := 0
			for _, n := range nodes.Items {
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			if len(nodes.Items) != want || ready != want {
				return fmt.Errorf("%d nodes, %d Ready; want %d", len(nodes.Items), ready, want)
			}
			return nil
		})
		return nodes.Items
	}
	nodes := waitNodes(3)
	zones := map[string]bool{}
	for _, n := range nodes {
		zones[n.Labels["topology.kubernetes.io/zone"]] = true
		if n.Labels["team"] != "web" || n.Labels["tier"] != "frontend" || n.Labels["node.kubernetes.io/instance-type"] != "m5.large" {
			t.Errorf("node %s labels: %v", n.Name, n.Labels)
		}
		// (Besides, TaintNodesByCondition adds node.kubernetes.io/not-ready
		// at registration until the node controller sees it Ready.)
		if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == "dedicated" && t.Value == "web" && t.Effect == corev1.TaintEffectNoSchedule
		}) {
			t.Errorf("node %s taints: %v", n.Name, n.Spec.Taints)
		}
		if !strings.HasPrefix(n.Spec.ProviderID, "aws:///us-east-1") || !strings.HasSuffix(n.Name, ".ec2.internal") {
			t.Errorf("node %s providerID %q", n.Name, n.Spec.ProviderID)
		}
		if n.Status.NodeInfo.KubeletVersion != "v"+image.KubernetesVersion {
			t.Errorf("node %s kubelet %s, want v%s", n.Name, n.Status.NodeInfo.KubeletVersion, image.KubernetesVersion)
		}
		if pods := n.Status.Capacity[corev1.ResourcePods]; pods.Value() != 29 { // m5.large: 3 × (10 − 1) + 2
			t.Errorf("node %s max pods %s, want 29", n.Name, pods.String())
		}
	}
	if len(zones) != 3 {
		t.Errorf("3 instances in zones %v, want one per zone", zones)
	}
	if out := simKdp(t, dir, "nodes", "versions"); !strings.Contains(out, "3 nodes, 0 outside the supported skew") {
		t.Errorf("kdp nodes versions:\n%s", out)
	}
	// The nodes registered themselves: each through an approved CSR.
	csrs, err := e.Clientset.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issued := 0
	for _, csr := range csrs.Items {
		if len(csr.Status.Certificate) > 0 && strings.HasPrefix(csr.Spec.Username, "system:bootstrap:") {
			issued++
		}
	}
	if issued < 3 {
		t.Errorf("%d CSRs issued to bootstrap tokens, want 3", issued)
	}
	// Each kubelet registered its Node itself and holds the Node's Lease.
	firstRenew := map[string]time.Time{}
	for _, n := range nodes {
		if !slices.ContainsFunc(n.ManagedFields, func(m metav1.ManagedFieldsEntry) bool { return m.Manager == "kubelet" }) {
			t.Errorf("node %s was not registered by a kubelet: managers %v", n.Name, n.ManagedFields)
		}
		lease, err := e.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("lease of node %s: %v", n.Name, err)
		}
		if ptr.Deref(lease.Spec.HolderIdentity, "") != n.Name || lease.Spec.RenewTime == nil ||
			len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].UID != n.UID {
			t.Errorf("lease of node %s: holder %v, renewed %v, owners %v", n.Name, lease.Spec.HolderIdentity, lease.Spec.RenewTime, lease.OwnerReferences)
			continue
		}
		firstRenew[n.Name] = lease.Spec.RenewTime.Time
	}

	// A Deployment that tolerates the taint runs on the nodes.
	ns := e.Namespace(t)
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule}},
					Containers:  []corev1.Container{{Name: "web", Image: "nginx"}},
				},
			},
		},
	}
	if err := e.Client.Create(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(deploy), deploy); err != nil {
			return err
		}
		if deploy.Status.ReadyReplicas != 4 {
			return fmt.Errorf("%d of 4 replicas ready", deploy.Status.ReadyReplicas)
		}
		return nil
	})

	// Terminate one instance: its node goes, the group replaces it.
	victim := instances(t, dir, "web")[0]
	simKdp(t, dir, "sim", "terminate", victim.ID)
	testenv.Eventually(t, 60*time.Second, func() error {
		node := &corev1.Node{}
		if err := e.Client.Get(ctx, client.ObjectKey{Name: victim.NodeName}, node); err == nil {
			return fmt.Errorf("node %s of terminated instance %s still exists", victim.NodeName, victim.ID)
		}
		running := 0
		for _, i := range instances(t, dir, "web") {
			if i.State == cloud.StateRunning && i.NodeName != "" {
				running++
			}
		}
		if running != 3 {
			return fmt.Errorf("%d instances running with nodes, want 3", running)
		}
		return nil
	})

	// The kubelets heartbeat: every 10 s (not scaled: kube-controller-
	// manager's grace period is not), each surviving node's Lease is renewed.
	testenv.Eventually(t, 30*time.Second, func() error {
		for name, first := range firstRenew {
			if name == victim.NodeName {
				continue
			}
			lease, err := e.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !lease.Spec.RenewTime.After(first) {
				return fmt.Errorf("lease of node %s not renewed since %s", name, first)
			}
		}
		return nil
	})

	// Restart kdp: nothing lost, nothing duplicated, no kubelet joins again.
	csrsBefore, err := e.Clientset.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := instances(t, dir, "web")
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "120"}})
	if err != nil {
		t.Fatal(err)
	}
	// Once every kubelet has renewed its Lease after the restart, each has
	// looked at its instance and found its Node: a kubelet that was to join
	// again would have by then.
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, n := range waitNodes(3) {
			lease, err := e.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !lease.Spec.RenewTime.After(restarted) {
				return fmt.Errorf("lease of node %s not renewed since the restart", n.Name)
			}
		}
		return nil
	})
	after := instances(t, dir, "web")
	if len(after) != len(before) {
		t.Fatalf("%d instances before the restart, %d after", len(before), len(after))
	}
	waitNodes(3)
	csrsAfter, err := e.Clientset.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(csrsAfter.Items) != len(csrsBefore.Items) {
		t.Errorf("%d CSRs before the restart, %d after: a kubelet joined again", len(csrsBefore.Items), len(csrsAfter.Items))
	}

	// Bad input changes nothing.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "group", "create", "bad", "--launch-template", "web", "--min-size", "3", "--max-size", "2", "--desired-capacity", "2"},
			"--min-size: minSize (3) is greater than maxSize (2)\n  --desired-capacity: desiredCapacity (2) must be between minSize (3) and maxSize (2)"},
		{[]string{"sim", "group", "create", "bad", "--launch-template", "web", "--min", "0", "--max", "2", "--desired", "5"}, // the older names
			"kdp: --desired-capacity: desiredCapacity (5) must be between minSize (0) and maxSize (2)"},
		{[]string{"sim", "group", "create", "bad", "--launch-template", "nope", "--max-size", "1"}, `--launch-template: launch template "nope" not found`},
		{[]string{"sim", "group", "create", "bad", "--launch-template", "web", "--max-size", "1", "--instance-types", "m7g.large"}, "--instance-types: m7g.large is arm64 but image"},
		{[]string{"sim", "group", "create", "bad", "--launch-template", "web", "--max-size", "1", "--subnets", "subnet-nope"}, `--subnets: unknown subnet "subnet-nope"`},
		{[]string{"sim", "group", "create", "bad:name", "--launch-template", "web", "--max-size", "1"}, `kdp: "bad:name" must be 1–255 characters, with no colon`},
		{[]string{"sim", "launch-template", "create", "bad", "--image-id", "ami-nope"}, `--image-id: unknown image "ami-nope"`},
		{[]string{"sim", "launch-template", "create", "bad", "--image-id", image.ID, "--instance-type", "x9.huge"}, `--instance-type: unknown instance type "x9.huge"`},
		{[]string{"sim", "group", "scale", "web", "--desired-capacity", "6"}, "--desired-capacity: desiredCapacity (6) must be between minSize (1) and maxSize (5)"},
		{[]string{"nodes", "join-config", "--taints", "a=b"}, "--taints: taint \"a=b\": must be key[=value]:Effect"},
		{[]string{"sim", "launch-failure", "--auto-scaling-group-name", "web", "--rate", "1.5", "--for", "10m"}, "--rate: must be more than 0 and at most 1 (every launch fails), got 1.5"},
		{[]string{"sim", "launch-failure", "--group", "web", "--zone", "mars-1a", "--for", "10m"}, `--zone: unknown zone "mars-1a"`},
		{[]string{"sim", "slow-boot", "--group", "web", "--for", "10m"}, "--delay: must be positive, got 0s"},
		{[]string{"sim", "slow-boot", "--group", "nope", "--delay", "1m", "--for", "10m"}, `auto scaling group "nope" not found`},
		{[]string{"sim", "complete-lifecycle-action", "i-12345678901200000", "--group", "web", "--hook", "h", "--result", "MAYBE"}, `--lifecycle-action-result: must be CONTINUE or ABANDON, got "MAYBE"`},
	} {
		code, _, stderr := kdp(t, append(tc.args, "--data-dir", dir)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kdp %s: exit %d, %q; want %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	var groups []cloud.Group
	if err := json.Unmarshal([]byte(simKdp(t, dir, "sim", "groups", "-o", "json")), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].DesiredCapacity != 3 {
		t.Errorf("groups after bad input: %+v", groups)
	}
	// A fault, then lifted.
	if out := simKdp(t, dir, "sim", "launch-failure", "--auto-scaling-group-name", "web", "--rate", "0.5", "--instance-type", "m5.large", "--for", "10m"); !strings.Contains(out, "group web: 50% of launches of m5.large fail in the next 10m0s") {
		t.Errorf("kdp sim launch-failure: %q", out)
	}
	if out := simKdp(t, dir, "sim", "launch-failure", "--auto-scaling-group-name", "web", "--for", "0"); !strings.Contains(out, "group web: launch failures lifted") {
		t.Errorf("kdp sim launch-failure --for 0: %q", out)
	}
}

// TestE2E_SpotInterruption sends a spot instance its 2-minute notice (1 s at
// 120×) and sees it terminated, its node deleted and the group refilled.
func TestE2E_SpotInterruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "120"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := context.Background()

	nodeTemplate(t, dir, "spot-nodes", "")
	simKdp(t, dir, "sim", "group", "create", "spot", "--launch-template", "spot-nodes", "--max-size", "2", "--desired-capacity", "1",
		"--spot", "--instance-types", "m5.large,m6i.large,c6i.large")

	var victim instance
	testenv.Eventually(t, 60*time.Second, func() error {
		is := instances(t, dir, "spot")
		if len(is) != 1 || is[0].NodeName == "" || is[0].Lifecycle != cloud.Spot {
			return fmt.Errorf("instances %+v", is)
		}
		victim = is[0]
		return nil
	})
	// The cheapest spot type in the zone was chosen.
	cat, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	cheapest, best := "", 0.0
	for _, it := range []string{"m5.large", "m6i.large", "c6i.large"} {
		if price, _ := cat.SpotPrice(it, victim.Zone); cheapest == "" || price < best {
			cheapest, best = it, price
		}
	}
	if victim.Type != cheapest {
		t.Errorf("spot group launched %s in %s; want the cheapest of its types there, %s", victim.Type, victim.Zone, cheapest)
	}
	code, _, stderr := kdp(t, "sim", "interrupt", victim.ID, "--data-dir", dir)
	if code != 0 {
		t.Fatal(stderr)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := e.Client.Get(ctx, client.ObjectKey{Name: victim.NodeName}, &corev1.Node{}); err == nil {
			return fmt.Errorf("node %s still there", victim.NodeName)
		}
		for _, i := range instances(t, dir, "spot") {
			if i.ID == victim.ID && i.State != cloud.StateTerminated {
				return fmt.Errorf("victim is %s", i.State)
			}
			if i.ID != victim.ID && i.State == cloud.StateRunning {
				return nil
			}
		}
		return fmt.Errorf("no replacement running yet")
	})
	// On-demand instances get no notices.
	code, _, stderr = kdp(t, "sim", "interrupt", "i-12345678901200000", "--data-dir", dir)
	if code == 0 || !strings.Contains(stderr, `instance "i-12345678901200000" not found`) {
		t.Errorf("interrupting a missing instance: %d %q", code, stderr)
	}
}
