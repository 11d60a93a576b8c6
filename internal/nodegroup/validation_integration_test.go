package nodegroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestIntegration_EveryRuleIsRefusedThroughTheAPIServer is the table of
// EKS's rules as a user meets them: each bad NodeGroup, created through
// the API server (the webhook, the schema and CEL), is refused with an
// error whose causes name the field, and nothing is created. Immutable
// fields and the 30-group limit follow.
func TestIntegration_EveryRuleIsRefusedThroughTheAPIServer(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	// A user's launch templates: one that names an instance type, one with
	// its own (arm) image.
	sized, err := k.provider.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "sized", LaunchTemplateData: cloud.LaunchTemplateData{InstanceType: "m5.large"}})
	if err != nil {
		t.Fatal(err)
	}
	var arm string
	for _, img := range k.cloud.Catalog().Images() {
		if img.Type == string(eksv1.AL2023ARMStandard) {
			arm = img.ID
		}
	}
	custom, err := k.provider.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "custom-image", LaunchTemplateData: cloud.LaunchTemplateData{ImageID: arm}})
	if err != nil {
		t.Fatal(err)
	}
	lt := func(s *eksv1.NodeGroupSpec, id string) { s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: id} }
	groupsBefore := groupCount(t, k.provider)

	for _, c := range []struct {
		name   string
		ng     string
		spec   func(*eksv1.NodeGroupSpec)
		field  string
		detail string
	}{
		{name: "name too long", ng: strings.Repeat("a", 64), field: "metadata.name"},
		{name: "name pattern", ng: "-web", field: "metadata.name"},
		{name: "min above max", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 3, MaxSize: 2, DesiredSize: 2}
		}, field: "spec.scalingConfig.minSize"},
		{name: "desired below min", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 2, MaxSize: 4, DesiredSize: 1}
		}, field: "spec.scalingConfig.desiredSize"},
		{name: "desired above max", spec: func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = &eksv1.ScalingConfig{MaxSize: 4, DesiredSize: 5} }, field: "spec.scalingConfig.desiredSize"},
		{name: "max above 450", spec: func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = &eksv1.ScalingConfig{MaxSize: 451, DesiredSize: 1} }, field: "spec.scalingConfig.maxSize"},
		{name: "desired above 450", spec: func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = &eksv1.ScalingConfig{MaxSize: 451, DesiredSize: 451} }, field: "spec.scalingConfig.desiredSize"},
		{name: "unknown instance type", spec: func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"m5.huge"} }, field: "spec.instanceTypes[0]", detail: "Ec2InstanceTypeDoesNotExist"},
		{name: "arm type on an x86 AMI", spec: func(s *eksv1.NodeGroupSpec) {
			s.InstanceTypes, s.AMIType = []string{"m5.large", "m7g.medium"}, eksv1.AL2023x86Standard
		}, field: "spec.instanceTypes[1]", detail: "arm64"},
		{name: "unknown AMI type", spec: func(s *eksv1.NodeGroupSpec) { s.AMIType = "AL2_x86_64" }, field: "spec.amiType"},
		{name: "CUSTOM without a template", spec: func(s *eksv1.NodeGroupSpec) { s.AMIType = eksv1.CustomAMI }, field: "spec.amiType"},
		{name: "unknown subnet", spec: func(s *eksv1.NodeGroupSpec) { s.Subnets = []string{"subnet-0123456789abcdef0"} }, field: "spec.subnets[0]", detail: "Ec2SubnetNotFound"},
		{name: "node role not an ARN", spec: func(s *eksv1.NodeGroupSpec) { s.NodeRole = "NodeRole" }, field: "spec.nodeRole"},
		{name: "disk too large", spec: func(s *eksv1.NodeGroupSpec) { s.DiskSize = ptr.To[int32](20000) }, field: "spec.diskSize"},
		{name: "51 taints", spec: func(s *eksv1.NodeGroupSpec) {
			for i := range 51 {
				s.Taints = append(s.Taints, eksv1.Taint{Key: fmt.Sprintf("k%d", i), Effect: eksv1.NoSchedule})
			}
		}, field: "spec.taints"},
		{name: "taint key too long", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: strings.Repeat("k", 64), Effect: eksv1.NoSchedule}}
		}, field: "spec.taints[0].key"},
		{name: "taint value too long", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: "k", Value: strings.Repeat("v", 64), Effect: eksv1.NoSchedule}}
		}, field: "spec.taints[0].value"},
		{name: "taint effect in Kubernetes' spelling", spec: func(s *eksv1.NodeGroupSpec) { s.Taints = []eksv1.Taint{{Key: "k", Effect: "NoSchedule"}} }, field: "spec.taints[0].effect"},
		{name: "label key too long", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{strings.Repeat("l", 64): "v"} }, field: "spec.labels[" + strings.Repeat("l", 64) + "]"},
		{name: "label value too long", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"team": strings.Repeat("v", 64)} }, field: "spec.labels[team]"},
		{name: "label a kubelet may not register", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"node-role.kubernetes.io/worker": "true"} }, field: "spec.labels[node-role.kubernetes.io/worker]"},
		{name: "51 tags", spec: func(s *eksv1.NodeGroupSpec) {
			s.Tags = map[string]string{}
			for i := range 51 {
				s.Tags[fmt.Sprintf("t%d", i)] = "v"
			}
		}, field: "spec.tags"},
		{name: "tag key too long", spec: func(s *eksv1.NodeGroupSpec) { s.Tags = map[string]string{strings.Repeat("t", 129): "v"} }, field: "spec.tags[" + strings.Repeat("t", 129) + "]"},
		{name: "tag value too long", spec: func(s *eksv1.NodeGroupSpec) { s.Tags = map[string]string{"team": strings.Repeat("v", 257)} }, field: "spec.tags[team]"},
		{name: "aws: tag", spec: func(s *eksv1.NodeGroupSpec) { s.Tags = map[string]string{"aws:cost": "1"} }, field: "spec.tags[aws:cost]"},
		{name: "maxUnavailable 0", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](0)} }, field: "spec.updateConfig.maxUnavailable"},
		{name: "maxUnavailable 101", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](101)} }, field: "spec.updateConfig.maxUnavailable"},
		{name: "both maxUnavailable forms", spec: func(s *eksv1.NodeGroupSpec) {
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1), MaxUnavailablePercentage: ptr.To[int32](10)}
		}, field: "spec.updateConfig"},
		{name: "newer than the cluster", spec: func(s *eksv1.NodeGroupSpec) { s.Version = "1.38" }, field: "spec.version"},
		{name: "older than the kubelet's skew", spec: func(s *eksv1.NodeGroupSpec) { s.Version = "1.33" }, field: "spec.version"},
		{name: "unknown release", spec: func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20200101" }, field: "spec.releaseVersion"},
		{name: "capacity type", spec: func(s *eksv1.NodeGroupSpec) { s.CapacityType = "CAPACITY_BLOCK" }, field: "spec.capacityType"},
		{name: "template id and name", spec: func(s *eksv1.NodeGroupSpec) {
			s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: sized.ID, Name: "sized"}
		}, field: "spec.launchTemplate"},
		{name: "unknown template", spec: func(s *eksv1.NodeGroupSpec) { s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{Name: "nobodys"} }, field: "spec.launchTemplate"},
		{name: "disk size with a template", spec: func(s *eksv1.NodeGroupSpec) { lt(s, sized.ID); s.DiskSize = ptr.To[int32](30) }, field: "spec.diskSize"},
		{name: "remote access with a template", spec: func(s *eksv1.NodeGroupSpec) {
			lt(s, sized.ID)
			s.RemoteAccess = &eksv1.RemoteAccessConfig{EC2SshKey: "k"}
		}, field: "spec.remoteAccess"},
		{name: "instance types with a template that names one", spec: func(s *eksv1.NodeGroupSpec) { lt(s, sized.ID); s.InstanceTypes = []string{"m5.xlarge"} }, field: "spec.instanceTypes"},
		{name: "an AMI type with a template's own image", spec: func(s *eksv1.NodeGroupSpec) { lt(s, custom.ID); s.AMIType = eksv1.AL2023ARMStandard }, field: "spec.amiType"},
		{name: "x86 types for a template's arm image", spec: func(s *eksv1.NodeGroupSpec) { lt(s, custom.ID); s.InstanceTypes = []string{"m5.large"} }, field: "spec.instanceTypes[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := c.ng
			if name == "" {
				name = "bad"
			}
			ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}
			if c.spec != nil {
				c.spec(&ng.Spec)
			}
			err := env.Client.Create(ctx, ng)
			if err == nil {
				_ = env.Client.Delete(ctx, ng)
				t.Fatalf("created; want a refusal naming %s", c.field)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("%v: want 422 Invalid", err)
			}
			if !namesField(err, c.field, c.detail) {
				t.Fatalf("no cause for %s (with %q): %v", c.field, c.detail, err)
			}
		})
	}

	// Every problem at once.
	many := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "many"}, Spec: eksv1.NodeGroupSpec{
		ScalingConfig: &eksv1.ScalingConfig{MinSize: 3, MaxSize: 2, DesiredSize: 5},
		InstanceTypes: []string{"m5.huge"}, Tags: map[string]string{"aws:x": "y"},
		Taints: []eksv1.Taint{{Key: "k", Effect: "bad"}},
	}}
	err = env.Client.Create(ctx, many)
	for _, field := range []string{"spec.scalingConfig.minSize", "spec.scalingConfig.desiredSize", "spec.instanceTypes[0]", "spec.taints[0].effect", "spec.tags[aws:x]"} {
		if !namesField(err, field, "") {
			t.Errorf("no cause for %s: %v", field, err)
		}
	}
	if n := groupCount(t, k.provider); n != groupsBefore {
		t.Errorf("%d Auto Scaling groups after refusals, want %d", n, groupsBefore)
	}

	// Fixed after create.
	ng := group(t, "fixed", func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = &eksv1.ScalingConfig{MaxSize: 1} })
	defer deleteGroup(t, ng.Name, time.Minute)
	waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	for _, c := range []struct {
		field  string
		mutate func(*eksv1.NodeGroupSpec)
	}{
		{"spec.subnets", func(s *eksv1.NodeGroupSpec) { s.Subnets = s.Subnets[:1] }},
		{"spec.instanceTypes", func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"m5.large"} }},
		{"spec.capacityType", func(s *eksv1.NodeGroupSpec) { s.CapacityType = eksv1.Spot }},
		{"spec.amiType", func(s *eksv1.NodeGroupSpec) { s.AMIType = eksv1.Bottlerocketx86 }},
		{"spec.nodeRole", func(s *eksv1.NodeGroupSpec) { s.NodeRole = "arn:aws:iam::123456789012:role/Other" }},
		{"spec.diskSize", func(s *eksv1.NodeGroupSpec) { s.DiskSize = ptr.To[int32](50) }},
		{"spec.remoteAccess", func(s *eksv1.NodeGroupSpec) { s.RemoteAccess = &eksv1.RemoteAccessConfig{EC2SshKey: "k"} }},
		{"spec.launchTemplate", func(s *eksv1.NodeGroupSpec) { s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: sized.ID} }},
	} {
		t.Run("immutable "+c.field, func(t *testing.T) {
			before := get(t, ng.Name)
			err := tryEdit(before.DeepCopy(), c.mutate)
			if !apierrors.IsInvalid(err) || !namesField(err, c.field, "") {
				t.Fatalf("changing %s: %v, want a refusal naming it", c.field, err)
			}
			if after := get(t, ng.Name); after.Generation != before.Generation {
				t.Errorf("a refused change changed the group")
			}
		})
	}

	// 30 node groups per cluster.
	for i := range 29 { // with "fixed", 30
		g := group(t, fmt.Sprintf("filler-%d", i), func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = &eksv1.ScalingConfig{MaxSize: 1} })
		defer deleteGroup(t, g.Name, time.Minute)
	}
	err = env.Client.Create(ctx, &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "thirty-first"}})
	if !namesField(err, "metadata.name", "ResourceLimitExceeded") {
		t.Errorf("the 31st group: %v, want ResourceLimitExceeded", err)
	}
}

// namesField says whether err is an API error with a cause for field
// whose message contains detail.
func namesField(err error, field, detail string) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if c.Field == field && strings.Contains(c.Message, detail) {
			return true
		}
	}
	return false
}

func groupCount(t testing.TB, p cloud.Provider) int {
	t.Helper()
	groups, _, err := p.ListGroups(context.Background(), cloud.Page{MaxResults: cloud.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(groups)
}
