package validation

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

func facts(t *testing.T) *Facts {
	t.Helper()
	c, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFacts(c.InstanceTypes(), c.Images(), c.Subnets())
	f.ClusterVersion, f.Account = "1.37", "123456789012"
	return f
}

func group(name string, mutate func(*eksv1.NodeGroupSpec)) *eksv1.NodeGroup {
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mutate != nil {
		mutate(&ng.Spec)
	}
	return ng
}

func TestDefaultsAreEKSs(t *testing.T) {
	f := facts(t)
	ng := group("web", nil)
	Default(ng, nil, f)
	s := ng.Spec
	if *s.ScalingConfig != (eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 2}) || len(s.InstanceTypes) != 1 || s.InstanceTypes[0] != "t3.medium" ||
		*s.DiskSize != 20 || s.CapacityType != eksv1.OnDemand || *s.UpdateConfig.MaxUnavailable != 1 || s.AMIType != eksv1.AL2023x86Standard ||
		s.Version != "1.37" || s.ReleaseVersion != "1.37.2-20261101" || len(s.Subnets) != 3 || s.NodeRole != "arn:aws:iam::123456789012:role/KdpNodeRole" {
		t.Fatalf("defaults: %+v", s)
	}
	if errs := Validate(ng, nil, f); len(errs) != 0 {
		t.Fatalf("the defaults do not validate: %v", errs.ToAggregate())
	}
	for _, c := range []struct {
		types []string
		want  eksv1.AMIType
	}{
		{[]string{"m7g.large"}, eksv1.AL2023ARMStandard},
		{[]string{"g5.xlarge"}, eksv1.AL2023x86NVIDIA},
		{[]string{"g5g.xlarge"}, eksv1.AL2023ARMNVIDIA},
	} {
		ng := group("x", func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = c.types })
		Default(ng, nil, f)
		if ng.Spec.AMIType != c.want {
			t.Errorf("%v: amiType %s, want %s", c.types, ng.Spec.AMIType, c.want)
		}
	}
	// A launch template with its own image and type: CUSTOM, no types, no
	// disk, the image's version, the template's version pinned.
	img, _ := f.ImageFor("AL2023_ARM_64_STANDARD", "1.36", "")
	f.LaunchTemplate = &cloud.LaunchTemplateVersion{Number: 3, LaunchTemplateData: cloud.LaunchTemplateData{ImageID: img.ID, InstanceType: "m7g.large"}}
	ng = group("custom", func(s *eksv1.NodeGroupSpec) { s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{Name: "mine"} })
	Default(ng, nil, f)
	s = ng.Spec
	if s.AMIType != eksv1.CustomAMI || len(s.InstanceTypes) != 0 || s.DiskSize != nil || s.Version != "1.36" || s.ReleaseVersion != "" || s.LaunchTemplate.Version != "3" {
		t.Fatalf("custom defaults: %+v", s)
	}
	if errs := Validate(ng, nil, f); len(errs) != 0 {
		t.Fatalf("the custom defaults do not validate: %v", errs.ToAggregate())
	}
}

// TestValidateNamesTheField is the table of every rule that needs no API
// server: each case breaks one and must name its field.
func TestValidateNamesTheField(t *testing.T) {
	f := facts(t)
	arm, _ := f.ImageFor("AL2023_ARM_64_STANDARD", "1.37", "")
	lt := &cloud.LaunchTemplateVersion{Number: 1, LaunchTemplateData: cloud.LaunchTemplateData{InstanceType: "m5.large"}}
	customLT := &cloud.LaunchTemplateVersion{Number: 1, LaunchTemplateData: cloud.LaunchTemplateData{ImageID: arm.ID}}
	withLT := func(s *eksv1.NodeGroupSpec) {
		s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{Name: "mine", Version: "1"}
	}
	for _, c := range []struct {
		name   string
		ng     string
		spec   func(*eksv1.NodeGroupSpec)
		facts  func(*Facts)
		field  string
		detail string
	}{
		{name: "name too long", ng: strings.Repeat("a", 64), field: "metadata.name"},
		{name: "30 groups already", facts: func(f *Facts) { f.Nodegroups = 30 }, field: "metadata.name", detail: "ResourceLimitExceeded"},
		{name: "min above max", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 3, MaxSize: 2, DesiredSize: 2}
		}, field: "spec.scalingConfig.minSize"},
		{name: "desired below min", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 2, MaxSize: 4, DesiredSize: 1}
		}, field: "spec.scalingConfig.desiredSize"},
		{name: "desired above max", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 4, DesiredSize: 5}
		}, field: "spec.scalingConfig.desiredSize"},
		{name: "max above 450", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 451, DesiredSize: 1}
		}, field: "spec.scalingConfig.maxSize"},
		{name: "desired above 450", spec: func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 451, DesiredSize: 451}
		}, field: "spec.scalingConfig.desiredSize"},
		{name: "unknown instance type", spec: func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"m5.huge"} }, field: "spec.instanceTypes[0]", detail: "Ec2InstanceTypeDoesNotExist"},
		{name: "repeated instance type", spec: func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"m5.large", "m5.large"} }, field: "spec.instanceTypes[1]"},
		{name: "21 instance types", spec: func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = make([]string, 21) }, field: "spec.instanceTypes"},
		{name: "arm type on an x86 AMI", spec: func(s *eksv1.NodeGroupSpec) {
			s.InstanceTypes, s.AMIType = []string{"m5.large", "m7g.large"}, eksv1.AL2023x86Standard
		}, field: "spec.instanceTypes[1]", detail: "arm64"},
		{name: "CUSTOM without a template", spec: func(s *eksv1.NodeGroupSpec) { s.AMIType = eksv1.CustomAMI }, field: "spec.amiType"},
		{name: "unknown subnet", spec: func(s *eksv1.NodeGroupSpec) { s.Subnets = []string{"subnet-0123456789abcdef0"} }, field: "spec.subnets[0]", detail: "Ec2SubnetNotFound"},
		{name: "not a subnet id", spec: func(s *eksv1.NodeGroupSpec) { s.Subnets = []string{"net-1"} }, field: "spec.subnets[0]"},
		{name: "node role not an ARN", spec: func(s *eksv1.NodeGroupSpec) { s.NodeRole = "NodeRole" }, field: "spec.nodeRole"},
		{name: "disk too large", spec: func(s *eksv1.NodeGroupSpec) { s.DiskSize = ptr.To[int32](20000) }, field: "spec.diskSize"},
		{name: "51 taints", spec: func(s *eksv1.NodeGroupSpec) {
			for i := range 51 {
				s.Taints = append(s.Taints, eksv1.Taint{Key: "k" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Effect: eksv1.NoSchedule})
			}
		}, field: "spec.taints"},
		{name: "taint key too long", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: strings.Repeat("k", 64), Effect: eksv1.NoSchedule}}
		}, field: "spec.taints[0].key"},
		{name: "taint value too long", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: "k", Value: strings.Repeat("v", 64), Effect: eksv1.NoSchedule}}
		}, field: "spec.taints[0].value"},
		{name: "taint effect", spec: func(s *eksv1.NodeGroupSpec) { s.Taints = []eksv1.Taint{{Key: "k", Effect: "NoSchedule"}} }, field: "spec.taints[0].effect"},
		{name: "taint twice", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: "k", Effect: eksv1.NoSchedule}, {Key: "k", Value: "v", Effect: eksv1.NoSchedule}}
		}, field: "spec.taints[1]"},
		{name: "label key too long", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{strings.Repeat("l", 64): "v"} }, field: "spec.labels[" + strings.Repeat("l", 64) + "]"},
		{name: "label value too long", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"team": strings.Repeat("v", 64)} }, field: "spec.labels[team]"},
		{name: "label value empty", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"team": ""} }, field: "spec.labels[team]"},
		{name: "label key syntax", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"team name": "web"} }, field: "spec.labels[team name]"},
		{name: "label a kubelet may not register", spec: func(s *eksv1.NodeGroupSpec) {
			s.Labels = map[string]string{"node-role.kubernetes.io/worker": "true"}
		}, field: "spec.labels[node-role.kubernetes.io/worker]", detail: "NodeRestriction"},
		{name: "label EKS sets", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"eks.amazonaws.com/nodegroup": "other"} }, field: "spec.labels[eks.amazonaws.com/nodegroup]"},
		{name: "51 tags", spec: func(s *eksv1.NodeGroupSpec) {
			s.Tags = map[string]string{}
			for i := range 51 {
				s.Tags[strings.Repeat("t", i+1)] = "v"
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
		{name: "percentage 0", spec: func(s *eksv1.NodeGroupSpec) {
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](0)}
		}, field: "spec.updateConfig.maxUnavailablePercentage"},
		{name: "update strategy", spec: func(s *eksv1.NodeGroupSpec) {
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1), UpdateStrategy: "FAST"}
		}, field: "spec.updateConfig.updateStrategy"},
		{name: "repair thresholds both", spec: func(s *eksv1.NodeGroupSpec) {
			s.NodeRepairConfig = &eksv1.NodeRepairConfig{MaxUnhealthyNodeThresholdCount: ptr.To[int32](1), MaxUnhealthyNodeThresholdPercentage: ptr.To[int32](1)}
		}, field: "spec.nodeRepairConfig"},
		{name: "repair override incomplete", spec: func(s *eksv1.NodeGroupSpec) {
			s.NodeRepairConfig = &eksv1.NodeRepairConfig{NodeRepairConfigOverrides: []eksv1.NodeRepairConfigOverride{{NodeMonitoringCondition: "Ready", MinRepairWaitTimeMins: 5, RepairAction: "Replace"}}}
		}, field: "spec.nodeRepairConfig.nodeRepairConfigOverrides[0].nodeUnhealthyReason"},
		{name: "newer than the cluster", spec: func(s *eksv1.NodeGroupSpec) { s.Version = "1.38" }, field: "spec.version"},
		{name: "older than the skew", spec: func(s *eksv1.NodeGroupSpec) { s.Version = "1.33" }, field: "spec.version"},
		{name: "unknown release", spec: func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20200101" }, field: "spec.releaseVersion"},
		{name: "capacity type", spec: func(s *eksv1.NodeGroupSpec) { s.CapacityType = "CAPACITY_BLOCK" }, field: "spec.capacityType"},
		{name: "disk size with a template", spec: func(s *eksv1.NodeGroupSpec) { withLT(s); s.DiskSize = ptr.To[int32](30) }, facts: func(f *Facts) { f.LaunchTemplate = lt }, field: "spec.diskSize"},
		{name: "remote access with a template", spec: func(s *eksv1.NodeGroupSpec) { withLT(s); s.RemoteAccess = &eksv1.RemoteAccessConfig{EC2SshKey: "k"} }, facts: func(f *Facts) { f.LaunchTemplate = lt }, field: "spec.remoteAccess"},
		{name: "instance types with a template that names one", spec: func(s *eksv1.NodeGroupSpec) { withLT(s); s.InstanceTypes = []string{"m5.xlarge"} }, facts: func(f *Facts) { f.LaunchTemplate = lt }, field: "spec.instanceTypes"},
		{name: "template id and name", spec: func(s *eksv1.NodeGroupSpec) {
			s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: "lt-0123456789abcdef0", Name: "mine"}
		}, field: "spec.launchTemplate"},
		{name: "unknown template", spec: withLT, facts: func(f *Facts) { f.LaunchTemplateErr = errors.New(`launch template "mine" not found`) }, field: "spec.launchTemplate"},
		{name: "an AMI type with a template's own image", spec: func(s *eksv1.NodeGroupSpec) { withLT(s); s.AMIType = eksv1.AL2023ARMStandard },
			facts: func(f *Facts) { f.LaunchTemplate = customLT }, field: "spec.amiType"},
		{name: "x86 types for a template's arm image", spec: func(s *eksv1.NodeGroupSpec) { withLT(s); s.InstanceTypes = []string{"m5.large"} },
			facts: func(f *Facts) { f.LaunchTemplate = customLT }, field: "spec.instanceTypes[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := facts(t)
			if c.facts != nil {
				c.facts(f)
			}
			name := c.ng
			if name == "" {
				name = "web"
			}
			ng := group(name, c.spec)
			Default(ng, nil, f)
			errs := Validate(ng, nil, f)
			if len(errs) == 0 {
				t.Fatalf("no error, want one for %s", c.field)
			}
			for _, e := range errs {
				if e.Field == c.field && strings.Contains(e.Error(), c.detail) {
					return
				}
			}
			t.Fatalf("no error for %s (with %q); got: %v", c.field, c.detail, errs.ToAggregate())
		})
	}
}

// TestValidateReportsEveryProblem: one object breaking several rules gets
// all of them at once.
func TestValidateReportsEveryProblem(t *testing.T) {
	f := facts(t)
	ng := group("web", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 3, MaxSize: 2, DesiredSize: 5}
		s.InstanceTypes = []string{"m5.huge"}
		s.Taints = []eksv1.Taint{{Key: "k", Effect: "bad"}}
		s.Tags = map[string]string{"aws:x": "y"}
	})
	Default(ng, nil, f)
	got := map[string]bool{}
	for _, e := range Validate(ng, nil, f) {
		got[e.Field] = true
	}
	for _, want := range []string{"spec.scalingConfig.minSize", "spec.scalingConfig.desiredSize", "spec.instanceTypes[0]", "spec.taints[0].effect", "spec.tags[aws:x]"} {
		if !got[want] {
			t.Errorf("no error for %s; got %v", want, got)
		}
	}
}

func TestImmutableAfterCreate(t *testing.T) {
	f := facts(t)
	old := group("web", nil)
	Default(old, nil, f)
	old.Status.Status = eksv1.StatusActive
	for _, c := range []struct {
		field  string
		change func(*eksv1.NodeGroupSpec)
	}{
		{"spec.subnets", func(s *eksv1.NodeGroupSpec) { s.Subnets = s.Subnets[:1] }},
		{"spec.instanceTypes", func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"m5.large"} }},
		{"spec.capacityType", func(s *eksv1.NodeGroupSpec) { s.CapacityType = eksv1.Spot }},
		{"spec.amiType", func(s *eksv1.NodeGroupSpec) { s.AMIType = eksv1.Bottlerocketx86 }},
		{"spec.nodeRole", func(s *eksv1.NodeGroupSpec) { s.NodeRole = "arn:aws:iam::123456789012:role/Other" }},
		{"spec.diskSize", func(s *eksv1.NodeGroupSpec) { s.DiskSize = ptr.To[int32](50) }},
		{"spec.remoteAccess", func(s *eksv1.NodeGroupSpec) { s.RemoteAccess = &eksv1.RemoteAccessConfig{EC2SshKey: "k"} }},
		{"spec.launchTemplate", func(s *eksv1.NodeGroupSpec) { s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{Name: "late"} }},
	} {
		ng := old.DeepCopy()
		c.change(&ng.Spec)
		Default(ng, old, f)
		found := false
		for _, e := range Validate(ng, old, f) {
			found = found || e.Field == c.field
		}
		if !found {
			t.Errorf("changing %s was not refused", c.field)
		}
	}
	// What a re-applied manifest leaves out is kept, not refused.
	ng := group("web", func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"team": "web"} })
	Default(ng, old, f)
	if errs := Validate(ng, old, f); len(errs) != 0 {
		t.Fatalf("a manifest without the defaulted fields: %v", errs.ToAggregate())
	}
	if Changes(&ng.Spec, &old.Spec) != true {
		t.Fatal("a label added is a change")
	}
	tagged := old.DeepCopy()
	tagged.Spec.Tags = map[string]string{"cost-center": "1"}
	if Changes(&tagged.Spec, &old.Spec) {
		t.Fatal("tags are not an update's change")
	}
}

// TestVersionUpdates: UpdateNodegroupVersion's rules on a group created
// at 1.36 with its oldest release.
func TestVersionUpdates(t *testing.T) {
	f := facts(t)
	old := group("web", func(s *eksv1.NodeGroupSpec) { s.Version, s.ReleaseVersion = "1.36", "1.36.3-20261001" })
	Default(old, nil, f)
	if errs := Validate(old, nil, f); len(errs) != 0 {
		t.Fatalf("a group within the skew: %v", errs.ToAggregate())
	}
	old.Status.Status = eksv1.StatusActive
	old.Status.Applied = &eksv1.AppliedConfig{Version: "1.36", ReleaseVersion: "1.36.3-20261001"}
	for _, c := range []struct {
		name, version, release string
		// field is the refused field, "" if the change is allowed;
		// wantRelease the release it is defaulted to.
		field, wantRelease string
	}{
		{name: "a newer release", version: "1.36", release: "1.36.3-20261101", wantRelease: "1.36.3-20261101"},
		{name: "the cluster's version, newest release by default", version: "1.37", wantRelease: "1.37.2-20261101"},
		{name: "the cluster's version and a release of it", version: "1.37", release: "1.37.2-20261015", wantRelease: "1.37.2-20261015"},
		{name: "newer than the cluster", version: "1.38", field: "spec.version"},
		{name: "a rollback of the version", version: "1.35", field: "spec.version"},
		{name: "a release of another version", version: "1.37", release: "1.36.3-20261101", field: "spec.releaseVersion"},
		{name: "a release that does not exist", version: "1.36", release: "1.36.3-20250101", field: "spec.releaseVersion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ng := old.DeepCopy()
			ng.Spec.Version = c.version
			if c.release != "" {
				ng.Spec.ReleaseVersion = c.release
			}
			Default(ng, old, f)
			errs := Validate(ng, old, f)
			if c.field == "" {
				if len(errs) != 0 || ng.Spec.ReleaseVersion != c.wantRelease {
					t.Fatalf("got release %s, errors %v; want release %s, no error", ng.Spec.ReleaseVersion, errs.ToAggregate(), c.wantRelease)
				}
				return
			}
			if len(errs) == 0 || errs[0].Field != c.field {
				t.Fatalf("got %v, want an error for %s", errs.ToAggregate(), c.field)
			}
		})
	}
	// Back to the release in effect, after an update to a newer one
	// failed, is no rollback.
	failed := old.DeepCopy()
	failed.Spec.ReleaseVersion = "1.36.3-20261101"
	back := failed.DeepCopy()
	back.Spec.ReleaseVersion = "1.36.3-20261001"
	Default(back, failed, f)
	if errs := Validate(back, failed, f); len(errs) != 0 {
		t.Fatalf("back to the release in effect: %v", errs.ToAggregate())
	}
}

func TestInUse(t *testing.T) {
	now := metav1.Now()
	for _, c := range []struct {
		name   string
		status eksv1.NodeGroupStatus
		del    *metav1.Time
		want   string
	}{
		{"active", eksv1.NodeGroupStatus{Status: eksv1.StatusActive}, nil, ""},
		{"degraded", eksv1.NodeGroupStatus{Status: eksv1.StatusDegraded}, nil, ""},
		{"not yet seen", eksv1.NodeGroupStatus{}, nil, "CREATING"},
		{"creating", eksv1.NodeGroupStatus{Status: eksv1.StatusCreating}, nil, "CREATING"},
		{"create failed", eksv1.NodeGroupStatus{Status: eksv1.StatusCreateFailed}, nil, "CREATE_FAILED"},
		{"updating", eksv1.NodeGroupStatus{Status: eksv1.StatusUpdating, ActiveUpdate: "u-1"}, nil, "update u-1 in progress"},
		{"deleting", eksv1.NodeGroupStatus{Status: eksv1.StatusActive}, &now, "being deleted"},
	} {
		ng := group("web", nil)
		ng.Status, ng.DeletionTimestamp = c.status, c.del
		got := InUse(ng)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: InUse = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestUnknownTypeIsOneError: an unknown instance type is reported once, at
// its field, not also as the AMI type it left undefaulted.
func TestUnknownTypeIsOneError(t *testing.T) {
	f := facts(t)
	ng := group("web", func(s *eksv1.NodeGroupSpec) { s.InstanceTypes = []string{"no.such"} })
	Default(ng, nil, f)
	errs := Validate(ng, nil, f)
	if len(errs) != 1 || errs[0].Field != "spec.instanceTypes[0]" {
		t.Fatalf("errors %v, want one for spec.instanceTypes[0]", errs.ToAggregate())
	}
}
