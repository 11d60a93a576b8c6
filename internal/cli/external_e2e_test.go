package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_ExternalClusterKeepsItsOwnNodes points kdp at another, independent
// cluster (a second kdp's control plane) that already holds Nodes with
// aws:/// providerIDs kdp never launched, as every EKS cluster does: kdp's
// nodes join it (its TLS-bootstrap RBAC set up there too), one is
// terminated and its Node deleted, kdp restarts, is killed and restarts, and
// the foreign Nodes are untouched throughout. A managed node group applied
// to that cluster becomes ACTIVE, its nodes joined to the kubeconfig's API
// server, and that API server calls kdp's admission webhooks. Of kdp's
// CRDs only its API (eks.kdp.dev) is in the cluster, none of the cloud's;
// the simulated cloud's state is in kdp's data dir.
func TestE2E_ExternalClusterKeepsItsOwnNodes(t *testing.T) {
	target, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { target.Stop(); target.Cleanup() }()
	ctx := testenv.Context(t)
	var foreign []*corev1.Node
	for i, id := range []string{"i-0123456789abcdef0", "i-0fedcba9876543210", "i-12345678901200001"} {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ip-192-168-1-%d.ec2.internal", i+1), Labels: map[string]string{"eks.amazonaws.com/nodegroup": "prod"}},
			Spec:       corev1.NodeSpec{ProviderID: "aws:///us-east-1a/" + id},
		}
		if i == 2 { // one even claims to be kdp's
			n.Labels[kubelet.LabelInstanceID] = id
		}
		if err := target.Client.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, n)
	}
	// A pod bound to a foreign node, Pending as its real kubelet left it,
	// and the foreign node's Lease: kdp's kubelets start or renew neither.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "on-a-real-node", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: foreign[0].Name, Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}
	if err := target.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: foreign[0].Name, Namespace: corev1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: foreign[0].Name, UID: foreign[0].UID}}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &foreign[0].Name, RenewTime: &metav1.MicroTime{Time: time.Now().Add(-time.Hour)}},
	}
	if err := target.Client.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	// kdp writes as these field managers (its controllers, its kubelets);
	// a foreign object must show none of them.
	kdpManagers := []string{manager.UserAgent, "kubelet"}
	written := func(obj client.Object) string {
		for _, m := range obj.GetManagedFields() {
			if slices.Contains(kdpManagers, m.Manager) {
				return m.Manager
			}
		}
		return ""
	}
	untouched := func() {
		t.Helper()
		for _, want := range foreign {
			got := &corev1.Node{}
			if err := target.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil || got.UID != want.UID {
				t.Fatalf("foreign node %s: %v (uid %s, was %s)", want.Name, err, got.UID, want.UID)
			}
			if m := written(got); m != "" || got.Spec.ProviderID != want.Spec.ProviderID {
				t.Fatalf("foreign node %s was written by %s: %+v", want.Name, m, got)
			}
		}
		gotPod := &corev1.Pod{}
		if err := target.Client.Get(ctx, client.ObjectKeyFromObject(pod), gotPod); err != nil || gotPod.UID != pod.UID {
			t.Fatalf("the pod on a foreign node: %v", err)
		}
		if m := written(gotPod); m != "" || gotPod.Status.Phase == corev1.PodRunning {
			t.Fatalf("the pod on a foreign node was written by %s: phase %s", m, gotPod.Status.Phase)
		}
		gotLease := &coordinationv1.Lease{}
		if err := target.Client.Get(ctx, client.ObjectKeyFromObject(lease), gotLease); err != nil || gotLease.ResourceVersion != lease.ResourceVersion {
			t.Fatalf("the foreign node's lease was changed: %v, %+v", err, gotLease)
		}
	}

	// A CRD an older kdp installed (the cloud's state as custom
	// resources): kdp removes it; it is kdp's own.
	old := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "instances.sim.kdp.dev"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "sim.kdp.dev", Scope: apiextensionsv1.ClusterScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "instances", Singular: "instance", Kind: "Instance", ListKind: "InstanceList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1alpha1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	if err := target.Client.Create(ctx, old); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "data")
	start := func() *testenv.Env {
		t.Helper()
		e, err := testenv.Start(testenv.Options{DataDir: dir, Kubeconfig: target.Kubeconfig(), Args: []string{"--time-scale", "120"}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := start()
	defer func() { e.Stop(); e.Cleanup() }()
	if out := e.Stdout(); !strings.Contains(out, "simulated cloud: "+filepath.Join(dir, "cloud")) {
		t.Errorf("output: %q", out)
	}
	// The manager holds its Lease in that cluster.
	testenv.Eventually(t, 30*time.Second, func() error {
		lease, err := target.Clientset.CoordinationV1().Leases(manager.LeaseNamespace).Get(ctx, manager.LeaseName, metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return fmt.Errorf("lease: %v", err)
		}
		return nil
	})

	nodeTemplate(t, dir, "kdp-nodes", "m5.large", "--kubeconfig", target.Kubeconfig(), "--labels", "team=kdp")
	simKdp(t, dir, "sim", "group", "create", "kdp", "--launch-template", "kdp-nodes", "--max-size", "3", "--desired-capacity", "2")
	kdpNodes := func(want int) []corev1.Node {
		t.Helper()
		var nodes corev1.NodeList
		testenv.Eventually(t, 60*time.Second, func() error {
			if err := target.Client.List(ctx, &nodes, client.MatchingLabels{"team": "kdp"}); err != nil {
				return err
			}
			if len(nodes.Items) != want {
				return fmt.Errorf("%d of kdp's nodes in the cluster, want %d", len(nodes.Items), want)
			}
			return nil
		})
		return nodes.Items
	}
	nodes := kdpNodes(2)
	untouched()

	// A managed node group, through that cluster's API server.
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "managed"}, Spec: eksv1.NodeGroupSpec{
		ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 1},
	}}
	if err := target.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	waitNodeGroup(t, target.Client, "managed", 1)
	refused(t, target.Client, "refused")
	if err := target.Client.Delete(ctx, ng); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if err := target.Client.Get(ctx, client.ObjectKeyFromObject(ng), &eksv1.NodeGroup{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("node group %s: %v", ng.Name, err)
		}
		return nil
	})
	untouched()

	// A termination deletes only its own Node.
	id, _ := kubelet.InstanceOf(&nodes[0])
	simKdp(t, dir, "sim", "terminate", id, "--should-decrement-desired-capacity")
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := target.Client.Get(ctx, client.ObjectKeyFromObject(&nodes[0]), &corev1.Node{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("node %s of terminated %s: %v", nodes[0].Name, id, err)
		}
		return nil
	})
	untouched()

	// A clean restart, then a kill and a restart: nothing of the cluster's
	// changes, kdp's node stays registered once.
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	e = start()
	kdpNodes(1)
	untouched()
	e.Kill()
	e = start()
	left := kdpNodes(1)
	if left[0].UID != nodes[1].UID {
		t.Errorf("kdp's node was registered again: %s", left[0].UID)
	}
	untouched()
	crds, err := target.Clientset.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range crds.Groups {
		if strings.HasSuffix(g.Name, "kdp.dev") {
			groups = append(groups, g.Name)
		}
	}
	if !slices.Equal(groups, []string{eksv1.GroupVersion.Group}) {
		t.Errorf("kdp's API groups in the cluster: %v, want only %s", groups, eksv1.GroupVersion.Group)
	}
	if _, err := os.Stat(filepath.Join(dir, "cloud", "state.db")); err != nil {
		t.Errorf("the cloud's state: %v", err)
	}
}
