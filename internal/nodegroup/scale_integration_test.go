package nodegroup_test

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_ScaleToZeroAndBack: a group scales to zero nodes (and is
// ACTIVE with none) and back, each change an update with its record.
func TestIntegration_ScaleToZeroAndBack(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := group(t, "zero", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2}
	})
	defer deleteGroup(t, ng.Name, time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)

	scale(t, ng.Name, 0, 0, 3)
	got := settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 0, time.Minute)
	testenv.Eventually(t, time.Minute, func() error {
		if n := len(nodesOf(t, ng.Name)); n != 0 {
			return errorf("%d nodes left", n)
		}
		return nil
	})
	g, err := k.provider.GetGroup(ctx, got.Status.Resources.AutoScalingGroups[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if g.MinSize != 0 || g.DesiredCapacity != 0 || g.MaxSize != 3 {
		t.Errorf("group at zero: min %d desired %d max %d", g.MinSize, g.DesiredCapacity, g.MaxSize)
	}

	scale(t, ng.Name, 0, 2, 3)
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 2, time.Minute)

	records := updatesOf(t, ng.Name)
	if len(records) != 2 {
		t.Fatalf("%d update records, want 2: %+v", len(records), records)
	}
	for i, want := range []map[eksv1.UpdateParamType]string{
		{eksv1.ParamMinSize: "0", eksv1.ParamDesiredSize: "0"},
		{eksv1.ParamDesiredSize: "2"},
	} {
		r := records[i]
		if r.Spec.Type != eksv1.ConfigUpdate || r.Status.Status != eksv1.UpdateSuccessful || r.Status.CompletedAt == nil || r.Spec.NodegroupName != ng.Name {
			t.Errorf("record %d: %+v", i, r)
		}
		if got := params(r); !mapsEqual(got, want) {
			t.Errorf("record %d params %v, want %v", i, got, want)
		}
	}
	// Scale-in drained before each termination.
	if n := len(events(t, ng.Name, "Drained")); n != 2 {
		t.Errorf("%d Drained events on the group, want 2", n)
	}

	// kubectl scale: the scale subresource, checked as the same change of
	// the spec and recorded like it.
	sc := &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 9}}
	err = env.Client.SubResource("scale").Update(ctx, get(t, ng.Name), client.WithSubResourceBody(sc))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "desiredSize") {
		t.Errorf("scaling to 9 of at most 3: %v, want a refusal naming desiredSize", err)
	}
	sc.Spec.Replicas = 3
	if err := env.Client.SubResource("scale").Update(ctx, get(t, ng.Name), client.WithSubResourceBody(sc)); err != nil {
		t.Fatal(err)
	}
	settled(t, ng.Name, eksv1.StatusActive, time.Minute)
	waitReady(t, ng.Name, 3, time.Minute)
	read := &autoscalingv1.Scale{}
	if err := env.Client.SubResource("scale").Get(ctx, get(t, ng.Name), read); err != nil {
		t.Fatal(err)
	}
	if read.Spec.Replicas != 3 || read.Status.Replicas != 3 {
		t.Errorf("scale: %+v", read)
	}
	if records := updatesOf(t, ng.Name); len(records) != 3 || params(records[2])[eksv1.ParamDesiredSize] != "3" {
		t.Errorf("records after kubectl scale: %+v", records)
	}
}

// TestIntegration_ScaleInWaitsForABudgetUntilTheHookTimeout: a node whose
// pod a PodDisruptionBudget protects is cordoned and its eviction refused
// (the budget named in an event) for as long as the termination hook's
// timeout (30 minutes, time-scaled): its instance is not terminated before
// then, and is right after.
func TestIntegration_ScaleInWaitsForABudgetUntilTheHookTimeout(t *testing.T) {
	ctx := testenv.Context(t)
	const scaleBy = 300 // 30 min hook timeout → 6 s
	hook := 30 * time.Minute / scaleBy
	k := start(t, options{scale: scaleBy})
	ns := env.Namespace(t)
	ng := group(t, "pdb", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 2, DesiredSize: 2}
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "guarded", ng.Name, 2, true)
	waitAvailable(t, ns, "guarded", 2, time.Minute)
	budget(t, ns, "guarded", ptr.To(intstr.FromInt32(2)), nil) // allows 0 disruptions
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "guarded", 0) })

	scale(t, ng.Name, 0, 1, 2)

	// The node drained: cordoned, its pod refused eviction.
	var node corev1.Node
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, n := range nodesOf(t, ng.Name) {
			if n.Annotations[termination.AnnotationDrainStarted] != "" {
				node = n
				return nil
			}
		}
		return errorf("no node is draining")
	})
	started, err := time.Parse(time.RFC3339Nano, node.Annotations[termination.AnnotationDrainStarted])
	if err != nil {
		t.Fatal(err)
	}
	if r := node.Annotations[termination.AnnotationDrainReason]; r != "scale-in" {
		t.Errorf("drain reason %q, want scale-in", r)
	}
	id := cloud.InstanceOfProviderID(node.Spec.ProviderID)
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, e := range events(t, node.Name, "EvictionBlocked") {
			if strings.Contains(e.Message, "PodDisruptionBudget "+ns+"/guarded allows 0 disruptions") {
				return nil
			}
		}
		return errorf("no EvictionBlocked event naming the budget on node %s", node.Name)
	})
	current := &corev1.Node{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: node.Name}, current); err != nil {
		t.Fatal(err)
	}
	if !current.Spec.Unschedulable {
		t.Error("the draining node is not cordoned")
	}

	// The instance goes when the hook's timeout passes: not before, and
	// right then.
	var gone cloud.Instance
	testenv.Eventually(t, hook+30*time.Second, func() error {
		i, err := k.provider.GetInstance(ctx, id)
		if err != nil {
			return err
		}
		if i.State == cloud.StateRunning {
			return errorf("instance %s still runs", id)
		}
		gone = *i
		return nil
	})
	// When it left Terminating:Wait: the terminate activity's end (its
	// shutdown takes the profile's shut-down time, milliseconds here).
	released := terminateEnd(t, k.provider, gone)
	if released.Before(started.Add(hook)) {
		t.Errorf("instance %s released %s after its drain started, before the hook's %s", id, released.Sub(started), hook)
	}
	if late := released.Sub(started.Add(hook)); late > 5*time.Second {
		t.Errorf("instance %s released %s after the hook timed out", id, late)
	}
	timeouts := events(t, ng.Name, "DrainTimeout")
	if len(timeouts) != 1 || !strings.Contains(timeouts[0].Message, ns+"/guarded-") || !strings.Contains(timeouts[0].Message, "(PodDisruptionBudget "+ns+"/guarded)") {
		t.Errorf("DrainTimeout events: %+v", timeouts)
	}
	waitReady(t, ng.Name, 1, time.Minute)
}

// budgetAllows waits for the disruption controller to have looked at a
// budget.
func budgetAllows(ns, name string, n int32) error {
	b, err := env.Clientset.PolicyV1().PodDisruptionBudgets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if b.Status.ObservedGeneration != b.Generation || b.Status.DisruptionsAllowed != n || b.Status.ExpectedPods == 0 {
		return errorf("budget %s/%s: %d disruptions allowed (of %d pods), want %d", ns, name, b.Status.DisruptionsAllowed, b.Status.ExpectedPods, n)
	}
	return nil
}

// terminateEnd is when the group's terminate activity for an instance
// ended (the instance was let go).
func terminateEnd(t testing.TB, p cloud.Provider, i cloud.Instance) time.Time {
	t.Helper()
	var end time.Time
	testenv.Eventually(t, 30*time.Second, func() error {
		activities, _, err := p.ListActivities(context.Background(), i.Group, cloud.Page{MaxResults: 100})
		if err != nil {
			return err
		}
		for _, a := range activities {
			if a.InstanceID == i.ID && strings.HasPrefix(a.Description, "Terminating") && a.EndTime != nil {
				end = *a.EndTime
				return nil
			}
		}
		return errorf("no ended terminate activity for %s", i.ID)
	})
	return end
}

func params(r eksv1.NodeGroupUpdate) map[eksv1.UpdateParamType]string {
	out := map[eksv1.UpdateParamType]string{}
	for _, p := range r.Spec.Params {
		out[p.Type] = p.Value
	}
	return out
}

func mapsEqual[K comparable](a, b map[K]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
