package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_NodeGroups uses managed node groups through kdp up as a user
// does with kubectl: kdp says it is up only once its admission webhooks
// answer, so a NodeGroup applied at once gets EKS's defaults; it becomes
// ACTIVE with its desired nodes Ready, in an Auto Scaling group of the
// simulated cloud; `kubectl get ng` lists it with its columns; a bad
// NodeGroup is refused with every problem, each naming its field; after a
// restart the webhooks (their CA kept in the data dir) still answer and the
// controllers still scale the group; deleted, it leaves no group and no
// Node behind.
func TestE2E_NodeGroups(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// The API server keeps its port across the restart: a group's nodes
	// join the endpoint its launch template was made with, as on EKS.
	args := []string{"--apiserver-port", strconv.Itoa(freePort(t))}
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	if !strings.Contains(e.Stdout(), "webhooks:    https://127.0.0.1:") {
		t.Errorf("output lacks the webhooks' URL:\n%s", e.Stdout())
	}

	// Applied the moment kdp is up: the mutating webhook fills in EKS's
	// defaults (the CRD's schema has none for these).
	web := &eksv1.NodeGroup{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: eksv1.NodeGroupSpec{
			InstanceTypes: []string{"m5.large"},
			ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2},
			Labels:        map[string]string{"team": "web"},
		},
	}
	if err := e.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	if s := web.Spec; s.AMIType != eksv1.AL2023x86Standard || s.Version == "" || len(s.Subnets) == 0 || s.NodeRole == "" {
		t.Errorf("created without EKS's defaults: %+v", s)
	}
	ng := waitNodeGroup(t, e.Client, "web", 2)
	asg := ng.Status.Resources.AutoScalingGroups[0].Name
	if g := group(t, dir, asg); g.DesiredCapacity != 2 || g.MinSize != 1 || g.MaxSize != 3 || g.Tags["eks:nodegroup-name"] != "web" {
		t.Errorf("Auto Scaling group %s: %+v", asg, g)
	}

	t.Run("kubectl get ng lists it with its columns", func(t *testing.T) {
		checkShortNames(t, e.Clientset)
		table := nodeGroupTable(t, e.Clientset)
		var columns []string
		for _, c := range table.ColumnDefinitions {
			columns = append(columns, c.Name)
		}
		want := []string{"Name", "Status", "Ready", "Desired", "Min", "Max", "Capacity", "Instance-Types", "Version", "Release", "Age"}
		if !slices.Equal(columns, want) {
			t.Fatalf("columns %v, want %v", columns, want)
		}
		if len(table.Rows) != 1 {
			t.Fatalf("%d rows, want 1: %+v", len(table.Rows), table.Rows)
		}
		// JSON numbers decode as float64.
		got := fmt.Sprint(table.Rows[0].Cells[:9])
		if want := fmt.Sprint([]any{"web", "ACTIVE", 2.0, 2.0, 1.0, 3.0, "ON_DEMAND", "m5.large", "1.37"}); got != want {
			t.Errorf("row %s, want %s", got, want)
		}
	})

	t.Run("a bad node group is refused, naming every field at fault", func(t *testing.T) {
		refused(t, e.Client, "bad")
	})

	// A restart: the webhooks' CA is the one before, their configurations
	// point at the new process, the controllers carry on.
	caFile := filepath.Join(cluster.Layout{Root: dir}.WebhookDir(), "ca.crt")
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("the webhooks' CA in the data dir: %v", err)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
		t.Fatal(err)
	}
	if again, err := os.ReadFile(caFile); err != nil || string(again) != string(ca) {
		t.Errorf("the webhooks' CA changed across a restart (%v)", err)
	}
	refused(t, e.Client, "bad-after-restart")
	ng = &eksv1.NodeGroup{}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: "web"}, ng); err != nil {
		t.Fatal(err)
	}
	ng.Spec.ScalingConfig.DesiredSize = 3
	if err := e.Client.Update(ctx, ng); err != nil {
		t.Fatal(err)
	}
	waitNodeGroup(t, e.Client, "web", 3)

	if err := e.Client.Delete(ctx, ng); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		err := e.Client.Get(ctx, client.ObjectKey{Name: "web"}, &eksv1.NodeGroup{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("node group web is still there: %v", err)
		}
		var nodes corev1.NodeList
		if err := e.Client.List(ctx, &nodes, client.MatchingLabels{eksv1.LabelNodegroup: "web"}); err != nil {
			return err
		}
		if len(nodes.Items) != 0 {
			return fmt.Errorf("%d nodes of web left", len(nodes.Items))
		}
		return nil
	})
	if _, err := cloudClient(t, dir).GetGroup(ctx, asg); !cloud.IsNotFound(err) {
		t.Errorf("Auto Scaling group %s of the deleted node group: %v", asg, err)
	}
}

// waitNodeGroup waits until a node group is ACTIVE with want nodes, each of
// them a Ready Node with the group's label.
func waitNodeGroup(t *testing.T, c client.Client, name string, want int32) *eksv1.NodeGroup {
	t.Helper()
	ctx := testenv.Context(t)
	ng := &eksv1.NodeGroup{}
	testenv.Eventually(t, 2*time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, ng); err != nil {
			return err
		}
		st := ng.Status
		if st.Status != eksv1.StatusActive || st.Nodes.Ready != want || st.Nodes.Instances != want || len(st.Resources.AutoScalingGroups) != 1 {
			return fmt.Errorf("node group %s is %q with %d of %d nodes Ready (issues %+v); want ACTIVE with %d", name, st.Status, st.Nodes.Ready, st.Nodes.Instances, st.Health.Issues, want)
		}
		var nodes corev1.NodeList
		if err := c.List(ctx, &nodes, client.MatchingLabels{eksv1.LabelNodegroup: name}); err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready != int(want) || len(nodes.Items) != int(want) {
			return fmt.Errorf("%d Nodes of %s, %d Ready; want %d", len(nodes.Items), name, ready, want)
		}
		return nil
	})
	return ng
}

// refused checks that a NodeGroup with an unknown instance type and a
// desired size above its maximum is refused with both problems, each at
// its field, and that nothing of it is stored.
func refused(t *testing.T, c client.Client, name string) {
	t.Helper()
	ctx := testenv.Context(t)
	bad := &eksv1.NodeGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: eksv1.NodeGroupSpec{
			InstanceTypes: []string{"no.such"},
			ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 5},
		},
	}
	err := c.Create(ctx, bad)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("creating a NodeGroup with instanceTypes [no.such]: %v; want it refused as invalid", err)
	}
	for _, want := range []string{`spec.instanceTypes[0]: Not found: "no.such`, "spec.scalingConfig.desiredSize"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q: %v", want, err)
		}
	}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &eksv1.NodeGroup{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused node group %s: %v", name, err)
	}
}

// checkShortNames checks what kubectl resolves `ng`, `ngu` and `kdp` with:
// the API's discovery.
func checkShortNames(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	list, err := cs.Discovery().ServerResourcesForGroupVersion(eksv1.GroupVersion.String())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"nodegroups": "ng", "nodegroupupdates": "ngu"}
	for _, r := range list.APIResources {
		if short, ok := want[r.Name]; ok {
			if r.Namespaced || !slices.Equal(r.ShortNames, []string{short}) || !slices.Contains(r.Categories, "kdp") {
				t.Errorf("%s: namespaced %t, short names %v, categories %v; want cluster-scoped, [%s], in kdp", r.Name, r.Namespaced, r.ShortNames, r.Categories, short)
			}
			delete(want, r.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("resources missing from %s: %v", eksv1.GroupVersion, want)
	}
}

// nodeGroupTable lists node groups as kubectl get does: as a Table, with
// the CRD's printer columns.
func nodeGroupTable(t *testing.T, cs kubernetes.Interface) *metav1.Table {
	t.Helper()
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis", eksv1.GroupVersion.Group, eksv1.GroupVersion.Version, "nodegroups").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(testenv.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	if err := json.Unmarshal(raw, table); err != nil {
		t.Fatal(err)
	}
	return table
}

// cloudClient connects to the simulated cloud kdp serves from the data dir.
func cloudClient(t *testing.T, dir string) *simapi.Client {
	t.Helper()
	c, _, err := simapi.Dial(testenv.Context(t), cluster.Layout{Root: dir}.CloudSocket())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// group reads an Auto Scaling group of the simulated cloud.
func group(t *testing.T, dir, name string) *cloud.Group {
	t.Helper()
	g, err := cloudClient(t, dir).GetGroup(context.Background(), name)
	if err != nil {
		t.Fatalf("Auto Scaling group %s: %v", name, err)
	}
	return g
}
