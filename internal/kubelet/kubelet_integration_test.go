package kubelet_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// machines runs a simulated cloud (in dir, at 100×) and its kubelets
// against the package's API server until stop is called.
type machines struct {
	cloud    *sim.Cloud
	provider *sim.Provider
	stop     func()
}

func startMachines(t *testing.T, dir string) *machines {
	t.Helper()
	o := sim.DefaultOptions()
	o.Dir, o.Scale, o.Seed = dir, 100, 7
	c, err := sim.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = c.Run(ctx) }()
	mgr, err := manager.New(env.Config, manager.Options{MetricsAddr: "0", HealthAddr: "0", SkipNameValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Provider("kubelet-test")
	timing := c.Timing()
	if err := kubelet.Setup(ctx, mgr, p, kubelet.Options{Clock: clock.RealClock{}, Timing: kubelet.Timing{
		Join: timing.Join, PodStart: timing.PodStart, Heartbeat: timing.Heartbeat, Jitter: timing.Jitter,
	}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	m := &machines{cloud: c, provider: p}
	m.stop = func() {
		cancel()
		<-done
		<-c.Stopped()
	}
	t.Cleanup(m.stop)
	return m
}

// foreignNodes are Nodes kdp never launched, as a real EKS cluster has
// them: they must never be changed or deleted.
func foreignNodes(t *testing.T, firstIP string) []*corev1.Node {
	t.Helper()
	ctx := context.Background()
	nodes := []*corev1.Node{
		// An EKS node: an aws:/// providerID kdp knows nothing of.
		{ObjectMeta: metav1.ObjectMeta{Name: "ip-192-168-7-9.ec2.internal"}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0abcdef1234567890"}},
		// One that claims to be kdp's (its label and providerID agree) for
		// an instance the cloud never launched.
		{ObjectMeta: metav1.ObjectMeta{Name: "impostor", Labels: map[string]string{kubelet.LabelInstanceID: "i-12345678901200001"}},
			Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1b/i-12345678901200001"}},
		// One with the very name kdp's first instance will have.
		{ObjectMeta: metav1.ObjectMeta{Name: firstIP}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0fedcba9876543210"}},
	}
	for _, n := range nodes {
		if err := env.Client.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

func expectUntouched(t *testing.T, want []*corev1.Node) {
	t.Helper()
	for _, w := range want {
		got := &corev1.Node{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(w), got); err != nil {
			t.Errorf("foreign node %s: %v", w.Name, err)
			continue
		}
		if got.UID != w.UID || got.Spec.ProviderID != w.Spec.ProviderID || got.Labels[kubelet.LabelInstanceID] != w.Labels[kubelet.LabelInstanceID] {
			t.Errorf("foreign node %s was changed: %+v", w.Name, got)
		}
	}
}

func TestIntegration_OnlyNodesTheCloudLaunchedAreTouched(t *testing.T) {
	ctx := testenv.Context(t)
	dir := t.TempDir()
	if err := join.EnsureRBAC(ctx, env.Clientset); err != nil {
		t.Fatal(err)
	}
	m := startMachines(t, dir)
	subnets, _ := m.provider.Subnets(ctx)
	firstIP, _ := subnets[0].Address(0)
	foreign := foreignNodes(t, "ip-"+dashed(firstIP)+".ec2.internal")

	cfg := rest.CopyConfig(env.Config)
	if err := rest.LoadTLSFiles(cfg); err != nil {
		t.Fatal(err)
	}
	nc, err := join.Issue(ctx, env.Clientset, time.Now(), join.Options{ClusterName: "kubelet-test", Server: cfg.Host, CA: cfg.CAData,
		ServiceCIDR: cluster.ServiceCIDR, TTL: time.Hour, Labels: map[string]string{"team": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	userData, err := nc.Render()
	if err != nil {
		t.Fatal(err)
	}
	images, _ := m.provider.Images(ctx)
	if _, err := m.provider.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "web-nodes", LaunchTemplateData: cloud.LaunchTemplateData{
		ImageID: images[0].ID, InstanceType: "m5.large", UserData: string(userData)}}); err != nil {
		t.Fatal(err)
	}
	// Three instances, one per zone: the first at the address of a foreign
	// Node's name, which its kubelet must not take over.
	if _, err := m.provider.CreateGroup(ctx, cloud.GroupInput{Name: "web", LaunchTemplate: cloud.TemplateRef{Name: "web-nodes"},
		MaxSize: 3, DesiredCapacity: 3}); err != nil {
		t.Fatal(err)
	}
	var joined []corev1.Node
	testenv.Eventually(t, 60*time.Second, func() error {
		var nodes corev1.NodeList
		if err := env.Client.List(ctx, &nodes, client.HasLabels{"team"}); err != nil {
			return err
		}
		if len(nodes.Items) != 2 {
			return fmt.Errorf("%d of kdp's nodes joined, want 2 (the third's name is taken)", len(nodes.Items))
		}
		joined = nodes.Items
		return nil
	})
	expectUntouched(t, foreign)

	// A terminated instance's Node goes; the foreign ones stay.
	id, _ := kubelet.InstanceOf(&joined[0])
	if err := m.provider.TerminateInstance(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(&joined[0]), &corev1.Node{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("node %s of terminated instance %s: %v", joined[0].Name, id, err)
		}
		return nil
	})
	expectUntouched(t, foreign)

	// A restart of the cloud and the kubelets changes none of that.
	m.stop()
	m = startMachines(t, dir)
	testenv.Eventually(t, 30*time.Second, func() error {
		is, _, err := m.provider.ListInstances(ctx, cloud.InstanceFilter{Group: "web", States: []string{cloud.StateRunning}}, cloud.Page{})
		if err != nil || len(is) != 2 {
			return fmt.Errorf("running instances after the restart: %d, %v", len(is), err)
		}
		return nil
	})
	expectUntouched(t, foreign)
	var nodes corev1.NodeList
	if err := env.Client.List(ctx, &nodes, client.HasLabels{"team"}); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 1 || nodes.Items[0].UID != joined[1].UID {
		t.Errorf("kdp's nodes after the restart: %d, want the one left, registered once", len(nodes.Items))
	}
	// The foreign Node gone, the kubelet it blocked joins.
	if err := env.Client.Delete(ctx, foreign[2]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		n := &corev1.Node{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(foreign[2]), n); err != nil {
			return err
		}
		if _, ours := kubelet.InstanceOf(n); !ours {
			return fmt.Errorf("node %s is not kdp's yet", n.Name)
		}
		return nil
	})
	expectUntouched(t, foreign[:2])
}

func dashed(ip string) string {
	b := []byte(ip)
	for i := range b {
		if b[i] == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

func TestInstanceOf(t *testing.T) {
	for _, tc := range []struct {
		providerID, label string
		want              string
		ours              bool
	}{
		{"aws:///us-east-1a/i-0123", "i-0123", "i-0123", true},
		{"aws:///us-east-1a/i-0123", "", "i-0123", false},       // an EKS node
		{"aws:///us-east-1a/i-0123", "i-0456", "i-0123", false}, // a label that does not agree
		{"gce://p/z/n", "n", "", false},
		{"", "i-0123", "", false},
	} {
		n := &corev1.Node{Spec: corev1.NodeSpec{ProviderID: tc.providerID}}
		if tc.label != "" {
			n.Labels = map[string]string{kubelet.LabelInstanceID: tc.label}
		}
		if id, ours := kubelet.InstanceOf(n); id != tc.want || ours != tc.ours {
			t.Errorf("%q/%q: %q, %v; want %q, %v", tc.providerID, tc.label, id, ours, tc.want, tc.ours)
		}
	}
}

func TestIntegration_RenewLeaseOnlyTheNodesOwn(t *testing.T) {
	ctx := testenv.Context(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lease-test"}}
	if err := env.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	get := func() *coordinationv1.Lease {
		t.Helper()
		l := &coordinationv1.Lease{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: corev1.NamespaceNodeLease, Name: node.Name}, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	// Missing: created, owned by the Node.
	first := time.Now().Truncate(time.Microsecond)
	if err := kubelet.RenewLease(ctx, env.Client, node, first); err != nil {
		t.Fatal(err)
	}
	if l := get(); len(l.OwnerReferences) != 1 || l.OwnerReferences[0].UID != node.UID || !l.Spec.RenewTime.Time.Equal(first) {
		t.Fatalf("created lease %+v", l)
	}
	// Ours: renewed.
	later := first.Add(10 * time.Second)
	if err := kubelet.RenewLease(ctx, env.Client, node, later); err != nil {
		t.Fatal(err)
	}
	if l := get(); !l.Spec.RenewTime.Time.Equal(later) {
		t.Errorf("renewed at %s, want %s", l.Spec.RenewTime, later)
	}
	// Another node's of the same name (an impostor's UID): left alone.
	other := node.DeepCopy()
	other.UID = "not-this-node"
	if err := kubelet.RenewLease(ctx, env.Client, other, later.Add(time.Minute)); err != nil {
		t.Errorf("renewing another's lease: %v", err)
	}
	if l := get(); !l.Spec.RenewTime.Time.Equal(later) {
		t.Errorf("another node's lease was renewed: %s", l.Spec.RenewTime)
	}
}
