package nodegroup_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_DeleteDrainsEveryNodeThenRemovesEverything: a deleted
// group is DELETING while each node is drained (its pods evicted and
// rescheduled) and its instance terminated; then its Auto Scaling group,
// launch template and bootstrap token are gone, and so is the object.
func TestIntegration_DeleteDrainsEveryNodeThenRemovesEverything(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ns := env.Namespace(t)
	ng := group(t, "doomed", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 2}
	})
	got := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "tenant", ng.Name, 2, false)
	waitAvailable(t, ns, "tenant", 2, time.Minute)
	nodes := nodesOf(t, ng.Name)
	lt := got.Status.Resources.LaunchTemplate

	if err := env.Client.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		now := &eksv1.NodeGroup{}
		if err := env.Client.Get(ctx, clientKey(ng.Name), now); err != nil {
			return err
		}
		if now.Status.Status != eksv1.StatusDeleting {
			return errorf("status %s, want DELETING", now.Status.Status)
		}
		return nil
	})
	deleteGroup(t, ng.Name, time.Minute)

	if _, err := k.provider.GetGroup(ctx, resources.ASGName(got)); !cloud.IsNotFound(err) {
		t.Errorf("Auto Scaling group: %v, want not found", err)
	}
	if _, err := k.provider.GetLaunchTemplate(ctx, cloud.TemplateRef{ID: lt.ID}); !cloud.IsNotFound(err) {
		t.Errorf("launch template %s: %v, want not found", lt.ID, err)
	}
	secret := bootstraputil.BootstrapTokenSecretName(resources.TokenID(got))
	if _, err := env.Clientset.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, secret, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("bootstrap token %s: %v, want not found", secret, err)
	}
	if n := len(nodesOf(t, ng.Name)); n != 0 {
		t.Errorf("%d nodes left", n)
	}
	// Every node was drained, its pods evicted (not just lost with it).
	drained := events(t, ng.Name, "Drained")
	for _, n := range nodes {
		if !slices.ContainsFunc(drained, func(e corev1.Event) bool {
			return strings.Contains(e.Message, n.Name) && strings.Contains(e.Message, "node group deletion")
		}) {
			t.Errorf("node %s: no Drained event for the deletion (%d Drained events)", n.Name, len(drained))
		}
	}
	evicted := 0
	for _, e := range eventsIn(t, ns, "Evicted") {
		if strings.Contains(e.Message, "node group deletion") {
			evicted++
		}
	}
	if evicted != 2 {
		t.Errorf("%d pods evicted for the deletion, want 2", evicted)
	}
}

// TestIntegration_DeleteFailedWhileTheTemplateIsInUse: when the group's
// launch template cannot be deleted (another Auto Scaling group launches
// from it), the group is DELETE_FAILED with Ec2LaunchTemplateDeletionFailure
// naming the template, and goes once the template is free.
func TestIntegration_DeleteFailedWhileTheTemplateIsInUse(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := group(t, "shared", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 1, DesiredSize: 0}
	})
	got := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	lt := got.Status.Resources.LaunchTemplate
	if _, err := k.provider.CreateGroup(ctx, cloud.GroupInput{
		Name: "someone-elses", LaunchTemplate: cloud.TemplateRef{ID: lt.ID}, MaxSize: 1, InstanceTypes: []string{"t3.medium"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	failed := waitStatus(t, ng.Name, eksv1.StatusDeleteFailed, time.Minute)
	issues := failed.Status.Health.Issues
	if len(issues) != 1 || issues[0].Code != eksv1.IssueEc2LaunchTemplateDeletionFailure || !slices.Equal(issues[0].ResourceIDs, []string{lt.Name}) {
		t.Errorf("issues %+v", issues)
	}
	if len(events(t, ng.Name, "DeleteFailed")) != 1 {
		t.Error("no single DeleteFailed event")
	}
	if err := k.provider.DeleteGroup(ctx, "someone-elses"); err != nil {
		t.Fatal(err)
	}
	deleteGroup(t, ng.Name, time.Minute)
}

// TestIntegration_HealthIssues: a group whose instances cannot launch (no
// capacity of its type in any zone) reports AsgInstanceLaunchFailures
// while CREATING and is CREATE_FAILED once the creation timeout (15
// minutes, time-scaled) passes, and stays so; an ACTIVE group that cannot
// grow is DEGRADED with the issue, and ACTIVE again once capacity is back.
func TestIntegration_HealthIssues(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	subnets, err := k.provider.Subnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limit := func(instanceType string, n int) {
		t.Helper()
		for _, s := range subnets {
			if err := k.provider.SetCapacity(ctx, instanceType, s.Zone, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	limit("c6i.large", 0)
	t.Cleanup(func() { limit("c6i.large", -1); limit("m5.xlarge", -1) })

	ng := group(t, "starved", func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"c6i.large"} })
	defer deleteGroup(t, ng.Name, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error {
		ng := get(t, ng.Name)
		if ng.Status.Status != eksv1.StatusCreating || !hasIssue(ng, eksv1.IssueAsgInstanceLaunchFailures) {
			return errorf("status %s, issues %+v", ng.Status.Status, ng.Status.Health.Issues)
		}
		return nil
	})
	failed := waitStatus(t, ng.Name, eksv1.StatusCreateFailed, time.Minute)
	// Not before the creation timeout (from createdAt, as the status has
	// it), and then.
	deadline := failed.Status.CreatedAt.Add(15 * time.Minute / 100)
	if e := events(t, ng.Name, "CreateFailed"); len(e) != 1 || e[0].EventTime.Time.Before(deadline) || e[0].EventTime.Sub(deadline) > 2*time.Second {
		t.Errorf("CreateFailed events %+v, want one at %s", e, deadline)
	}
	i := issue(failed, eksv1.IssueAsgInstanceLaunchFailures)
	if i == nil || !strings.Contains(i.Message, "sufficient c6i.large capacity") || !slices.Equal(i.ResourceIDs, []string{resources.ASGName(failed)}) {
		t.Errorf("issues %+v", failed.Status.Health.Issues)
	}
	if !metaFalse(failed, eksv1.ConditionReady) {
		t.Errorf("conditions %+v", failed.Status.Conditions)
	}
	limit("c6i.large", -1) // capacity back: a failed group stays failed (EKS's)
	testenv.Eventually(t, 10*time.Second, func() error {
		if st := get(t, ng.Name).Status; st.Nodes.Ready == 0 {
			return errorf("no node Ready yet")
		}
		return nil
	})
	if st := get(t, ng.Name).Status.Status; st != eksv1.StatusCreateFailed {
		t.Errorf("a failed group became %s", st)
	}

	// DEGRADED, then ACTIVE again.
	grow := group(t, "grow", func(s *eksv1.NodeGroupSpec) {
		s.InstanceTypes = []string{"m5.xlarge"}
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 1}
	})
	defer deleteGroup(t, grow.Name, time.Minute)
	waitStatus(t, grow.Name, eksv1.StatusActive, time.Minute)
	limit("m5.xlarge", 0)
	edit(t, grow.Name, func(s *eksv1.NodeGroupSpec) { s.ScalingConfig.DesiredSize = 2 })
	degraded := waitStatus(t, grow.Name, eksv1.StatusDegraded, time.Minute)
	if !hasIssue(degraded, eksv1.IssueAsgInstanceLaunchFailures) {
		t.Errorf("issues %+v", degraded.Status.Health.Issues)
	}
	if len(events(t, grow.Name, "Degraded")) == 0 {
		t.Error("no Degraded event")
	}
	limit("m5.xlarge", -1)
	// ACTIVE once the launch succeeds (the issue is gone), with the new
	// node Ready soon after.
	active := waitStatus(t, grow.Name, eksv1.StatusActive, time.Minute)
	if len(active.Status.Health.Issues) != 0 {
		t.Errorf("recovered with issues: %+v", active.Status.Health.Issues)
	}
	waitReady(t, grow.Name, 2, time.Minute)
}

func hasIssue(ng *eksv1.NodeGroup, code eksv1.IssueCode) bool { return issue(ng, code) != nil }

func issue(ng *eksv1.NodeGroup, code eksv1.IssueCode) *eksv1.Issue {
	for i := range ng.Status.Health.Issues {
		if ng.Status.Health.Issues[i].Code == code {
			return &ng.Status.Health.Issues[i]
		}
	}
	return nil
}

func metaFalse(ng *eksv1.NodeGroup, condition string) bool {
	for _, c := range ng.Status.Conditions {
		if c.Type == condition {
			return c.Status == metav1.ConditionFalse
		}
	}
	return false
}
