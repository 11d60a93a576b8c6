package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// eksNow is the fixed clock of the EKS views' golden files.
var eksNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *types.Timestamp {
	return types.NewTimestamp(eksNow.Add(-d).Add(123 * time.Millisecond))
}

func goldenNodegroups() []*eks.NodegroupProgress {
	i := func(v int32) *int32 { return &v }
	yes := true
	return []*eks.NodegroupProgress{
		{Nodegroup: &types.Nodegroup{
			NodegroupName: "web", ClusterName: "kdp", Status: types.NodegroupStatusActive,
			NodegroupArn: "arn:aws:eks:us-east-1:123456789012:nodegroup/kdp/web/5f689e5d", Version: "1.37", ReleaseVersion: "1.37.2-20261101",
			AmiType: "AL2023_x86_64_STANDARD", CapacityType: types.CapacityTypesOnDemand, InstanceTypes: []string{"m5.large", "m5a.large"},
			ScalingConfig: &types.NodegroupScalingConfig{MinSize: i(1), MaxSize: i(3), DesiredSize: i(2)}, DiskSize: i(20),
			Subnets: []string{"subnet-a", "subnet-b"}, NodeRole: "arn:aws:iam::123456789012:role/KdpNodeRole",
			Labels: map[string]string{"tier": "front", "team": "web"}, Taints: []types.Taint{{Key: "dedicated", Value: "web", Effect: types.TaintEffectNoSchedule}},
			UpdateConfig:     &types.NodegroupUpdateConfig{MaxUnavailablePercentage: i(50), UpdateStrategy: "MINIMAL"},
			NodeRepairConfig: &types.NodeRepairConfig{Enabled: &yes},
			Resources:        &types.NodegroupResources{AutoScalingGroups: []types.AutoScalingGroup{{Name: "eks-web-5f689e5d"}}},
			Tags:             map[string]string{"env": "prod"}, CreatedAt: at(49 * time.Hour), ModifiedAt: at(3 * time.Minute),
			Health: &types.NodegroupHealth{},
		}, ReadyNodes: 2, Nodes: 2, Instances: 2},
		{Nodegroup: &types.Nodegroup{
			NodegroupName: "batch", ClusterName: "kdp", Status: types.NodegroupStatusDegraded, Version: "1.37", ReleaseVersion: "1.37.2-20261015",
			CapacityType: types.CapacityTypesSpot, InstanceTypes: []string{"c5.large"},
			ScalingConfig: &types.NodegroupScalingConfig{MinSize: i(0), MaxSize: i(10), DesiredSize: i(4)},
			CreatedAt:     at(90 * time.Second),
			Health: &types.NodegroupHealth{Issues: []types.Issue{{Code: "AsgInstanceLaunchFailures", Message: "Could not launch Spot Instances: InsufficientInstanceCapacity",
				ResourceIds: []string{"eks-batch-0c1d"}}}},
		}, ReadyNodes: 1, Nodes: 1, Instances: 1},
	}
}

func goldenUpdates() []*types.Update {
	return []*types.Update{
		{Id: "f0a05026-cd29-54a4-be87-0336643bf824", Type: types.UpdateTypeConfigUpdate, Status: types.UpdateStatusSuccessful,
			Params: []types.UpdateParam{{Type: "DesiredSize", Value: "3"}}, CreatedAt: at(2 * time.Hour)},
		{Id: "200d6abe-6211-5867-87fa-f30c713a1a6d", Type: types.UpdateTypeVersionUpdate, Status: types.UpdateStatusFailed,
			Params: []types.UpdateParam{{Type: "ReleaseVersion", Value: "1.37.2-20261101"}}, CreatedAt: at(20 * time.Minute),
			Errors: []types.ErrorDetail{{ErrorCode: "PodEvictionFailure", ErrorMessage: "Reached max retries while trying to evict pods from nodes in node group web",
				ResourceIds: []string{"shop/web-7c9"}}}},
	}
}

func goldenProgress() *eks.UpdateProgress {
	return &eks.UpdateProgress{
		Update: &types.Update{Id: "58d89c6b-b4e6-5315-98f1-bcc8afb58235", Type: types.UpdateTypeVersionUpdate, Status: types.UpdateStatusInProgress,
			Params: []types.UpdateParam{{Type: "Version", Value: "1.37"}, {Type: "ReleaseVersion", Value: "1.37.2-20261101"}}, CreatedAt: at(5 * time.Minute)},
		Phase: "Upgrade", PhaseStartedAt: eksNow.Add(-4 * time.Minute), NodesToReplace: 3, NodesReplaced: 1, PodsEvicted: 4,
		EvictionTimeout: 15 * time.Minute,
		Draining: []eks.DrainingNode{
			{NodeName: "ip-10-0-32-5.ec2.internal", InstanceID: "i-71ec7830ccd6835cb", StartedAt: eksNow.Add(-3*time.Minute - 12*time.Second),
				BlockedBy: []string{"shop/web-7c9: PodDisruptionBudget shop/web (0 disruptions allowed)", "shop/cache-1: terminating"}},
			{NodeName: "ip-10-0-64-5.ec2.internal", InstanceID: "i-f5369217696cebc5b", StartedAt: eksNow.Add(-time.Minute), Drained: true},
		},
	}
}

func goldenProfiles() []*types.FargateProfile {
	return []*types.FargateProfile{
		{FargateProfileName: "serverless", ClusterName: "kdp", Status: types.FargateProfileStatusActive,
			FargateProfileArn:   "arn:aws:eks:us-east-1:123456789012:fargateprofile/kdp/serverless/1a2b",
			PodExecutionRoleArn: "arn:aws:iam::123456789012:role/KdpFargatePodExecutionRole", Subnets: []string{"subnet-a", "subnet-b"},
			Selectors: []types.FargateProfileSelector{{Namespace: "serverless"}, {Namespace: "prod-*", Labels: map[string]string{"app": "web", "tier": "front"}}},
			Tags:      map[string]string{"team": "platform"}, CreatedAt: at(26 * time.Hour), Health: &types.FargateProfileHealth{}},
		{FargateProfileName: "batch", ClusterName: "kdp", Status: types.FargateProfileStatusCreating, Subnets: []string{"subnet-c"},
			Selectors: []types.FargateProfileSelector{{Namespace: "batch"}}, CreatedAt: at(4 * time.Second)},
	}
}

// TestEKSViewsGolden pins every human view and document of the node
// group, update and Fargate profile commands.
func TestEKSViewsGolden(t *testing.T) {
	groups, updates, prog, profiles := goldenNodegroups(), goldenUpdates(), goldenProgress(), goldenProfiles()
	cases := []struct {
		name  string
		print func(*bytes.Buffer) error
	}{
		{"nodegroup-list.golden", func(b *bytes.Buffer) error { return printNodegroupTable(b, groups, eksNow) }},
		{"nodegroup-list-empty.golden", func(b *bytes.Buffer) error { return printNodegroupTable(b, nil, eksNow) }},
		{"nodegroup-list.json.golden", func(b *bytes.Buffer) error {
			return printDocument(b, "json", &types.ListNodegroupsResponse{Nodegroups: []string{"batch", "web"}})
		}},
		{"nodegroup-describe.golden", func(b *bytes.Buffer) error { return printNodegroupDescription(b, groups[0], updates, eksNow) }},
		{"nodegroup-describe-degraded.golden", func(b *bytes.Buffer) error { return printNodegroupDescription(b, groups[1], nil, eksNow) }},
		{"nodegroup-describe.json.golden", func(b *bytes.Buffer) error {
			return printDocument(b, "json", &types.DescribeNodegroupResponse{Nodegroup: groups[0].Nodegroup})
		}},
		{"nodegroup-describe.yaml.golden", func(b *bytes.Buffer) error {
			return printDocument(b, "yaml", &types.DescribeNodegroupResponse{Nodegroup: groups[0].Nodegroup})
		}},
		{"update-list.golden", func(b *bytes.Buffer) error { return printUpdateTable(b, updates, eksNow) }},
		{"update-list.json.golden", func(b *bytes.Buffer) error {
			return printDocument(b, "json", &types.ListUpdatesResponse{UpdateIds: []string{updates[0].Id, updates[1].Id}})
		}},
		{"update-list-empty.json.golden", func(b *bytes.Buffer) error { return printDocument(b, "json", &types.ListUpdatesResponse{}) }},
		{"update-describe-progress.golden", func(b *bytes.Buffer) error { return printUpdate(b, "table", prog.Update, prog, eksNow) }},
		{"update-describe-failed.golden", func(b *bytes.Buffer) error { return printUpdate(b, "table", updates[1], nil, eksNow) }},
		{"update-describe.json.golden", func(b *bytes.Buffer) error { return printUpdate(b, "json", updates[1], nil, eksNow) }},
		{"fargate-profile-list.golden", func(b *bytes.Buffer) error { return printFargateProfileTable(b, profiles, eksNow) }},
		{"fargate-profile-describe.golden", func(b *bytes.Buffer) error { return printFargateProfileDescription(b, profiles[0], eksNow) }},
		{"fargate-profile-describe.json.golden", func(b *bytes.Buffer) error {
			return printDocument(b, "json", &types.DescribeFargateProfileResponse{FargateProfile: profiles[0]})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.print(&b); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "eks", c.name, b.String(), "TestEKSViewsGolden")
		})
	}
}

// TestVersionFrame is the live view of a version update's progress.
func TestVersionFrame(t *testing.T) {
	f := versionFrame("node group web upgrade u", goldenProgress())
	if f.Done != 1 || f.Total != 3 || f.Unit != "old nodes replaced" || f.Phase != "Upgrade" || f.Status != "InProgress" {
		t.Errorf("frame: %+v", f)
	}
	var texts []string
	for _, it := range f.Items {
		texts = append(texts, strings.Repeat("  ", it.Indent)+it.Text)
	}
	want := []string{
		"pods evicted: 4",
		"draining node ip-10-0-32-5.ec2.internal (i-71ec7830ccd6835cb)",
		"  pod shop/web-7c9 blocked by PodDisruptionBudget shop/web (0 disruptions allowed)",
		"  pod shop/cache-1 terminating",
		"node ip-10-0-64-5.ec2.internal (i-f5369217696cebc5b) drained; its instance goes after EKS's 60 s wait",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if it := f.Items[2]; !it.Since.Equal(eksNow.Add(-3*time.Minute-12*time.Second)) || it.Of != 15*time.Minute {
		t.Errorf("a blocked pod's clock: since %s of %s", it.Since, it.Of)
	}
}

func TestExplain(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		flags map[string]string
		want  string
	}{
		{"a structure's member names its part only if the message does not",
			&eks.Error{Code: eks.CodeInvalidParameter, Problems: []eks.Problem{
				{Field: "scalingConfig.minSize", Message: "Invalid value: 3: minSize (3) must not be greater than maxSize (1)"},
				{Field: "scalingConfig.maxSize", Message: "Invalid value: 0: must be between 1 and 1000"},
			}}, nodegroupFlags,
			"--scaling-config: minSize (3) must not be greater than maxSize (1)\n--scaling-config: maxSize: must be between 1 and 1000"},
		{"a string value is dropped with its quotes",
			&eks.Error{Code: eks.CodeInvalidParameter, Problems: []eks.Problem{{Field: "nodeRole", Message: `Invalid value: "a: b": must be an IAM role's ARN`}}},
			nodegroupFlags, "--node-role: must be an IAM role's ARN"},
		{"a list member keeps its index",
			&eks.Error{Code: eks.CodeInvalidParameter, Problems: []eks.Problem{{Field: "selectors[1].namespace", Message: "Required value: a selector needs a namespace"}}},
			fargateProfileFlags, "--selectors: [1].namespace: Required value: a selector needs a namespace"},
		{"a member's own flag", &eks.Error{Code: eks.CodeInvalidParameter, Problems: []eks.Problem{{Field: "scalingConfig.desiredSize", Message: "Invalid value: 9: desiredSize (9) must be between minSize (1) and maxSize (3)"}}},
			scaleFlags, "--desired: desiredSize (9) must be between minSize (1) and maxSize (3)"},
		{"a member no flag sets", &eks.Error{Code: eks.CodeInvalidParameter, Problems: []eks.Problem{{Field: "warmPoolConfig", Message: "not supported"}}},
			nodegroupFlags, "warmPoolConfig: not supported"},
		{"the library's own check of one member names its flag",
			&eks.Error{Code: eks.CodeInvalidParameter, Message: "there is no release of AL2023_x86_64_STANDARD for Kubernetes 1.99", Fields: []string{"version"}},
			nodegroupFlags, "--kubernetes-version: there is no release of AL2023_x86_64_STANDARD for Kubernetes 1.99"},
		{"an error without problems is its code and message", &eks.Error{Code: eks.CodeResourceInUse, Message: "NodeGroup already exists"},
			nodegroupFlags, "ResourceInUseException: NodeGroup already exists"},
		{"another error is left alone", errors.New("dial unix: no such file"), nodegroupFlags, "dial unix: no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := explain(c.err, c.flags).Error(); got != c.want {
				t.Errorf("explain:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
