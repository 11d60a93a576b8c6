package lifecycle

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

const (
	joinTimeout   = 10 * time.Minute
	createTimeout = 15 * time.Minute
	asg           = "eks-web-5f1d3b8e-0c1a-4b8e-9d7a-2c3e4f5a6b7c"
)

// member is an instance of the group in service (running, InService),
// launched at launched, with a node that is Ready (node "ready"), not
// Ready ("notready"), or none ("").
func member(id string, launched time.Time, node string) resources.Member {
	m := resources.Member{Instance: cloud.Instance{
		ID: id, Zone: "us-east-1a", Group: asg, State: cloud.StateRunning, LifecycleState: cloud.LifecycleInService, LaunchTime: launched,
	}}
	switch node {
	case "ready":
		m.Node = &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	case "notready":
		m.Node = &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}}}
	}
	return m
}

// in sets a member's EC2 state and Auto Scaling lifecycle state.
func in(m resources.Member, state, lifecycle string) resources.Member {
	m.Instance.State, m.Instance.LifecycleState = state, lifecycle
	return m
}

func launchFailed(message string) cloud.Activity {
	return cloud.Activity{Group: asg, Description: "Launching a new EC2 instance.  Status Reason: " + message + " Launching EC2 instance failed.",
		StatusCode: cloud.ActivityFailed, StatusMessage: message + " Launching EC2 instance failed."}
}

func launched(status string) cloud.Activity {
	return cloud.Activity{Group: asg, Description: "Launching a new EC2 instance: i-0a", StatusCode: status, InstanceID: "i-0a"}
}

const (
	noAddresses = "There are not enough free addresses in subnet 'subnet-0a1b2c3d' to satisfy the requested number of instances."
	noCapacity  = "We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a)."
)

// issue is an issue's code and resources, what the table compares (the
// messages are compared where they say something a user reads).
type issue struct {
	code eksv1.IssueCode
	ids  []string
}

func issuesOf(is []eksv1.Issue) []issue {
	var out []issue
	for _, i := range is {
		out = append(out, issue{i.Code, i.ResourceIDs})
	}
	return out
}

// TestJudge is the table of judge's branches: each case is one observation
// of a created group and the status, issues, counts and next look it means.
func TestJudge(t *testing.T) {
	created := t0
	group := func(desired int32) *cloud.Group { return &cloud.Group{Name: asg, DesiredCapacity: desired} }
	for _, c := range []struct {
		name string
		// o is the observation; now, created and the timeouts default to
		// t0+1m, t0, joinTimeout and createTimeout.
		o       observation
		status  eksv1.Status
		issues  []issue
		nodes   eksv1.NodeCounts
		desired int32
		next    time.Time
	}{
		// The Auto Scaling group is gone.
		{name: "group gone before it was seen", o: observation{prior: ""},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},
		{name: "group gone while creating", o: observation{prior: eksv1.StatusCreating},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},
		{name: "group gone after create failed", o: observation{prior: eksv1.StatusCreateFailed},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},
		{name: "group gone while active", o: observation{prior: eksv1.StatusActive},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},
		{name: "group gone while degraded", o: observation{prior: eksv1.StatusDegraded},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},
		{name: "group gone while updating", o: observation{prior: eksv1.StatusUpdating, updating: true},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueAutoScalingGroupNotFound, nil}}},

		// Creating.
		{name: "every desired node Ready", o: observation{prior: eksv1.StatusCreating, group: group(2),
			members: []resources.Member{member("i-1", t0, "ready"), member("i-2", t0, "ready")}},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 2, Total: 2, Instances: 2}, desired: 2},
		{name: "not yet seen counts as creating", o: observation{prior: "", group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "desired 0 is active at once", o: observation{prior: eksv1.StatusCreating, group: group(0)},
			status: eksv1.StatusActive},
		{name: "waiting: the next look is the create deadline", o: observation{prior: eksv1.StatusCreating, group: group(2),
			members: []resources.Member{member("i-1", t0, "ready"), in(member("i-2", t0, ""), cloud.StatePending, cloud.LifecyclePending)}},
			status: eksv1.StatusCreating, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 2}, desired: 2, next: created.Add(createTimeout)},
		{name: "waiting: a join due before the deadline is the next look", o: observation{prior: eksv1.StatusCreating, group: group(1),
			members: []resources.Member{member("i-1", t0.Add(2*time.Minute), "")}, now: t0.Add(3 * time.Minute)},
			status: eksv1.StatusCreating, nodes: eksv1.NodeCounts{Instances: 1}, desired: 1, next: t0.Add(2*time.Minute + joinTimeout)},
		{name: "waiting: the earliest of two joins", o: observation{prior: eksv1.StatusCreating, group: group(2),
			members: []resources.Member{member("i-1", t0.Add(3*time.Minute), ""), member("i-2", t0.Add(2*time.Minute), "")}, now: t0.Add(3 * time.Minute)},
			status: eksv1.StatusCreating, nodes: eksv1.NodeCounts{Instances: 2}, desired: 2, next: t0.Add(2*time.Minute + joinTimeout)},
		{name: "one nanosecond before the create deadline", o: observation{prior: eksv1.StatusCreating, group: group(1),
			members: []resources.Member{member("i-1", t0, "notready")}, now: created.Add(createTimeout - 1)},
			status: eksv1.StatusCreating, nodes: eksv1.NodeCounts{Total: 1, Instances: 1}, desired: 1, next: created.Add(createTimeout)},
		{name: "exactly at the create deadline", o: observation{prior: eksv1.StatusCreating, group: group(1),
			members: []resources.Member{member("i-1", t0, "notready")}, now: created.Add(createTimeout)},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueNodeCreationFailure, nil}},
			nodes: eksv1.NodeCounts{Total: 1, Instances: 1}, desired: 1},
		{name: "past the create deadline, not yet seen", o: observation{prior: "", group: group(1), now: created.Add(time.Hour)},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueNodeCreationFailure, nil}}, desired: 1},
		{name: "past the create deadline with launch failures: those are the issues", o: observation{prior: eksv1.StatusCreating, group: group(1),
			activities: []cloud.Activity{launchFailed(noCapacity)}, now: created.Add(createTimeout)},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}}, desired: 1},
		{name: "past the create deadline with late instances: those are the issue", o: observation{prior: eksv1.StatusCreating, group: group(1),
			members: []resources.Member{member("i-1", t0, "")}, now: created.Add(createTimeout)},
			status: eksv1.StatusCreateFailed, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-1"}}},
			nodes: eksv1.NodeCounts{Instances: 1}, desired: 1},
		{name: "Ready in time with a late extra instance: active (degraded at the next look)", o: observation{prior: eksv1.StatusCreating, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready"), member("i-2", t0, "")}, now: t0.Add(joinTimeout)},
			status: eksv1.StatusActive, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-2"}}},
			nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 2}, desired: 1},

		// A group that failed to create stays failed.
		{name: "create failed, then every node Ready", o: observation{prior: eksv1.StatusCreateFailed, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}, now: t0.Add(time.Hour)},
			status: eksv1.StatusCreateFailed, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "create failed, then an update", o: observation{prior: eksv1.StatusCreateFailed, updating: true, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}},
			status: eksv1.StatusCreateFailed, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},

		// Updating.
		{name: "updating with health issues", o: observation{prior: eksv1.StatusActive, updating: true, group: group(1),
			members: []resources.Member{member("i-1", t0, "")}, now: t0.Add(time.Hour)},
			status: eksv1.StatusUpdating, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-1"}}},
			nodes: eksv1.NodeCounts{Instances: 1}, desired: 1},
		{name: "updating while degraded", o: observation{prior: eksv1.StatusDegraded, updating: true, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}},
			status: eksv1.StatusUpdating, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "updating while creating", o: observation{prior: eksv1.StatusCreating, updating: true, group: group(1)},
			status: eksv1.StatusUpdating, desired: 1},

		// Active and degraded.
		{name: "active, a join one nanosecond before its timeout", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{member("i-1", t0, "")}, now: t0.Add(joinTimeout - 1)},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Instances: 1}, desired: 1, next: t0.Add(joinTimeout)},
		{name: "active, a join exactly at its timeout", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{member("i-1", t0, "")}, now: t0.Add(joinTimeout)},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-1"}}},
			nodes: eksv1.NodeCounts{Instances: 1}, desired: 1},
		{name: "late instances are one issue, their ids sorted", o: observation{prior: eksv1.StatusActive, group: group(3),
			members: []resources.Member{member("i-3", t0, ""), member("i-2", t0, "ready"), member("i-1", t0, "")}, now: t0.Add(time.Hour)},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-1", "i-3"}}},
			nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 3}, desired: 3},
		{name: "a registered node that is not Ready has joined", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{member("i-1", t0, "notready")}, now: t0.Add(time.Hour)},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Total: 1, Instances: 1}, desired: 1},
		{name: "a pending instance is not late", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{in(member("i-1", t0, ""), cloud.StatePending, cloud.LifecyclePendingWait)}, now: t0.Add(time.Hour)},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Instances: 1}, desired: 1},
		{name: "leaving instances are not counted", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{
				member("i-1", t0, "ready"),
				in(member("i-2", t0, "ready"), cloud.StateShuttingDown, cloud.LifecycleTerminated),
				in(member("i-3", t0, "ready"), cloud.StateRunning, cloud.LifecycleTerminating),
				in(member("i-4", t0, ""), cloud.StateRunning, cloud.LifecycleTerminatingWait),
			}, now: t0.Add(time.Hour)},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "degraded, then the issue passes", o: observation{prior: eksv1.StatusDegraded, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "scaling up is not an issue", o: observation{prior: eksv1.StatusActive, group: group(3),
			members: []resources.Member{member("i-1", t0, "ready")}, activities: []cloud.Activity{launched(cloud.ActivityInProgress)}},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 3},
		{name: "fewer instances than desired, launches failing", o: observation{prior: eksv1.StatusActive, group: group(2),
			members: []resources.Member{member("i-1", t0, "ready")}, activities: []cloud.Activity{launchFailed(noAddresses), launchFailed(noCapacity)}},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueInsufficientFreeAddresses, []string{asg}}, {eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}},
			nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 2},
		{name: "as many instances as desired: old launch failures do not count", o: observation{prior: eksv1.StatusActive, group: group(1),
			members: []resources.Member{member("i-1", t0, "ready")}, activities: []cloud.Activity{launchFailed(noAddresses)}},
			status: eksv1.StatusActive, nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 1},
		{name: "late joins and failed launches together", o: observation{prior: eksv1.StatusActive, group: group(2),
			members: []resources.Member{member("i-1", t0, "")}, activities: []cloud.Activity{launchFailed(noCapacity)}, now: t0.Add(time.Hour)},
			status: eksv1.StatusDegraded, issues: []issue{{eksv1.IssueNodeCreationFailure, []string{"i-1"}}, {eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}},
			nodes: eksv1.NodeCounts{Instances: 1}, desired: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			if o.now.IsZero() {
				o.now = t0.Add(time.Minute)
			}
			o.created, o.joinTimeout, o.createTimeout = created, joinTimeout, createTimeout
			v := judge(o)
			if v.status != c.status {
				t.Errorf("status %s, want %s", v.status, c.status)
			}
			if got := issuesOf(v.issues); !reflect.DeepEqual(got, c.issues) {
				t.Errorf("issues %+v, want %+v", got, c.issues)
			}
			if v.nodes != c.nodes {
				t.Errorf("nodes %+v, want %+v", v.nodes, c.nodes)
			}
			if v.desired != c.desired {
				t.Errorf("desired %d, want %d", v.desired, c.desired)
			}
			if !v.next.Equal(c.next) {
				t.Errorf("next %s, want %s", v.next, c.next)
			}
		})
	}
}

// TestJudgeMessages: what an issue says, as a user reads it in the status.
func TestJudgeMessages(t *testing.T) {
	base := observation{now: t0.Add(time.Hour), created: t0, joinTimeout: joinTimeout, createTimeout: createTimeout}
	for _, c := range []struct {
		name string
		o    func(*observation)
		want []string
	}{
		{"late joins", func(o *observation) {
			o.prior, o.group = eksv1.StatusActive, &cloud.Group{Name: asg, DesiredCapacity: 2}
			o.members = []resources.Member{member("i-1", t0, ""), member("i-2", t0, "")}
		}, []string{"Instances failed to join the kubernetes cluster: 2 did not become Ready nodes within 10m0s."}},
		{"create timed out", func(o *observation) {
			o.prior, o.group = eksv1.StatusCreating, &cloud.Group{Name: asg, DesiredCapacity: 3}
			o.members = []resources.Member{member("i-1", t0, "ready"), member("i-2", t0, "notready"), member("i-3", t0, "notready")}
		}, []string{"1 of 3 nodes were Ready within 15m0s."}},
		{"launch failure", func(o *observation) {
			o.prior, o.group = eksv1.StatusActive, &cloud.Group{Name: asg, DesiredCapacity: 1}
			o.activities = []cloud.Activity{launchFailed(noAddresses)}
		}, []string{noAddresses + " Launching EC2 instance failed."}},
		{"group gone", func(o *observation) { o.prior = eksv1.StatusActive },
			[]string{"The node group's Auto Scaling group is gone: it was deleted outside kdp."}},
	} {
		o := base
		c.o(&o)
		var got []string
		for _, i := range judge(o).issues {
			got = append(got, i.Message)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: messages %q, want %q", c.name, got, c.want)
		}
	}
}

// TestLaunchIssues: the failed launches since the last launch that did
// not fail, newest first, one issue per code.
func TestLaunchIssues(t *testing.T) {
	terminated := cloud.Activity{Group: asg, Description: "Terminating EC2 instance: i-0b", StatusCode: cloud.ActivityFailed, StatusMessage: "whatever"}
	template := launchFailed("The specified launch template, with template ID lt-0123456789abcdef0, does not exist.")
	for _, c := range []struct {
		name       string
		activities []cloud.Activity
		want       []issue
		messages   []string
	}{
		{name: "none", activities: nil},
		{name: "only successes", activities: []cloud.Activity{launched(cloud.ActivitySuccessful)}},
		{name: "one failure",
			activities: []cloud.Activity{launchFailed(noAddresses)},
			want:       []issue{{eksv1.IssueInsufficientFreeAddresses, []string{asg}}},
			messages:   []string{noAddresses + " Launching EC2 instance failed."}},
		{name: "a success ends the scan",
			activities: []cloud.Activity{launchFailed(noCapacity), launched(cloud.ActivitySuccessful), template},
			want:       []issue{{eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}}},
		{name: "a launch in progress ends the scan",
			activities: []cloud.Activity{launched(cloud.ActivityInProgress), launchFailed(noCapacity)}},
		{name: "a cancelled launch ends the scan",
			activities: []cloud.Activity{launched(cloud.ActivityCancelled), launchFailed(noCapacity)}},
		{name: "terminations are passed over",
			activities: []cloud.Activity{terminated, launchFailed(noCapacity), terminated, template},
			want:       []issue{{eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}, {eksv1.IssueEc2LaunchTemplateNotFound, []string{asg}}}},
		{name: "the reason only in the description, as kdp's simulated cloud writes a launch that failed at once",
			activities: []cloud.Activity{{Group: asg, Description: "Launching a new EC2 instance.  Status Reason: " + noAddresses + " Launching EC2 instance failed.", StatusCode: cloud.ActivityFailed}},
			want:       []issue{{eksv1.IssueInsufficientFreeAddresses, []string{asg}}},
			messages:   []string{noAddresses + " Launching EC2 instance failed."}},
		{name: "no reason at all",
			activities: []cloud.Activity{{Group: asg, Description: "Launching a new EC2 instance.", StatusCode: cloud.ActivityFailed}},
			want:       []issue{{eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}},
			messages:   []string{"Launching a new EC2 instance."}},
		{name: "one issue per code, the newest's message",
			activities: []cloud.Activity{launchFailed(noCapacity), launchFailed(noAddresses), launchFailed("Something else."), launchFailed(noAddresses)},
			want:       []issue{{eksv1.IssueAsgInstanceLaunchFailures, []string{asg}}, {eksv1.IssueInsufficientFreeAddresses, []string{asg}}},
			messages:   []string{noCapacity + " Launching EC2 instance failed.", noAddresses + " Launching EC2 instance failed."}},
	} {
		got := launchIssues(c.activities, asg)
		if g := issuesOf(got); !reflect.DeepEqual(g, c.want) {
			t.Errorf("%s: issues %+v, want %+v", c.name, g, c.want)
		}
		if c.messages != nil {
			var ms []string
			for _, i := range got {
				ms = append(ms, i.Message)
			}
			if !reflect.DeepEqual(ms, c.messages) {
				t.Errorf("%s: messages %q, want %q", c.name, ms, c.messages)
			}
		}
	}
}

// TestLaunchIssue: EC2 Auto Scaling's words for a failed launch, and the
// issue code EKS reports for them.
func TestLaunchIssue(t *testing.T) {
	for _, c := range []struct {
		message string
		want    eksv1.IssueCode
	}{
		{noAddresses, eksv1.IssueInsufficientFreeAddresses},
		{"THERE ARE NOT ENOUGH FREE ADDRESSES IN SUBNET", eksv1.IssueInsufficientFreeAddresses},
		{"The specified launch template, with template ID lt-0123456789abcdef0, does not exist.", eksv1.IssueEc2LaunchTemplateNotFound},
		{"The launch template version 3 is not valid.", eksv1.IssueAsgInstanceLaunchFailures},
		{"The specified instance type m5.huge does not exist.", eksv1.IssueEc2InstanceTypeDoesNotExist},
		{"Your requested instance type (m5.large) is not supported in your requested Availability Zone (us-east-1e).", eksv1.IssueEc2InstanceTypeDoesNotExist},
		{noCapacity, eksv1.IssueAsgInstanceLaunchFailures},
		{"Your quota allows for 0 more running instance(s). You requested at least 1.", eksv1.IssueAsgInstanceLaunchFailures},
		{"", eksv1.IssueAsgInstanceLaunchFailures},
	} {
		if got := launchIssue(c.message); got != c.want {
			t.Errorf("launchIssue(%q) = %s, want %s", c.message, got, c.want)
		}
	}
}

func TestEarliest(t *testing.T) {
	a, b := t0, t0.Add(time.Nanosecond)
	for _, c := range []struct{ x, y, want time.Time }{
		{time.Time{}, a, a}, // zero is "nothing due yet"
		{a, b, a},
		{b, a, a},
		{a, a, a},
	} {
		if got := earliest(c.x, c.y); !got.Equal(c.want) {
			t.Errorf("earliest(%s, %s) = %s, want %s", c.x, c.y, got, c.want)
		}
	}
}
