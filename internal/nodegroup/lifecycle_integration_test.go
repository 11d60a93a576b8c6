package nodegroup_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_CreateActiveWithLabelsTaintsAndTags: a node group with
// labels, taints and tags becomes ACTIVE with its desired nodes Ready, each
// of which registered with EKS's labels, the group's labels and its taints
// (present from the Node's first version, not patched on afterwards); its
// Auto Scaling group carries EKS's tags and the user's, and a termination
// hook; its status is DescribeNodegroup's.
func TestIntegration_CreateActiveWithLabelsTaintsAndTags(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := group(t, "web", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 5, DesiredSize: 3}
		s.InstanceTypes = []string{"m5.large"}
		s.Labels = map[string]string{"team": "web"}
		s.Taints = []eksv1.Taint{{Key: "dedicated", Value: "web", Effect: eksv1.NoSchedule}}
		s.Tags = map[string]string{"cost-center": "42"}
	})
	defer deleteGroup(t, ng.Name, time.Minute)
	got := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)

	// Defaults written in, as EKS describes a group.
	s := got.Spec
	if s.AMIType != eksv1.AL2023x86Standard || s.Version != "1.37" || !strings.HasPrefix(s.ReleaseVersion, "1.37.") || *s.DiskSize != 20 ||
		s.CapacityType != eksv1.OnDemand || len(s.Subnets) != 3 || *s.UpdateConfig.MaxUnavailable != 1 {
		t.Errorf("defaults: %+v", s)
	}
	st := got.Status
	asg := resources.ASGName(got)
	if st.Nodes.Ready != 3 || st.NodegroupArn != "arn:aws:eks:us-east-1:123456789012:nodegroup/"+clusterName+"/web/"+string(got.UID) ||
		st.ClusterName != clusterName || st.CreatedAt == nil || len(st.Resources.AutoScalingGroups) != 1 || st.Resources.AutoScalingGroups[0].Name != asg ||
		st.ReleaseVersion != s.ReleaseVersion || st.InstanceTypes != "m5.large" || len(st.Health.Issues) != 0 || st.ObservedGeneration != got.Generation {
		t.Errorf("status: %+v", st)
	}
	if !meta.IsStatusConditionTrue(st.Conditions, eksv1.ConditionReady) || !meta.IsStatusConditionTrue(st.Conditions, eksv1.ConditionNodesReady) {
		t.Errorf("conditions: %+v", st.Conditions)
	}

	// The Auto Scaling group: EKS's tags, the user's, the hook.
	g, err := k.provider.GetGroup(ctx, asg)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"eks:cluster-name": clusterName, "eks:nodegroup-name": "web", "kubernetes.io/cluster/" + clusterName: "owned",
		"k8s.io/cluster-autoscaler/enabled": "true", "k8s.io/cluster-autoscaler/" + clusterName: "owned", "cost-center": "42",
	} {
		if g.Tags[key] != want {
			t.Errorf("group tag %s = %q, want %q (tags %v)", key, g.Tags[key], want, g.Tags)
		}
	}
	if len(g.LifecycleHooks) != 1 || g.LifecycleHooks[0].Name != resources.TerminateHook || g.LifecycleHooks[0].Transition != cloud.HookTerminating ||
		g.LifecycleHooks[0].HeartbeatTimeout.Duration != 30*time.Minute || g.LifecycleHooks[0].DefaultResult != cloud.ResultContinue {
		t.Errorf("hooks: %+v", g.LifecycleHooks)
	}
	if g.MinSize != 1 || g.MaxSize != 5 || g.DesiredCapacity != 3 || !slices.Equal(g.InstanceTypes, []string{"m5.large"}) {
		t.Errorf("group: %+v", g)
	}

	// The nodes: registered with every label and taint, in their first
	// version (a label patched on later would not be in a Node whose
	// metadata.generation is 1 ... Nodes have none, so look at the managed
	// fields: only the kubelet wrote them).
	nodes := nodesOf(t, "web")
	if len(nodes) != 3 {
		t.Fatalf("%d nodes", len(nodes))
	}
	for _, n := range nodes {
		for key, want := range map[string]string{
			eksv1.LabelNodegroup: "web", eksv1.LabelCapacityType: "ON_DEMAND", "team": "web",
			eksv1.LabelNodegroupImage: "", "node.kubernetes.io/instance-type": "m5.large",
		} {
			if v, ok := n.Labels[key]; !ok || (want != "" && v != want) {
				t.Errorf("node %s: label %s = %q, want %q", n.Name, key, v, want)
			}
		}
		if !strings.HasPrefix(n.Labels[eksv1.LabelNodegroupImage], "ami-") {
			t.Errorf("node %s: image label %q", n.Name, n.Labels[eksv1.LabelNodegroupImage])
		}
		if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == "dedicated" && t.Value == "web" && t.Effect == corev1.TaintEffectNoSchedule
		}) {
			t.Errorf("node %s: taints %v", n.Name, n.Spec.Taints)
		}
		for _, mf := range n.ManagedFields {
			if mf.Manager != "kubelet" && strings.Contains(string(mf.FieldsV1.Raw), `"f:labels"`) {
				t.Errorf("node %s: labels written by %s, not at registration", n.Name, mf.Manager)
			}
		}
	}
	if len(events(t, "web", "CreatedAutoScalingGroup")) == 0 || len(events(t, "web", "Active")) == 0 {
		t.Error("no CreatedAutoScalingGroup and Active events on the node group")
	}
	_ = ctx
}

// waitNodes waits until a group has n Ready nodes.
func waitReady(t testing.TB, name string, n int32, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		ng := &eksv1.NodeGroup{}
		if err := env.Client.Get(context.Background(), clientKey(name), ng); err != nil {
			return err
		}
		if ng.Status.Nodes.Ready != n || ng.Status.Nodes.Instances != n {
			return errorf("node group %s: %d Ready of %d instances, want %d (status %s)", name, ng.Status.Nodes.Ready, ng.Status.Nodes.Instances, n, ng.Status.Status)
		}
		return nil
	})
}
