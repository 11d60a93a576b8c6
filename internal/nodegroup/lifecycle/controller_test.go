package lifecycle

import (
	"errors"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// TestSetStatus: the Ready condition each status means, and NodesReady
// from a verdict.
func TestSetStatus(t *testing.T) {
	c := &Controller{}
	failure := []eksv1.Issue{{Code: eksv1.IssueNodeCreationFailure}, {Code: eksv1.IssueAsgInstanceLaunchFailures}}
	for _, tc := range []struct {
		status  eksv1.Status
		issues  []eksv1.Issue
		ready   metav1.ConditionStatus
		reason  string
		message string
	}{
		{eksv1.StatusActive, nil, metav1.ConditionTrue, eksv1.ReasonActive, "The node group is ACTIVE"},
		{eksv1.StatusCreating, nil, metav1.ConditionFalse, eksv1.ReasonCreating, "The node group is being created"},
		{eksv1.StatusUpdating, nil, metav1.ConditionFalse, eksv1.ReasonUpdating, "Update u-1 is in progress"},
		{eksv1.StatusDegraded, failure, metav1.ConditionFalse, eksv1.ReasonDegraded, "The node group has health issues: NodeCreationFailure, AsgInstanceLaunchFailures"},
		{eksv1.StatusCreateFailed, failure[:1], metav1.ConditionFalse, eksv1.ReasonCreateFailed, "The node group could not be created: NodeCreationFailure"},
		{eksv1.StatusDeleting, nil, metav1.ConditionFalse, eksv1.ReasonDeleting, "The node group is being deleted"},
		{eksv1.StatusDeleteFailed, nil, metav1.ConditionFalse, eksv1.ReasonDeleteFailed, "The node group's cloud resources could not be deleted: no issue"},
	} {
		ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
		ng.Status.ActiveUpdate, ng.Status.Health.Issues = "u-1", tc.issues
		c.setStatus(ng, tc.status, nil)
		got := meta.FindStatusCondition(ng.Status.Conditions, eksv1.ConditionReady)
		if ng.Status.Status != tc.status || got == nil || got.Status != tc.ready || got.Reason != tc.reason || got.Message != tc.message || got.ObservedGeneration != 4 {
			t.Errorf("%s: status %s, Ready %+v; want %s %s %q", tc.status, ng.Status.Status, got, tc.ready, tc.reason, tc.message)
		}
		if meta.FindStatusCondition(ng.Status.Conditions, eksv1.ConditionNodesReady) != nil {
			t.Errorf("%s: NodesReady without a verdict", tc.status)
		}
	}
	for _, tc := range []struct {
		name   string
		v      verdict
		status metav1.ConditionStatus
		reason string
	}{
		{"all Ready", verdict{nodes: eksv1.NodeCounts{Ready: 2, Total: 2, Instances: 2}, desired: 2}, metav1.ConditionTrue, eksv1.ReasonAllNodesReady},
		{"none desired", verdict{}, metav1.ConditionTrue, eksv1.ReasonAllNodesReady},
		{"an issue names the reason", verdict{nodes: eksv1.NodeCounts{Instances: 1}, desired: 2, issues: failure}, metav1.ConditionFalse, string(eksv1.IssueNodeCreationFailure)},
		{"instances to come", verdict{nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 1}, desired: 2}, metav1.ConditionFalse, eksv1.ReasonWaitingForNodes},
		{"nodes to register", verdict{nodes: eksv1.NodeCounts{Ready: 1, Total: 1, Instances: 2}, desired: 2}, metav1.ConditionFalse, eksv1.ReasonWaitingForNodes},
		{"registered, not Ready", verdict{nodes: eksv1.NodeCounts{Ready: 1, Total: 2, Instances: 2}, desired: 2}, metav1.ConditionFalse, eksv1.ReasonNodesUnavailable},
	} {
		ng := &eksv1.NodeGroup{}
		c.setStatus(ng, eksv1.StatusActive, &tc.v)
		got := meta.FindStatusCondition(ng.Status.Conditions, eksv1.ConditionNodesReady)
		want := fmt.Sprintf("%d of %d nodes Ready", tc.v.nodes.Ready, tc.v.desired)
		if got == nil || got.Status != tc.status || got.Reason != tc.reason || got.Message != want {
			t.Errorf("%s: NodesReady %+v, want %s %s %q", tc.name, got, tc.status, tc.reason, want)
		}
	}
}

func TestHasIssue(t *testing.T) {
	issues := []eksv1.Issue{{Code: eksv1.IssueNodeCreationFailure, ResourceIDs: []string{"i-1", "i-2"}}, {Code: eksv1.IssueAsgInstanceLaunchFailures, Message: "old"}}
	for _, tc := range []struct {
		issue eksv1.Issue
		want  bool
	}{
		{eksv1.Issue{Code: eksv1.IssueNodeCreationFailure, ResourceIDs: []string{"i-1", "i-2"}}, true},
		{eksv1.Issue{Code: eksv1.IssueNodeCreationFailure, ResourceIDs: []string{"i-1"}}, false}, // another instance is late: a new event
		{eksv1.Issue{Code: eksv1.IssueAsgInstanceLaunchFailures, Message: "new"}, true},          // the message alone is no new issue
		{eksv1.Issue{Code: eksv1.IssueInsufficientFreeAddresses}, false},
	} {
		if got := hasIssue(issues, tc.issue); got != tc.want {
			t.Errorf("hasIssue(%+v) = %v, want %v", tc.issue, got, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{issueCodes(nil), "no issue"},
		{issueCodes([]eksv1.Issue{{Code: eksv1.IssueAmiIDNotFound}}), "AmiIdNotFound"},
		{joinIDs([]string{"i-1"}), "i-1"},
		{joinIDs([]string{"i-1", "i-2", "i-3"}), "i-1 i-2 i-3"},
		{joinIDs([]string{"i-1", "i-2", "i-3", "i-4", "i-5"}), "i-1 i-2 i-3 and 2 more"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

func TestGroupIssue(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want eksv1.IssueCode
	}{
		{cloud.Invalid("subnetIds", "unknown subnet %q", "subnet-1"), eksv1.IssueEc2SubnetNotFound},
		{cloud.Invalid("instanceTypes", "unknown instance type %q", "m5.huge"), eksv1.IssueEc2InstanceTypeDoesNotExist},
		{cloud.Invalid("launchTemplate", "no such template"), eksv1.IssueEc2LaunchTemplateNotFound},
		{cloud.Invalid("maxSize", "must be at most 1000"), eksv1.IssueAutoScalingGroupInvalidConfiguration},
		{fmt.Errorf("creating: %w", cloud.Invalid("subnetIds", "x")), eksv1.IssueEc2SubnetNotFound},
		{errors.New("something else"), eksv1.IssueAutoScalingGroupInvalidConfiguration},
	} {
		got := groupIssue("eks-web-x", tc.err)
		if got.Code != tc.want || got.Message != tc.err.Error() || len(got.ResourceIDs) != 1 || got.ResourceIDs[0] != "eks-web-x" {
			t.Errorf("groupIssue(%v) = %+v, want %s", tc.err, got, tc.want)
		}
	}
}

func TestInstanceTypes(t *testing.T) {
	ng := func(types ...string) *eksv1.NodeGroup {
		return &eksv1.NodeGroup{Spec: eksv1.NodeGroupSpec{InstanceTypes: types}}
	}
	lt := &resources.Source{Data: cloud.LaunchTemplateData{InstanceType: "c5.large"}}
	for _, tc := range []struct{ got, want string }{
		{instanceTypes(ng("m5.large"), nil), "m5.large"},
		{instanceTypes(ng("m5.large", "m5a.large"), lt), "m5.large,m5a.large"},
		{instanceTypes(ng(), lt), "c5.large"},
		{instanceTypes(ng(), &resources.Source{}), ""},
		{instanceTypes(ng(), nil), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("instanceTypes = %q, want %q", tc.got, tc.want)
		}
	}
}
