package nodegroup_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_ConfigUpdatesLeaveRecords: changing a group's labels,
// taints and size is one ConfigUpdate with EKS's parameters; it changes
// the labels and taints of the nodes there are and of the nodes to come (a
// new launch template version), and the Auto Scaling group's size. A taint
// a user takes off a node by hand stays off through later updates (as on
// EKS); a change of tags alone is no update; a change while an update
// runs is refused (ResourceInUse) and changes nothing.
func TestIntegration_ConfigUpdatesLeaveRecords(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := group(t, "cfg", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 2}
		s.Labels = map[string]string{"old": "1", "kept": "yes"}
		s.Taints = []eksv1.Taint{{Key: "gone", Value: "x", Effect: eksv1.NoSchedule}}
	})
	defer deleteGroup(t, ng.Name, time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	firstVersion := created.Status.Resources.LaunchTemplate.Version

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) {
		s.Labels = map[string]string{"kept": "yes", "new": "2"}
		s.Taints = []eksv1.Taint{{Key: "dedicated", Value: "cfg", Effect: eksv1.NoExecute}}
		s.ScalingConfig.DesiredSize = 3
	})
	got := settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 3, time.Minute)

	records := updatesOf(t, ng.Name)
	if len(records) != 1 {
		t.Fatalf("%d records, want 1", len(records))
	}
	r := records[0]
	p := params(r)
	var added map[string]string
	var removed []string
	var taintsAdded, taintsRemoved []eksv1.Taint
	for key, into := range map[eksv1.UpdateParamType]any{
		eksv1.ParamLabelsToAdd: &added, eksv1.ParamLabelsToRemove: &removed,
		eksv1.ParamTaintsToAdd: &taintsAdded, eksv1.ParamTaintsToRemove: &taintsRemoved,
	} {
		if err := json.Unmarshal([]byte(p[key]), into); err != nil {
			t.Errorf("param %s = %q: %v", key, p[key], err)
		}
	}
	if r.Spec.Type != eksv1.ConfigUpdate || r.Status.Status != eksv1.UpdateSuccessful || p[eksv1.ParamDesiredSize] != "3" ||
		!mapsEqual(added, map[string]string{"new": "2"}) || !slices.Equal(removed, []string{"old"}) ||
		len(taintsAdded) != 1 || taintsAdded[0].Key != "dedicated" || len(taintsRemoved) != 1 || taintsRemoved[0].Key != "gone" ||
		r.Spec.Generation != got.Generation || len(r.OwnerReferences) != 1 || r.OwnerReferences[0].UID != got.UID {
		t.Errorf("record: %+v (params %v)", r, p)
	}
	if got.Status.Resources.LaunchTemplate.Version == firstVersion {
		t.Errorf("launch template still at version %s: new nodes would register with the old labels", firstVersion)
	}
	if !mapsEqual(got.Status.Applied.Labels, map[string]string{"kept": "yes", "new": "2"}) {
		t.Errorf("applied labels %v", got.Status.Applied.Labels)
	}
	nodes := nodesOf(t, ng.Name)
	if len(nodes) != 3 {
		t.Fatalf("%d nodes", len(nodes))
	}
	for _, n := range nodes {
		if n.Labels["new"] != "2" || n.Labels["kept"] != "yes" || n.Labels["old"] != "" || hasTaint(n, "gone") || !hasTaint(n, "dedicated") {
			t.Errorf("node %s: labels %v taints %v", n.Name, n.Labels, n.Spec.Taints)
		}
		if n.Labels[eksv1.LabelNodegroup] != ng.Name {
			t.Errorf("node %s lost EKS's labels: %v", n.Name, n.Labels)
		}
	}

	// A user takes the taint off one node; the next update (a label)
	// leaves it off.
	handled := nodes[0]
	before := handled.DeepCopy()
	handled.Spec.Taints = slices.DeleteFunc(handled.Spec.Taints, func(t corev1.Taint) bool { return t.Key == "dedicated" })
	if err := env.Client.Patch(ctx, &handled, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.Labels["more"] = "3" })
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, n := range nodesOf(t, ng.Name) {
			if n.Labels["more"] != "3" {
				return errorf("node %s has no label more=3 yet", n.Name)
			}
			if n.Name == handled.Name && hasTaint(n, "dedicated") {
				t.Fatalf("node %s: the taint its user removed is back", n.Name)
			}
		}
		return nil
	})

	// Tags alone: on the Auto Scaling group at once, no record.
	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.Tags = map[string]string{"owner": "cfg-team"} })
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error {
		g, err := k.provider.GetGroup(ctx, resources.ASGName(got))
		if err != nil {
			return err
		}
		if g.Tags["owner"] != "cfg-team" {
			return errorf("tags %v", g.Tags)
		}
		return nil
	})
	if n := len(updatesOf(t, ng.Name)); n != 2 {
		t.Errorf("%d records after a tag change, want 2", n)
	}

	// An update that waits (an instance launched before a relabel boots
	// slowly: the update waits to relabel its node) holds the group; a
	// change meanwhile is refused with ResourceInUse and changes nothing.
	if err := k.provider.SetSlowBoot(ctx, resources.ASGName(got), 5*time.Minute, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ScalingConfig.DesiredSize = 4 })
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.Labels["while"] = "booting" })
	testenv.Eventually(t, 30*time.Second, func() error {
		if ng := get(t, ng.Name); ng.Status.ActiveUpdate == "" || ng.Status.Status != eksv1.StatusUpdating {
			return errorf("no update in progress: %s", ng.Status.Status)
		}
		return nil
	})
	held := get(t, ng.Name)
	err := tryEdit(held, func(s *eksv1.NodeGroupSpec) { s.ScalingConfig.DesiredSize = 1 })
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "ResourceInUse") || !strings.Contains(err.Error(), held.Status.ActiveUpdate) {
		t.Errorf("a change during update %s: %v, want a ResourceInUse conflict naming the update", held.Status.ActiveUpdate, err)
	}
	// kubectl scale meanwhile: the same refusal.
	err = env.Client.SubResource("scale").Update(ctx, held.DeepCopy(), client.WithSubResourceBody(&autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 1}}))
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "ResourceInUse") {
		t.Errorf("kubectl scale during update %s: %v, want a ResourceInUse conflict", held.Status.ActiveUpdate, err)
	}
	if now := get(t, ng.Name); now.Generation != held.Generation || now.Spec.ScalingConfig.DesiredSize != 4 {
		t.Errorf("a refused change changed the group: generation %d→%d, desired %d", held.Generation, now.Generation, now.Spec.ScalingConfig.DesiredSize)
	}
	// The slow node registers at last, relabelled; the update ends.
	settled(t, ng.Name, eksv1.StatusActive, 2*time.Minute)
	waitReady(t, ng.Name, 4, time.Minute)
	for _, n := range nodesOf(t, ng.Name) {
		if n.Labels["while"] != "booting" {
			t.Errorf("node %s: labels %v", n.Name, n.Labels)
		}
	}
	records = updatesOf(t, ng.Name)
	if len(records) != 4 {
		t.Fatalf("%d records, want 4", len(records))
	}
	for _, r := range records {
		if r.Status.Status != eksv1.UpdateSuccessful {
			t.Errorf("update %s: %s %+v", r.Name, r.Status.Status, r.Status.Errors)
		}
	}
	if n := len(events(t, ng.Name, "UpdateSuccessful")); n != 4 {
		t.Errorf("%d UpdateSuccessful events, want 4", n)
	}
}

func hasTaint(n corev1.Node, key string) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == key })
}

// edit changes a group's spec, as kubectl edit does.
func edit(t testing.TB, name string, mutate func(*eksv1.NodeGroupSpec)) {
	t.Helper()
	if err := tryEdit(get(t, name), mutate); err != nil {
		t.Fatal(err)
	}
}

func tryEdit(ng *eksv1.NodeGroup, mutate func(*eksv1.NodeGroupSpec)) error {
	before := ng.DeepCopy()
	mutate(&ng.Spec)
	return env.Client.Patch(context.Background(), ng, client.MergeFrom(before))
}
