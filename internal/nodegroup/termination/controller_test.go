package termination

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
)

// terminating is a termination activity as EC2 Auto Scaling (and kdp's
// simulated cloud) words it.
func terminating(id, cause string) cloud.Activity {
	return cloud.Activity{Description: "Terminating EC2 instance: " + id, Cause: "At 2030-01-01T12:00:00Z " + cause + ".", InstanceID: id, StatusCode: cloud.ActivityInProgress}
}

func TestDrainReason(t *testing.T) {
	const (
		deletion  = "an instance was taken out of service in response to the deletion of its group"
		scaleIn   = "an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from 3 to 2"
		azs       = "an instance was taken out of service in response to an availability zone rebalancing"
		rebalance = "an instance was taken out of service in response to an EC2 instance rebalance recommendation"
		user      = "instance i-1 was taken out of service in response to a user request, shrinking the capacity from 3 to 2"
		retired   = "an instance was taken out of service in response to an EC2 instance retirement (scheduled maintenance)"
	)
	launching := cloud.Activity{Description: "Launching a new EC2 instance: i-1", Cause: "At 2030-01-01T11:00:00Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 3.", InstanceID: "i-1"}
	for _, c := range []struct {
		name       string
		activities []cloud.Activity
		want       string
	}{
		{"group deleted", []cloud.Activity{terminating("i-1", deletion)}, "node group deletion"},
		{"scale-in", []cloud.Activity{terminating("i-1", scaleIn)}, "scale-in"},
		{"AZ rebalance", []cloud.Activity{terminating("i-1", azs)}, "AZ rebalance"},
		{"spot rebalance recommendation", []cloud.Activity{terminating("i-1", rebalance)}, "spot rebalance"},
		{"a user's request", []cloud.Activity{terminating("i-1", user)}, "termination"},
		{"retirement", []cloud.Activity{terminating("i-1", retired)}, "termination"},
		{"no activities", nil, "termination"},
		{"only another instance's", []cloud.Activity{terminating("i-2", deletion)}, "termination"},
		{"its launch is not its termination", []cloud.Activity{launching}, "termination"},
		{"another instance's first", []cloud.Activity{terminating("i-2", deletion), launching, terminating("i-1", scaleIn)}, "scale-in"},
		// Newest first: its newest termination is the one it waits on,
		// even when that cause is not one with a word.
		{"the newest termination decides", []cloud.Activity{terminating("i-1", user), terminating("i-1", scaleIn)}, "termination"},
		{"the newest termination decides, the other way", []cloud.Activity{terminating("i-1", azs), terminating("i-1", user)}, "AZ rebalance"},
	} {
		if got := drainReason(c.activities, "i-1"); got != c.want {
			t.Errorf("%s: drainReason = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDue(t *testing.T) {
	started := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	const timeout = 30 * time.Minute
	for _, c := range []struct {
		name string
		now  time.Time
		next time.Duration
		over bool
	}{
		{"just started: look again after retry", started, retry, false},
		{"retry before the deadline", started.Add(timeout - retry), retry, false},
		{"the deadline before retry", started.Add(timeout - time.Second), time.Second, false},
		{"one nanosecond before the deadline", started.Add(timeout - 1), 1, false},
		{"exactly at the deadline", started.Add(timeout), 0, true},
		{"after it", started.Add(timeout + time.Hour), 0, true},
	} {
		next, over := due(started, c.now, timeout)
		if next != c.next || over != c.over {
			t.Errorf("%s: due = %s, %v; want %s, %v", c.name, next, over, c.next, c.over)
		}
	}
	// A compressed timeout (--time-scale) shorter than retry.
	if next, over := due(started, started, time.Second); next != time.Second || over {
		t.Errorf("a 1s timeout: due = %s, %v; want 1s, false", next, over)
	}
}

func TestDescribe(t *testing.T) {
	pod := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "default", Name: name} }
	for _, c := range []struct {
		name string
		r    drain.Result
		want string
	}{
		{"one pod", drain.Result{Remaining: []types.NamespacedName{pod("a")}}, "1 pods on it: default/a"},
		{"a budget names itself", drain.Result{
			Remaining: []types.NamespacedName{pod("a"), pod("b")},
			Blocked:   []drain.Blocked{{Pod: pod("b"), Budget: "default/web", Message: "Cannot evict"}, {Pod: pod("a"), Message: "refused, no budget"}},
		}, "2 pods on it: default/a, default/b (PodDisruptionBudget default/web)"},
		{"five, no more", drain.Result{Remaining: []types.NamespacedName{pod("a"), pod("b"), pod("c"), pod("d"), pod("e")}},
			"5 pods on it: default/a, default/b, default/c, default/d, default/e"},
		{"more than five: the rest counted", drain.Result{Remaining: []types.NamespacedName{pod("a"), pod("b"), pod("c"), pod("d"), pod("e"), pod("f"), pod("g")}},
			"7 pods on it: default/a, default/b, default/c, default/d, default/e, and 2 more"},
		{"none", drain.Result{}, "0 pods on it: "},
	} {
		if got := describe(&c.r); got != c.want {
			t.Errorf("%s: describe = %q, want %q", c.name, got, c.want)
		}
	}
}
