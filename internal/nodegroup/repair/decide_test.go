package repair

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

var epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// exact is EKS's waits as they are (time scale 1).
func exact(d time.Duration) time.Duration { return d }

func node(conditions ...corev1.NodeCondition) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Conditions: conditions}}
}

func cond(t, status, reason string, since time.Time) corev1.NodeCondition {
	return corev1.NodeCondition{Type: corev1.NodeConditionType(t), Status: corev1.ConditionStatus(status), Reason: reason, LastTransitionTime: metav1.NewTime(since)}
}

// TestDiagnose steps a fake clock past each condition's wait: a problem is
// not due a moment before its wait has passed since the condition's
// transition, and is at that moment, with the action of its rule.
func TestDiagnose(t *testing.T) {
	overrides := &eksv1.NodeRepairConfig{NodeRepairConfigOverrides: []eksv1.NodeRepairConfigOverride{
		{NodeMonitoringCondition: "KernelReady", NodeUnhealthyReason: "KernelBug", MinRepairWaitTimeMins: 1, RepairAction: "Replace"},
		{NodeMonitoringCondition: "NetworkingReady", NodeUnhealthyReason: "IPAMDNotReady", MinRepairWaitTimeMins: 5, RepairAction: "NoAction"},
		{NodeMonitoringCondition: "AcceleratedHardwareReady", NodeUnhealthyReason: "NvidiaXID", MinRepairWaitTimeMins: 2, RepairAction: "Reboot"},
	}}
	for _, tc := range []struct {
		name       string
		cfg        *eksv1.NodeRepairConfig
		node       *corev1.Node
		wait       time.Duration // zero: healthy
		action     Action
		condition  string
		isOverride bool
	}{
		{name: "healthy", node: node(cond("Ready", "True", "KubeletReady", epoch), cond("KernelReady", "True", "KernelIsReady", epoch))},
		{name: "pressure is never repaired", node: node(cond("Ready", "True", "", epoch), cond("DiskPressure", "True", "", epoch), cond("MemoryPressure", "True", "", epoch))},
		{name: "Ready Unknown", node: node(cond("Ready", "Unknown", "NodeStatusUnknown", epoch)), wait: 30 * time.Minute, action: Replace, condition: "Ready"},
		{name: "Ready False", node: node(cond("Ready", "False", "KubeletNotReady", epoch)), wait: 30 * time.Minute, action: Replace, condition: "Ready"},
		{name: "a monitoring condition Unknown is not bad", node: node(cond("Ready", "True", "", epoch), cond("StorageReady", "Unknown", "", epoch))},
		{name: "accelerator", node: node(cond("AcceleratedHardwareReady", "False", "NvidiaXID", epoch)), wait: 10 * time.Minute, action: Replace, condition: "AcceleratedHardwareReady"},
		{name: "kernel", node: node(cond("KernelReady", "False", "KernelBug", epoch)), wait: 30 * time.Minute, action: Replace, condition: "KernelReady"},
		{name: "override", cfg: overrides, node: node(cond("KernelReady", "False", "KernelBug", epoch)), wait: time.Minute, action: Replace, condition: "KernelReady", isOverride: true},
		{name: "override of another reason", cfg: overrides, node: node(cond("KernelReady", "False", "ForkBomb", epoch)), wait: 30 * time.Minute, action: Replace, condition: "KernelReady"},
		{name: "override NoAction", cfg: overrides, node: node(cond("NetworkingReady", "False", "IPAMDNotReady", epoch)), wait: 5 * time.Minute, action: NoAction, condition: "NetworkingReady", isOverride: true},
		{name: "override Reboot", cfg: overrides, node: node(cond("AcceleratedHardwareReady", "False", "NvidiaXID", epoch)), wait: 2 * time.Minute, action: Reboot, condition: "AcceleratedHardwareReady", isOverride: true},
		{
			name: "the problem due first", cfg: overrides,
			node: node(cond("Ready", "Unknown", "NodeStatusUnknown", epoch), cond("KernelReady", "False", "KernelBug", epoch.Add(10*time.Minute))),
			wait: 11 * time.Minute, action: Replace, condition: "KernelReady", isOverride: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(epoch)
			rules := Rules(tc.cfg)
			ps := Diagnose(tc.node, rules, exact)
			if tc.wait == 0 {
				if len(ps) != 0 {
					t.Fatalf("a healthy node has problems: %+v", ps)
				}
				return
			}
			if len(ps) == 0 {
				t.Fatal("no problem")
			}
			p := &ps[0]
			if p.Condition != tc.condition || p.Rule.Action != tc.action || p.Rule.Override != tc.isOverride {
				t.Errorf("problem %+v, want %s, %s, override %v", p, tc.condition, tc.action, tc.isOverride)
			}
			c := []Candidate{{Name: "n", Problem: p}}
			// Due the wait after the end of the transition's second (its
			// time is stored in whole seconds).
			clk.SetTime(epoch.Add(tc.wait))
			if plan := Decide(clk.Now(), c, tc.cfg); len(plan.Start) != 0 || !plan.Next.Equal(epoch.Add(time.Second+tc.wait)) {
				t.Errorf("a second before the wait: %+v", plan)
			}
			clk.Step(time.Second)
			if plan := Decide(clk.Now(), c, tc.cfg); len(plan.Start) != 1 {
				t.Errorf("at the wait: %+v", plan)
			}
		})
	}
}

// TestDiagnoseScales: the waits are compressed by the time scale.
func TestDiagnoseScales(t *testing.T) {
	ps := Diagnose(node(cond("Ready", "Unknown", "", epoch)), Rules(nil), func(d time.Duration) time.Duration { return d / 100 })
	if len(ps) != 1 || !ps[0].Due.Equal(epoch.Add(time.Second+18*time.Second)) {
		t.Errorf("at scale 100: %+v, want due 18s after the transition's second", ps)
	}
}

func unhealthy(names ...string) []Candidate {
	var out []Candidate
	for _, n := range names {
		out = append(out, Candidate{Name: n, Instance: "i-" + n, Problem: &Problem{Condition: "Ready", Due: epoch, Rule: Rule{Action: Replace}}})
	}
	return out
}

func healthy(n int) []Candidate {
	var out []Candidate
	for i := range n {
		out = append(out, Candidate{Name: string(rune('a' + i)), Instance: "i-h"})
	}
	return out
}

func names(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestDecide: the threshold holds repairs back (repairs under way go on),
// and no more than the parallel limit start.
func TestDecide(t *testing.T) {
	repairing := Candidate{Name: "r", Instance: "i-r", Repairing: true}
	for _, tc := range []struct {
		name                 string
		cfg                  *eksv1.NodeRepairConfig
		candidates           []Candidate
		start, held, queued  []string
		unhealthy, threshold string
	}{
		{name: "one of one", candidates: unhealthy("x"), start: []string{"x"}},
		{name: "5 nodes, all unhealthy: at most 5 is never held", candidates: unhealthy("v", "w", "x", "y", "z"), start: []string{"v"}, queued: []string{"w", "x", "y", "z"}},
		{name: "1 of 6", candidates: append(unhealthy("x"), healthy(5)...), start: []string{"x"}},
		{name: "2 of 6: more than 20%", candidates: append(unhealthy("x", "y"), healthy(4)...), held: []string{"x", "y"}, threshold: "2 of 6 nodes are unhealthy, more than 20%"},
		{name: "2 of 10", candidates: append(unhealthy("x", "y"), healthy(8)...), start: []string{"x"}, queued: []string{"y"}},
		{name: "a repair under way counts as unhealthy, and goes on", candidates: append(append(unhealthy("x"), repairing), healthy(4)...), held: []string{"x"}, threshold: "2 of 6"},
		{name: "a repair under way takes the one slot", candidates: append(append(unhealthy("x"), repairing), healthy(10)...), queued: []string{"x"}},
		{
			name: "count threshold", cfg: &eksv1.NodeRepairConfig{MaxUnhealthyNodeThresholdCount: ptr.To[int32](2), MaxParallelNodesRepairedCount: ptr.To[int32](2)},
			candidates: append(unhealthy("x", "y"), healthy(4)...), start: []string{"x", "y"},
		},
		{
			name: "count threshold exceeded in a small group", cfg: &eksv1.NodeRepairConfig{MaxUnhealthyNodeThresholdCount: ptr.To[int32](1)},
			candidates: unhealthy("x", "y"), held: []string{"x", "y"}, threshold: "more than maxUnhealthyNodeThresholdCount (1)",
		},
		{
			name: "percentage threshold", cfg: &eksv1.NodeRepairConfig{MaxUnhealthyNodeThresholdPercentage: ptr.To[int32](50)},
			candidates: append(unhealthy("x", "y", "z"), healthy(2)...), held: []string{"x", "y", "z"}, threshold: "3 of 5 nodes are unhealthy, more than maxUnhealthyNodeThresholdPercentage (50%)",
		},
		{
			name: "parallel percentage", cfg: &eksv1.NodeRepairConfig{MaxUnhealthyNodeThresholdPercentage: ptr.To[int32](100), MaxParallelNodesRepairedPercentage: ptr.To[int32](50)},
			candidates: unhealthy("w", "x", "y", "z"), start: []string{"w", "x"}, queued: []string{"y", "z"},
		},
		{
			name: "NoAction and Reboot are not held", candidates: append(noAction("x", "y"), healthy(4)...), start: []string{"x", "y"}, threshold: "2 of 6",
		},
		{
			name: "instances still joining are not unhealthy", candidates: append(append(unhealthy("x"), joining(5)...), healthy(4)...), start: []string{"x"},
		},
		{
			name: "acknowledged problems are not acted on again", candidates: []Candidate{{Name: "x", Problem: &Problem{Due: epoch, Rule: Rule{Action: NoAction}}, Acknowledged: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Decide(epoch, tc.candidates, tc.cfg)
			if !slices.Equal(names(p.Start), tc.start) || !slices.Equal(names(p.Held), tc.held) || !slices.Equal(names(p.Queued), tc.queued) {
				t.Errorf("start %v held %v queued %v, want %v %v %v", names(p.Start), names(p.Held), names(p.Queued), tc.start, tc.held, tc.queued)
			}
			if !strings.Contains(p.Threshold, tc.threshold) || (tc.threshold == "") != (p.Threshold == "") {
				t.Errorf("threshold %q, want %q", p.Threshold, tc.threshold)
			}
		})
	}
}

func joining(n int) []Candidate {
	out := healthy(n)
	for i := range out {
		out[i].Problem = Missing(epoch, time.Minute, exact)
	}
	return out
}

func noAction(names ...string) []Candidate {
	out := unhealthy(names...)
	for i := range out {
		out[i].Problem.Rule.Action = NoAction
	}
	return out
}

// TestMissing: an instance without a Node is due the join timeout after it
// was first seen so.
func TestMissing(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	p := Missing(clk.Now(), 15*time.Minute, exact)
	c := []Candidate{{Name: "i-1", Problem: p}}
	clk.Step(15*time.Minute - time.Millisecond)
	if plan := Decide(clk.Now(), c, nil); len(plan.Start) != 0 {
		t.Errorf("before the join timeout: %+v", plan)
	}
	clk.Step(time.Millisecond)
	if plan := Decide(clk.Now(), c, nil); len(plan.Start) != 1 || plan.Start[0].Problem.Rule.Action != Replace {
		t.Errorf("at the join timeout: %+v", plan)
	}
	if got := p.String(); !strings.Contains(got, "its Node has been gone since 09:00:00") {
		t.Errorf("%q", got)
	}
}

// TestPending: a problem acted on (NoAction) does not hide the next one,
// and a recorded action whose problem is over is forgotten.
func TestPending(t *testing.T) {
	cfg := &eksv1.NodeRepairConfig{NodeRepairConfigOverrides: []eksv1.NodeRepairConfigOverride{
		{NodeMonitoringCondition: "NetworkingReady", NodeUnhealthyReason: "IPAMDNotReady", MinRepairWaitTimeMins: 1, RepairAction: "NoAction"},
	}}
	ps := Diagnose(node(cond("NetworkingReady", "False", "IPAMDNotReady", epoch), cond("Ready", "Unknown", "", epoch)), Rules(cfg), exact)
	networking := ps[0].Key()
	p, acked, keep := Pending(ps, []string{networking, "KernelReady/KernelBug@2026-12-01T08:00:00Z"})
	if p == nil || p.Condition != "Ready" || acked || !slices.Equal(keep, []string{networking}) {
		t.Errorf("pending %+v acked %v keep %v", p, acked, keep)
	}
	p, acked, keep = Pending(ps[:1], []string{networking})
	if p == nil || p.Condition != "NetworkingReady" || !acked || len(keep) != 1 {
		t.Errorf("all acted on: pending %+v acked %v keep %v", p, acked, keep)
	}
	if p, _, keep := Pending(nil, []string{networking}); p != nil || len(keep) != 0 {
		t.Errorf("healthy: pending %+v keep %v", p, keep)
	}
}
