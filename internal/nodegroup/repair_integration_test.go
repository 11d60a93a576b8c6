package nodegroup_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/nodegroup/repair"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// scaled is one of EKS's waits at the harness's default time scale (100).
func scaled(d time.Duration) time.Duration { return d / 100 }

// repairing makes a spec's group one with node auto repair on and the
// overrides given.
func repairing(enabled bool, overrides ...eksv1.NodeRepairConfigOverride) *eksv1.NodeRepairConfig {
	return &eksv1.NodeRepairConfig{Enabled: ptr.To(enabled), NodeRepairConfigOverrides: overrides}
}

func override(condition, reason string, mins int32, action repair.Action) eksv1.NodeRepairConfigOverride {
	return eksv1.NodeRepairConfigOverride{NodeMonitoringCondition: condition, NodeUnhealthyReason: reason, MinRepairWaitTimeMins: mins, RepairAction: string(action)}
}

// readyGroup creates a group of n nodes with the repair configuration and
// waits until all are Ready; it is deleted when the test ends.
func readyGroup(t *testing.T, name string, n int32, cfg *eksv1.NodeRepairConfig) {
	t.Helper()
	group(t, name, func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: n + 2, DesiredSize: n}
		s.NodeRepairConfig = cfg
	})
	t.Cleanup(func() { deleteGroup(t, name, 2*time.Minute) })
	waitStatus(t, name, eksv1.StatusActive, time.Minute)
	waitReady(t, name, n, time.Minute)
}

// node reads a Node, or returns nil if it is gone.
func node(t testing.TB, name string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, n)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func condition(n *corev1.Node, t string) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if string(n.Status.Conditions[i].Type) == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func instance(t testing.TB, k *kdp, id string) *cloud.Instance {
	t.Helper()
	i, err := k.provider.GetInstance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// nodeEvents lists the events about node n itself (not an earlier Node of
// the same name: every test's cloud has the same seed) whose reason is one
// of reasons.
func nodeEvents(t testing.TB, n corev1.Node, reasons ...string) []corev1.Event {
	t.Helper()
	var out []corev1.Event
	for _, e := range events(t, n.Name, reasons...) {
		if e.InvolvedObject.UID == n.UID {
			out = append(out, e)
		}
	}
	return out
}

// faulted is when each test asked the cloud for a node's fault (instance
// id → time just before): the earliest its condition can have gone bad.
var faulted sync.Map

// awaitRepair waits for the first event with reason about node n, whose
// condition cond goes bad, and checks it comes no earlier than wait after
// the condition's transition, and that the node is neither cordoned nor
// its instance leaving before then. It returns the event.
func awaitRepair(t *testing.T, k *kdp, n corev1.Node, cond, reason string, wait, timeout time.Duration) corev1.Event {
	t.Helper()
	id := kubelet.InstanceID(&n)
	var since time.Time
	var got corev1.Event
	testenv.Eventually(t, timeout, func() error {
		now := node(t, n.Name)
		var c *corev1.NodeCondition
		if now != nil {
			if c = condition(now, cond); c != nil && c.Status != corev1.ConditionTrue {
				since = c.LastTransitionTime.Time
			}
		}
		if evs := nodeEvents(t, n, reason); len(evs) > 0 {
			got = evs[0]
			return nil
		}
		// The event may reach the API server after the repair has begun;
		// the repair must not begin before its time.
		touched := now == nil || now.Spec.Unschedulable || instance(t, k, id).LifecycleState != cloud.LifecycleInService
		first := since
		if at, ok := faulted.Load(id); ok && first.IsZero() {
			first = at.(time.Time)
		}
		if touched && (first.IsZero() || time.Now().Before(first.Add(wait))) {
			t.Fatalf("node %s (instance %s) was acted on before %s had been bad for %s (since %s)", n.Name, id, cond, wait, since)
		}
		return errorf("node %s: %s is %+v, no %s event yet", n.Name, cond, c, reason)
	})
	if at, ok := faulted.Load(id); ok && since.IsZero() {
		// The repair came before a poll saw the condition (its transition
		// time is in whole seconds, so it may have looked old enough at
		// once): the fault cannot have come before it was asked for.
		since = at.(time.Time)
	}
	if since.IsZero() {
		t.Fatalf("the %s event (%s, at %s, node uid %s) came before the node's %s went bad", reason, got.Message, got.EventTime, got.InvolvedObject.UID, cond)
	}
	if at := got.EventTime.Time; at.Before(since.Add(wait)) {
		t.Errorf("%s at %s, %s after %s went bad at %s: want at least %s", reason, at, at.Sub(since), cond, since, wait)
	}
	return got
}

// awaitReplaced waits until node n is gone and its instance terminated.
func awaitReplaced(t *testing.T, k *kdp, n corev1.Node) {
	t.Helper()
	id := kubelet.InstanceID(&n)
	testenv.Eventually(t, time.Minute, func() error {
		if i := instance(t, k, id); i.State != cloud.StateTerminated && i.State != cloud.StateShuttingDown {
			return errorf("instance %s is %s (%s)", id, i.State, i.LifecycleState)
		}
		if node(t, n.Name) != nil {
			return errorf("node %s is still there", n.Name)
		}
		return nil
	})
}

// repairsTotal reads kdp_nodegroup_repairs_total of an action, condition
// and result.
func repairsTotal(t *testing.T, labels ...string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "kdp_nodegroup_repairs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(got)
			if slices.Equal(got, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestIntegration_RepairReplacesANodeWhoseKubeletFailed: a node whose
// kubelet dies goes NotReady (kube-controller-manager's grace) and is
// replaced 30 minutes (time-scaled) after, not before: its instance is
// drained and terminated, and the group launches another; the events say
// why, on the node and on the group.
func TestIntegration_RepairReplacesANodeWhoseKubeletFailed(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	readyGroup(t, "repair-ready", 2, repairing(true))
	victim := nodesOf(t, "repair-ready")[0]
	before := repairsTotal(t, "action=Replace", "condition=Ready", "result=started")
	if err := k.provider.FailKubelet(ctx, kubelet.InstanceID(&victim)); err != nil {
		t.Fatal(err)
	}
	ev := awaitRepair(t, k, victim, "Ready", repair.ReasonRepairing, scaled(30*time.Minute), 3*time.Minute)
	if !strings.Contains(ev.Message, "Ready has been Unknown") || ev.Related == nil || ev.Related.Name != "repair-ready" {
		t.Errorf("repair event %q (related %+v)", ev.Message, ev.Related)
	}
	if len(events(t, "repair-ready", repair.ReasonRepairing)) != 1 {
		t.Errorf("no %s event on the group", repair.ReasonRepairing)
	}
	awaitReplaced(t, k, victim)
	waitReady(t, "repair-ready", 2, time.Minute)
	drained := events(t, "repair-ready", "Drained", "DrainTimeout")
	if !slices.ContainsFunc(drained, func(e corev1.Event) bool { return strings.Contains(e.Message, victim.Name) }) {
		t.Errorf("node %s was not drained before its instance went: %+v", victim.Name, drained)
	}
	if got := repairsTotal(t, "action=Replace", "condition=Ready", "result=started"); got != before+1 {
		t.Errorf("kdp_nodegroup_repairs_total Ready/Replace/started went from %v to %v, want one more", before, got)
	}
}

// TestIntegration_RepairOverridesAndAGroupWithoutRepair: the group's
// overrides take effect, each for its condition and reason (KernelBug
// replaced after its 1 minute, IPAMDNotReady left with an event), while a
// group without repair enabled, with the same fault and override, is left
// alone.
func TestIntegration_RepairOverridesAndAGroupWithoutRepair(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	kernel := override("KernelReady", "KernelBug", 1, repair.Replace)
	readyGroup(t, "repair-overrides", 2, repairing(true, kernel, override("NetworkingReady", "IPAMDNotReady", 1, repair.NoAction)))
	readyGroup(t, "repair-off", 1, repairing(false, kernel))
	nodes := nodesOf(t, "repair-overrides")
	off := nodesOf(t, "repair-off")[0]
	for _, f := range []struct {
		n                 corev1.Node
		condition, reason string
	}{{nodes[0], "KernelReady", "KernelBug"}, {nodes[1], "NetworkingReady", "IPAMDNotReady"}, {off, "KernelReady", "KernelBug"}} {
		faulted.Store(kubelet.InstanceID(&f.n), time.Now())
		if err := k.provider.FailCondition(ctx, kubelet.InstanceID(&f.n), f.condition, f.reason); err != nil {
			t.Fatal(err)
		}
	}
	awaitRepair(t, k, nodes[0], "KernelReady", repair.ReasonRepairing, scaled(time.Minute), time.Minute)
	skipped := awaitRepair(t, k, nodes[1], "NetworkingReady", repair.ReasonSkipped, scaled(time.Minute), time.Minute)
	if !strings.Contains(skipped.Message, "NoAction") {
		t.Errorf("NoAction event %q", skipped.Message)
	}
	awaitReplaced(t, k, nodes[0])
	waitReady(t, "repair-overrides", 2, time.Minute)

	// The group without repair, with the same fault and override, is left
	// alone well past the override's wait (a second more for the
	// transition time's rounding and a reconcile).
	testenv.Eventually(t, time.Minute, func() error {
		n := node(t, off.Name)
		if evs := nodeEvents(t, off, repair.ReasonRepairing, repair.ReasonSkipped, repair.ReasonHeld); len(evs) != 0 || n == nil || n.Spec.Unschedulable || n.Annotations[repair.AnnotationRepairAction] != "" {
			t.Fatalf("the group without repair acted on node %s: %+v", off.Name, evs)
		}
		if i := instance(t, k, kubelet.InstanceID(&off)); i.LifecycleState != cloud.LifecycleInService {
			t.Fatalf("instance of the group without repair is %s", i.LifecycleState)
		}
		c := condition(n, "KernelReady")
		if c == nil || c.Status != corev1.ConditionFalse {
			return errorf("node %s: KernelReady %+v", off.Name, c)
		}
		if bad := time.Since(c.LastTransitionTime.Time); bad < scaled(time.Minute)+2*time.Second {
			return errorf("KernelReady False for %s only", bad)
		}
		return nil
	})
	// The NoAction node is left as it is, and acted on once.
	n := node(t, nodes[1].Name)
	if n == nil || n.Spec.Unschedulable || n.Annotations[repair.AnnotationRepairAction] != string(repair.NoAction) {
		t.Errorf("the NoAction node: %+v", n)
	}
	if i := instance(t, k, kubelet.InstanceID(&nodes[1])); i.LifecycleState != cloud.LifecycleInService {
		t.Errorf("instance of the NoAction node is %s", i.LifecycleState)
	}
	if evs := nodeEvents(t, nodes[1], repair.ReasonSkipped); len(evs) != 1 {
		t.Errorf("%d %s events, want 1", len(evs), repair.ReasonSkipped)
	}
}

// TestIntegration_RepairHeldBackWhenTooManyNodesAreUnhealthy: in a group
// of 6 nodes, 2 unhealthy are more than 20%: their repairs are held back,
// with events, and nothing is replaced. A threshold of 2 lets them go, one
// at a time.
func TestIntegration_RepairHeldBackWhenTooManyNodesAreUnhealthy(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	// 5 minutes (3 s): both nodes report their fault before either is due.
	readyGroup(t, "repair-many", 6, repairing(true, override("KernelReady", "KernelBug", 5, repair.Replace)))
	nodes := nodesOf(t, "repair-many")[:2]
	for _, n := range nodes {
		faulted.Store(kubelet.InstanceID(&n), time.Now())
		if err := k.provider.FailCondition(ctx, kubelet.InstanceID(&n), "KernelReady", "KernelBug"); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		ev := awaitRepair(t, k, n, "KernelReady", repair.ReasonHeld, scaled(5*time.Minute), time.Minute)
		if !strings.Contains(ev.Message, "2 of 6 nodes are unhealthy, more than 20%") {
			t.Errorf("held event %q", ev.Message)
		}
	}
	if len(events(t, "repair-many", repair.ReasonHeld)) == 0 {
		t.Errorf("no %s event on the group", repair.ReasonHeld)
	}
	for _, n := range nodes {
		if evs := nodeEvents(t, n, repair.ReasonRepairing); len(evs) != 0 {
			t.Errorf("node %s repaired above the threshold: %+v", n.Name, evs)
		}
	}

	ng := get(t, "repair-many")
	patched := ng.DeepCopy()
	patched.Spec.NodeRepairConfig.MaxUnhealthyNodeThresholdCount = ptr.To[int32](2)
	if err := env.Client.Patch(ctx, patched, client.MergeFrom(ng)); err != nil {
		t.Fatal(err)
	}
	// One at a time (maxParallelNodesRepaired defaults to 1): never both
	// marked for replacement while both are there.
	testenv.Eventually(t, 2*time.Minute, func() error {
		marked, left := 0, 0
		for _, n := range nodes {
			now := node(t, n.Name)
			if now == nil {
				continue
			}
			left++
			if now.Annotations[repair.AnnotationRepairAction] == string(repair.Replace) {
				marked++
			}
		}
		if marked > 1 {
			t.Fatalf("both nodes replaced at once")
		}
		if left > 0 {
			return errorf("%d of the unhealthy nodes are left", left)
		}
		return nil
	})
	waitReady(t, "repair-many", 6, time.Minute)
}

// TestIntegration_RepairReplacesAnInstanceWhoseNodeWasDeleted: a Node
// deleted while its instance runs (its kubelet does not register it
// again) has its instance replaced once it has been gone for the join
// timeout (time-scaled), not before.
func TestIntegration_RepairReplacesAnInstanceWhoseNodeWasDeleted(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	readyGroup(t, "repair-deleted", 2, repairing(true))
	victim := nodesOf(t, "repair-deleted")[0]
	id := kubelet.InstanceID(&victim)
	deleted := time.Now()
	if err := env.Client.Delete(ctx, &victim); err != nil {
		t.Fatal(err)
	}
	var ev corev1.Event
	testenv.Eventually(t, time.Minute, func() error {
		for _, e := range events(t, "repair-deleted", repair.ReasonRepairing) {
			if strings.Contains(e.Message, id) {
				ev = e
				return nil
			}
		}
		if i := instance(t, k, id); i.LifecycleState != cloud.LifecycleInService && time.Since(deleted) < scaled(resources.JoinTimeout) {
			t.Fatalf("instance %s is %s before its repair", id, i.LifecycleState)
		}
		return errorf("instance %s not repaired yet", id)
	})
	if wait := scaled(resources.JoinTimeout); ev.EventTime.Time.Before(deleted.Add(wait)) {
		t.Errorf("repaired %s after its Node was deleted, want at least %s", ev.EventTime.Sub(deleted), wait)
	}
	if !strings.Contains(ev.Message, "its Node has been gone") {
		t.Errorf("repair event %q", ev.Message)
	}
	awaitReplaced(t, k, victim)
	waitReady(t, "repair-deleted", 2, time.Minute)
}

// TestIntegration_RepairResumesAfterARestart: kdp stopped between marking a
// node for replacement and terminating its instance (the state is written
// here by hand while kdp is down): the kdp that starts again terminates
// that instance, without deciding the repair again, and nothing else.
func TestIntegration_RepairResumesAfterARestart(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	readyGroup(t, "repair-restart", 2, repairing(true))
	defer deleteGroup(t, "repair-restart", 2*time.Minute) // before the second kdp stops
	nodes := nodesOf(t, "repair-restart")
	victim, other := nodes[0], nodes[1]
	k.stop()
	marked := victim.DeepCopy()
	marked.Annotations[repair.AnnotationRepairStarted] = time.Now().UTC().Format(time.RFC3339Nano)
	marked.Annotations[repair.AnnotationRepairAction] = string(repair.Replace)
	marked.Annotations[repair.AnnotationRepairProblem] = "Ready/NodeStatusUnknown@" + time.Now().UTC().Format(time.RFC3339)
	marked.Spec.Unschedulable = true
	if err := env.Client.Patch(ctx, marked, client.MergeFrom(&victim)); err != nil {
		t.Fatal(err)
	}
	k = start(t, options{dir: k.dir})
	awaitReplaced(t, k, victim)
	waitReady(t, "repair-restart", 2, time.Minute)
	if evs := nodeEvents(t, victim, repair.ReasonRepairing); len(evs) != 0 {
		t.Errorf("the repair was decided again: %+v", evs)
	}
	if n := node(t, other.Name); n == nil || n.Spec.Unschedulable {
		t.Errorf("the healthy node was touched: %+v", n)
	}
}
