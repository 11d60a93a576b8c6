package termination

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

func TestReplacements(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	node := func(ready corev1.ConditionStatus) *corev1.Node {
		return &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
	}
	member := func(lifecycle string, n *corev1.Node, mutate ...func(*cloud.Instance)) resources.Member {
		m := resources.Member{Instance: cloud.Instance{ID: "i-1", State: cloud.StateRunning, LifecycleState: lifecycle, Lifecycle: cloud.Spot}, Node: n}
		for _, f := range mutate {
			f(&m.Instance)
		}
		return m
	}
	atRisk := func(i *cloud.Instance) { i.RebalanceRecommended = &at }
	interrupted := func(i *cloud.Instance) { i.SpotInterruptionTime = &at }
	ready, notReady := node(corev1.ConditionTrue), node(corev1.ConditionFalse)
	for _, c := range []struct {
		name    string
		members []resources.Member
		want    int
	}{
		{"none", nil, 0},
		{"in service and Ready", []resources.Member{member(cloud.LifecycleInService, ready), member(cloud.LifecycleInService, ready)}, 2},
		{"the replacement has no node yet", []resources.Member{member(cloud.LifecycleInService, ready), member(cloud.LifecycleInService, nil)}, 1},
		{"the replacement's node is not Ready yet", []resources.Member{member(cloud.LifecycleInService, ready), member(cloud.LifecycleInService, notReady)}, 1},
		{"the one leaving does not count", []resources.Member{member(cloud.LifecycleTerminatingWait, ready), member(cloud.LifecycleInService, ready)}, 1},
		{"nor one pending", []resources.Member{member(cloud.LifecyclePending, ready)}, 0},
		{"nor one at risk itself", []resources.Member{member(cloud.LifecycleInService, ready, atRisk), member(cloud.LifecycleInService, ready)}, 1},
		{"nor one with an interruption notice", []resources.Member{member(cloud.LifecycleInService, ready, interrupted)}, 0},
	} {
		if got := replacements(c.members); got != c.want {
			t.Errorf("%s: replacements = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestTerminationOf(t *testing.T) {
	older, newer := terminating("i-1", "an instance was taken out of service in response to a difference between desired and actual capacity"), terminating("i-1", "an instance was taken out of service in response to an EC2 instance rebalance recommendation")
	newer.StartTime = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	if a := terminationOf([]cloud.Activity{terminating("i-2", "x"), newer, older}, "i-1"); a == nil || !a.StartTime.Equal(newer.StartTime) {
		t.Errorf("terminationOf = %+v, want the newest termination of i-1", a)
	}
	if a := terminationOf([]cloud.Activity{terminating("i-2", "x")}, "i-1"); a != nil {
		t.Errorf("terminationOf another instance's = %+v, want nil", a)
	}
}
