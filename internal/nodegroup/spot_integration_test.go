package nodegroup_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
	"github.com/kdp-project/kdp/internal/testenv"
)

// sameSize are instance types of one size (2 vCPUs, 8 GiB), as AWS advises
// for a spot group; the first listed is not the cheapest.
var sameSize = []string{"m5.large", "m6i.large", "t3.large"}

// spotGroup creates a SPOT node group of the same-size types.
func spotGroup(t testing.TB, name string, minSize, desired, maxSize int32) *eksv1.NodeGroup {
	t.Helper()
	return group(t, name, func(s *eksv1.NodeGroupSpec) {
		s.CapacityType = eksv1.Spot
		s.InstanceTypes = sameSize
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: minSize, DesiredSize: desired, MaxSize: maxSize}
	})
}

// TestSpotIntegration_CheapestTypesLabelledSpot: a spot group's nodes are
// labelled SPOT, and each is of the type with the lowest spot price in its
// zone among the group's types (price-capacity-optimized), not the first
// listed; the Auto Scaling group rebalances capacity.
func TestSpotIntegration_CheapestTypesLabelledSpot(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := spotGroup(t, "spot-price", 3, 3, 3)
	defer deleteGroup(t, ng.Name, time.Minute)
	ng = waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)

	g, err := k.provider.GetGroup(ctx, ng.Status.Resources.AutoScalingGroups[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if g.CapacityType != cloud.Spot || !g.CapacityRebalance {
		t.Errorf("Auto Scaling group: capacity type %q, capacity rebalance %v; want spot, true", g.CapacityType, g.CapacityRebalance)
	}
	nodes := nodesOf(t, ng.Name)
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(nodes))
	}
	zones := map[string]bool{}
	for _, n := range nodes {
		if got := n.Labels[eksv1.LabelCapacityType]; got != string(eksv1.Spot) {
			t.Errorf("node %s: %s=%q, want SPOT", n.Name, eksv1.LabelCapacityType, got)
		}
		inst, err := k.provider.GetInstance(ctx, cloud.InstanceOfProviderID(n.Spec.ProviderID))
		if err != nil {
			t.Fatal(err)
		}
		zones[inst.Zone] = true
		want := cheapest(t, k, sameSize, inst.Zone)
		if inst.Type != want || inst.Lifecycle != cloud.Spot {
			t.Errorf("node %s in %s: a %s %s instance, want spot %s (the cheapest of %v there)", n.Name, inst.Zone, inst.Lifecycle, inst.Type, want, sameSize)
		}
		if got := n.Labels[corev1.LabelInstanceTypeStable]; got != inst.Type {
			t.Errorf("node %s: instance type label %q, want %s", n.Name, got, inst.Type)
		}
	}
	if len(zones) != 3 {
		t.Errorf("nodes in zones %v, want one in each of 3", zones)
	}
}

// cheapest is the type of types with the lowest spot price in zone.
func cheapest(t testing.TB, k *kdp, types []string, zone string) string {
	t.Helper()
	best, bestPrice := "", 0.0
	for _, it := range types {
		p, ok := k.cloud.Catalog().SpotPrice(it, zone)
		if !ok {
			t.Fatalf("no spot price for %s in %s", it, zone)
		}
		if best == "" || p < bestPrice {
			best, bestPrice = it, p
		}
	}
	return best
}

// TestSpotIntegration_RebalanceDrainsOnceTheReplacementIsReady: on a
// rebalance recommendation the group launches a replacement and, once that
// is in service, lets the at-risk instance go through its termination hook;
// kdp holds the drain until the replacement's Node is Ready, then drains
// the at-risk node (honouring the budget) and lets the instance terminate.
func TestSpotIntegration_RebalanceDrainsOnceTheReplacementIsReady(t *testing.T) {
	ctx := testenv.Context(t)
	// Nodes join some 0.45 s after their instance is in service, long
	// enough to see the hold.
	k := start(t, options{profile: "realistic"})
	ns := env.Namespace(t)
	ng := spotGroup(t, "spot-rebalance", 2, 2, 3)
	defer deleteGroup(t, ng.Name, time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "web", ng.Name, 2, true) // one pod a node
	waitAvailable(t, ns, "web", 2, time.Minute)
	pdb := budget(t, ns, "web", ptr.To(intstr.FromInt32(1)), nil)
	defer deleteBudget(t, pdb) // before the group: its deletion drains
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "web", 1) })
	watcher := watchBudget(t, ns, "web", 2)

	before := map[string]bool{}
	for _, i := range instancesEver(t, k.provider, ng) {
		before[i.ID] = true
	}
	atRisk := nodesOf(t, ng.Name)[0]
	id := cloud.InstanceOfProviderID(atRisk.Spec.ProviderID)
	if err := k.provider.Rebalance(ctx, id); err != nil {
		t.Fatal(err)
	}

	// The at-risk node's drain, seen while the node is there.
	draining := waitDraining(t, atRisk.Name, 30*time.Second)
	started, _ := time.Parse(time.RFC3339Nano, draining.Annotations[termination.AnnotationDrainStarted])
	if r := draining.Annotations[termination.AnnotationDrainReason]; r != termination.ReasonRebalance {
		t.Errorf("drain reason %q, want %q", r, termination.ReasonRebalance)
	}

	// The replacement, and when its Node turned Ready.
	var replacement *corev1.Node
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, n := range nodesOf(t, ng.Name) {
			if !before[cloud.InstanceOfProviderID(n.Spec.ProviderID)] && resources.Ready(&n) {
				replacement = &n
				return nil
			}
		}
		return errorf("no replacement node is Ready")
	})
	readyAt := readySince(replacement)
	if started.Before(readyAt) {
		t.Errorf("the drain of %s started at %s, before its replacement %s was Ready at %s", atRisk.Name, started.Format(time.RFC3339Nano), replacement.Name, readyAt.Format(time.RFC3339Nano))
	}
	t.Logf("replacement %s Ready at %s; drain of %s started at %s", replacement.Name, readyAt.Format(time.RFC3339Nano), atRisk.Name, started.Format(time.RFC3339Nano))
	for _, name := range []string{ng.Name, atRisk.Name} {
		for _, reason := range []string{"WaitingForReplacement", "ReplacementReady"} {
			if len(events(t, name, reason)) == 0 {
				t.Errorf("no %s event on %s: the drain did not wait", reason, name)
			}
		}
	}

	// Drained, then terminated; its pod moved, the budget never broken.
	inst := waitGone(t, k, id, 30*time.Second)
	if end := terminateEnd(t, k.provider, inst); end.Before(started) {
		t.Errorf("instance %s let go at %s, before its drain started at %s", id, end, started)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, e := range events(t, ng.Name, "Drained") {
			if strings.Contains(e.Message, atRisk.Name) && strings.Contains(e.Message, termination.ReasonRebalance) {
				return nil
			}
		}
		return errorf("no Drained event for %s", atRisk.Name)
	})
	waitAvailable(t, ns, "web", 2, time.Minute)
	pods := &corev1.PodList{}
	if err := env.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "web"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == atRisk.Name && p.DeletionTimestamp == nil {
			t.Errorf("pod %s is still on the at-risk node", p.Name)
		}
	}
	if fewest := watcher.Fewest(); fewest < 1 {
		t.Errorf("web had %d healthy pods at one moment; its budget wants 1", fewest)
	}
	waitReady(t, ng.Name, 2, time.Minute)
}

// TestSpotIntegration_InterruptionDrainsAtOnce: on a spot interruption
// notice kdp drains the node at once (no hook holds the instance): a pod
// free to go leaves in time, one its budget protects stays until EC2
// reclaims the instance, and an event says how many left and which stayed.
// A node whose pods can all go is drained before its notice runs out.
func TestSpotIntegration_InterruptionDrainsAtOnce(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ns := env.Namespace(t)
	ng := spotGroup(t, "spot-interrupt", 2, 2, 3)
	defer deleteGroup(t, ng.Name, time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "web", ng.Name, 2, true)
	deployment(t, ns, "guarded", ng.Name, 1, false)
	waitAvailable(t, ns, "web", 2, time.Minute)
	waitAvailable(t, ns, "guarded", 1, time.Minute)
	pdb := budget(t, ns, "guarded", ptr.To(intstr.FromInt32(1)), nil) // allows 0 disruptions
	defer deleteBudget(t, pdb)                                        // before the group: its deletion drains
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "guarded", 0) })

	// X has a web pod and the guarded one; Y a web pod only.
	guarded := podsOf(t, ns, "guarded")[0]
	var x, y corev1.Node
	for _, n := range nodesOf(t, ng.Name) {
		if n.Name == guarded.Spec.NodeName {
			x = n
		} else {
			y = n
		}
	}
	if x.Name == "" || y.Name == "" {
		t.Fatalf("the guarded pod is on %q, not one of the group's two nodes", guarded.Spec.NodeName)
	}
	idX, idY := cloud.InstanceOfProviderID(x.Spec.ProviderID), cloud.InstanceOfProviderID(y.Spec.ProviderID)
	// Nodes are named by their address, so an earlier test's pod can
	// still be bound to one of these names until its namespace has gone:
	// the counts below are of this test's pods.
	testenv.Eventually(t, time.Minute, func() error { return onlyPodsOf(ns, x.Name, y.Name) })
	left := interruptionPods(t, ng.Name, "left")
	stranded := interruptionPods(t, ng.Name, "stranded")
	for _, id := range []string{idX, idY} {
		if err := k.provider.Interrupt(ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	// Both drains start at once: before the notice runs out, with no hook.
	for _, n := range []struct {
		node corev1.Node
		id   string
	}{{x, idX}, {y, idY}} {
		d := waitDraining(t, n.node.Name, 30*time.Second)
		inst, err := k.provider.GetInstance(ctx, n.id)
		if err != nil {
			t.Fatal(err)
		}
		started, _ := time.Parse(time.RFC3339Nano, d.Annotations[termination.AnnotationDrainStarted])
		if inst.SpotInterruptionTime == nil || !started.Before(*inst.SpotInterruptionTime) {
			t.Errorf("node %s: drain started at %s, not before its instance is reclaimed (%v)", n.node.Name, started.Format(time.RFC3339Nano), inst.SpotInterruptionTime)
		} else {
			notice := k.cloud.Timing().SpotNotice
			t.Logf("node %s: drain started %s into the %s notice", n.node.Name, notice-inst.SpotInterruptionTime.Sub(started), notice)
		}
		if r := d.Annotations[termination.AnnotationDrainReason]; r != termination.ReasonInterruption {
			t.Errorf("node %s: drain reason %q, want %q", n.node.Name, r, termination.ReasonInterruption)
		}
		// The cordon is the drain's first step, right after the annotation.
		testenv.EventuallyEvery(t, inst.SpotInterruptionTime.Sub(time.Now())+time.Second, 20*time.Millisecond, func() error {
			if err := env.Client.Get(ctx, clientKey(n.node.Name), d); err != nil {
				return err
			}
			if !d.Spec.Unschedulable {
				return errorf("node %s is not cordoned", n.node.Name)
			}
			return nil
		})
	}

	// Y: drained in time.
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, e := range events(t, y.Name, "Drained") {
			if strings.Contains(e.Message, "all 1 pods left in time") {
				return nil
			}
		}
		return errorf("no Drained event on %s saying its pod left in time", y.Name)
	})
	// X: reclaimed with the guarded pod on it, which the event names.
	for _, name := range []string{ng.Name, x.Name} {
		testenv.Eventually(t, 30*time.Second, func() error {
			for _, e := range events(t, name, "SpotInterrupted") {
				if strings.Contains(e.Message, x.Name) && strings.Contains(e.Message, "1 of 2 pods left in time") &&
					strings.Contains(e.Message, ns+"/"+guarded.Name+" (PodDisruptionBudget "+ns+"/guarded)") {
					return nil
				}
			}
			var seen []string
			for _, e := range events(t, name, "SpotInterrupted", "Drained") {
				seen = append(seen, e.Reason+": "+e.Message)
			}
			return errorf("no SpotInterrupted event on %s saying 1 of 2 pods left node %s in time and naming %s; events: %q", name, x.Name, guarded.Name, seen)
		})
	}
	for _, id := range []string{idX, idY} {
		if inst := waitGone(t, k, id, 30*time.Second); inst.StateReason != sim.SpotReclaimReason {
			t.Errorf("instance %s ended with %q, want a spot reclaim", id, inst.StateReason)
		}
	}
	if got := interruptionPods(t, ng.Name, "left") - left; got != 2 {
		t.Errorf("kdp_spot_interruption_pods_total{outcome=left} rose by %g, want 2", got)
	}
	if got := interruptionPods(t, ng.Name, "stranded") - stranded; got != 1 {
		t.Errorf("kdp_spot_interruption_pods_total{outcome=stranded} rose by %g, want 1", got)
	}
	// The group replaces both; the web pods run again.
	testenv.Eventually(t, time.Minute, func() error {
		ready := 0
		for _, n := range nodesOf(t, ng.Name) {
			if id := cloud.InstanceOfProviderID(n.Spec.ProviderID); id != idX && id != idY && resources.Ready(&n) {
				ready++
			}
		}
		if ready != 2 {
			return errorf("%d replacement nodes Ready, want 2", ready)
		}
		return nil
	})
	waitAvailable(t, ns, "web", 2, time.Minute)
}

// TestSpotIntegration_InterruptionDrainSurvivesARestart: kdp (controllers
// and cloud) stops during a drain under a spot notice and starts again on
// the same data: the drain goes on from the node's annotations (its start
// and reason kept), and when EC2 reclaims the instance the event says how
// many of its pods left in time.
func TestSpotIntegration_InterruptionDrainSurvivesARestart(t *testing.T) {
	ctx := testenv.Context(t)
	const scaleBy = 10 // a 12 s notice: room for a restart inside it
	k := start(t, options{scale: scaleBy})
	ns := env.Namespace(t)
	ng := spotGroup(t, "spot-restart", 1, 1, 2)
	defer deleteGroup(t, ng.Name, time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "web", ng.Name, 1, false)
	deployment(t, ns, "guarded", ng.Name, 1, false)
	waitAvailable(t, ns, "web", 1, time.Minute)
	waitAvailable(t, ns, "guarded", 1, time.Minute)
	pdb := budget(t, ns, "guarded", ptr.To(intstr.FromInt32(1)), nil)
	defer deleteBudget(t, pdb)
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "guarded", 0) })
	node := nodesOf(t, ng.Name)[0]
	testenv.Eventually(t, time.Minute, func() error { return onlyPodsOf(ns, node.Name) })
	id := cloud.InstanceOfProviderID(node.Spec.ProviderID)
	if err := k.provider.Interrupt(ctx, id); err != nil {
		t.Fatal(err)
	}
	before := waitDraining(t, node.Name, 30*time.Second)

	k.stop()
	k = start(t, options{scale: scaleBy, dir: k.dir})

	guarded := podsOf(t, ns, "guarded")[0]
	testenv.Eventually(t, time.Minute, func() error {
		for _, e := range events(t, ng.Name, "SpotInterrupted") {
			if strings.Contains(e.Message, node.Name) && strings.Contains(e.Message, "1 of 2 pods left in time") && strings.Contains(e.Message, guarded.Name) {
				return nil
			}
		}
		return errorf("no SpotInterrupted event saying 1 of 2 pods left node %s in time", node.Name)
	})
	// (The one before the stop may not have been sent: events are best
	// effort, and kdp stopped right after it.)
	if n := len(events(t, ng.Name, "Draining")); n > 1 {
		t.Errorf("%d Draining events, want at most 1: the drain resumed, not began again", n)
	}
	after := &corev1.Node{}
	if err := env.Client.Get(ctx, clientKey(node.Name), after); err == nil {
		if a, b := after.Annotations[termination.AnnotationDrainStarted], before.Annotations[termination.AnnotationDrainStarted]; a != b {
			t.Errorf("drain-started %s after the restart, %s before", a, b)
		}
	}
	if inst := waitGone(t, k, id, 30*time.Second); inst.StateReason != sim.SpotReclaimReason {
		t.Errorf("instance %s ended with %q, want a spot reclaim", id, inst.StateReason)
	}
}

// waitDraining waits for a node to carry a drain's start, and returns it.
func waitDraining(t testing.TB, name string, timeout time.Duration) *corev1.Node {
	t.Helper()
	node := &corev1.Node{}
	testenv.EventuallyEvery(t, timeout, 20*time.Millisecond, func() error {
		if err := env.Client.Get(context.Background(), clientKey(name), node); err != nil {
			return err
		}
		if node.Annotations[termination.AnnotationDrainStarted] == "" {
			return errorf("node %s is not draining", name)
		}
		return nil
	})
	return node
}

// waitGone waits for an instance to be shutting down or terminated.
func waitGone(t testing.TB, k *kdp, id string, timeout time.Duration) cloud.Instance {
	t.Helper()
	var inst cloud.Instance
	testenv.Eventually(t, timeout, func() error {
		i, err := k.provider.GetInstance(context.Background(), id)
		if err != nil {
			return err
		}
		if i.State == cloud.StatePending || i.State == cloud.StateRunning {
			return errorf("instance %s is %s (%s)", id, i.State, i.LifecycleState)
		}
		inst = *i
		return nil
	})
	return inst
}

// onlyPodsOf says which pods of other namespaces than ns are on the nodes.
func onlyPodsOf(ns string, nodes ...string) error {
	pods := &corev1.PodList{}
	if err := env.Client.List(context.Background(), pods); err != nil {
		return err
	}
	var others []string
	for _, p := range pods.Items {
		if p.Namespace != ns && slices.Contains(nodes, p.Spec.NodeName) {
			others = append(others, p.Namespace+"/"+p.Name+" on "+p.Spec.NodeName)
		}
	}
	if len(others) > 0 {
		return errorf("pods of other tests are still on the nodes: %v", others)
	}
	return nil
}

// readySince is when a node's Ready condition last turned True.
func readySince(n *corev1.Node) time.Time {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// podsOf lists app's pods.
func podsOf(t testing.TB, ns, app string) []corev1.Pod {
	t.Helper()
	pods := &corev1.PodList{}
	if err := env.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

func deleteBudget(t testing.TB, b *policyv1.PodDisruptionBudget) {
	t.Helper()
	if err := env.Client.Delete(context.Background(), b); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
	}
}

// interruptionPods reads kdp_spot_interruption_pods_total for a group and
// an outcome from the manager's registry.
func interruptionPods(t testing.TB, group, outcome string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "kdp_spot_interruption_pods_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["nodegroup"] == group && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
