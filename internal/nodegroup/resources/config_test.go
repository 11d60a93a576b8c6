package resources

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

var gpu = eksv1.Taint{Key: "dedicated", Value: "gpu", Effect: eksv1.NoSchedule}

// spec is a created group's spec as the admission webhook leaves it.
func spec() *eksv1.NodeGroupSpec {
	return &eksv1.NodeGroupSpec{
		ScalingConfig:  &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2},
		Labels:         map[string]string{"team": "web", "tier": "front"},
		Taints:         []eksv1.Taint{gpu},
		Tags:           map[string]string{"cost-center": "42"},
		UpdateConfig:   &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)},
		LaunchTemplate: &eksv1.LaunchTemplateSpecification{Name: "mine", Version: "3"},
		Version:        "1.37",
		ReleaseVersion: "1.37.2-20261101",
		CapacityType:   eksv1.OnDemand,
	}
}

var image = Image{ID: "ami-0123456789abcdef0", ReleaseVersion: "1.37.2-20261101"}

func TestApplied(t *testing.T) {
	s := spec()
	s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true)}
	a := Applied(s, image)
	want := &eksv1.AppliedConfig{
		ScalingConfig:         eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2},
		Labels:                map[string]string{"team": "web", "tier": "front"},
		Taints:                []eksv1.Taint{gpu},
		Tags:                  map[string]string{"cost-center": "42"},
		UpdateConfig:          &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)},
		NodeRepairConfig:      &eksv1.NodeRepairConfig{Enabled: ptr.To(true)},
		Version:               "1.37",
		ReleaseVersion:        "1.37.2-20261101",
		ImageID:               "ami-0123456789abcdef0",
		LaunchTemplateVersion: "3",
	}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("Applied = %+v\nwant %+v", a, want)
	}
	// A copy: changing the spec later does not change what was applied.
	s.Labels["team"], s.Taints[0].Value, s.Tags["cost-center"] = "x", "x", "x"
	*s.UpdateConfig.MaxUnavailable, s.NodeRepairConfig.Enabled = 9, ptr.To(false)
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("Applied shares the spec's fields: %+v", a)
	}
	// Without a scaling config or a template: zero sizes, no version.
	s = spec()
	s.ScalingConfig, s.LaunchTemplate = nil, nil
	if a := Applied(s, Image{ID: "ami-1", ReleaseVersion: "ami-1"}); a.ScalingConfig != (eksv1.ScalingConfig{}) || a.LaunchTemplateVersion != "" || a.ReleaseVersion != "ami-1" {
		t.Fatalf("Applied without scaling or template = %+v", a)
	}
}

// TestDiffParams is the table of what a change of a created group's spec
// is as EKS's UpdateNodegroupConfig parameters, and that the parameters,
// read back and applied, bring the spec into effect.
func TestDiffParams(t *testing.T) {
	p := func(typ eksv1.UpdateParamType, v string) eksv1.UpdateParam {
		return eksv1.UpdateParam{Type: typ, Value: v}
	}
	for _, c := range []struct {
		name    string
		applied func(*eksv1.AppliedConfig)
		spec    func(*eksv1.NodeGroupSpec)
		want    []eksv1.UpdateParam
	}{
		{name: "nothing"},
		{name: "tags are not an update", spec: func(s *eksv1.NodeGroupSpec) { s.Tags = map[string]string{"cost-center": "43", "new": "x"} }},
		{name: "tags removed are not an update", spec: func(s *eksv1.NodeGroupSpec) { s.Tags = nil }},
		{name: "the version and release are not a ConfigUpdate's", spec: func(s *eksv1.NodeGroupSpec) { s.Version, s.ReleaseVersion = "1.38", "1.38.0-20261201" }},
		{name: "label added", spec: func(s *eksv1.NodeGroupSpec) { s.Labels["env"] = "prod" },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToAdd, `{"env":"prod"}`)}},
		{name: "label changed", spec: func(s *eksv1.NodeGroupSpec) { s.Labels["team"] = "api" },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToAdd, `{"team":"api"}`)}},
		{name: "labels added, sorted", spec: func(s *eksv1.NodeGroupSpec) { s.Labels["b"], s.Labels["a"] = "2", "1" },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToAdd, `{"a":"1","b":"2"}`)}},
		{name: "label removed", spec: func(s *eksv1.NodeGroupSpec) { delete(s.Labels, "tier") },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToRemove, `["tier"]`)}},
		{name: "every label removed, sorted", spec: func(s *eksv1.NodeGroupSpec) { s.Labels = nil },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToRemove, `["team","tier"]`)}},
		{name: "labels on a group that had none", applied: func(a *eksv1.AppliedConfig) { a.Labels = nil },
			want: []eksv1.UpdateParam{p(eksv1.ParamLabelsToAdd, `{"team":"web","tier":"front"}`)}},
		{name: "taint added", spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = append(s.Taints, eksv1.Taint{Key: "spot", Effect: eksv1.NoExecute})
		}, want: []eksv1.UpdateParam{p(eksv1.ParamTaintsToAdd, `[{"key":"spot","effect":"NO_EXECUTE"}]`)}},
		{name: "taint value changed: added again, not removed", spec: func(s *eksv1.NodeGroupSpec) { s.Taints[0].Value = "cpu" },
			want: []eksv1.UpdateParam{p(eksv1.ParamTaintsToAdd, `[{"key":"dedicated","value":"cpu","effect":"NO_SCHEDULE"}]`)}},
		{name: "taint effect changed: another taint", spec: func(s *eksv1.NodeGroupSpec) { s.Taints[0].Effect = eksv1.PreferNoSchedule },
			want: []eksv1.UpdateParam{
				p(eksv1.ParamTaintsToAdd, `[{"key":"dedicated","value":"gpu","effect":"PREFER_NO_SCHEDULE"}]`),
				p(eksv1.ParamTaintsToRemove, `[{"key":"dedicated","value":"gpu","effect":"NO_SCHEDULE"}]`),
			}},
		{name: "taint removed", spec: func(s *eksv1.NodeGroupSpec) { s.Taints = nil },
			want: []eksv1.UpdateParam{p(eksv1.ParamTaintsToRemove, `[{"key":"dedicated","value":"gpu","effect":"NO_SCHEDULE"}]`)}},
		{name: "taints reordered are no change", applied: func(a *eksv1.AppliedConfig) {
			a.Taints = append(a.Taints, eksv1.Taint{Key: "spot", Effect: eksv1.NoExecute})
		}, spec: func(s *eksv1.NodeGroupSpec) {
			s.Taints = []eksv1.Taint{{Key: "spot", Effect: eksv1.NoExecute}, gpu}
		}},
		{name: "desired size", spec: func(s *eksv1.NodeGroupSpec) { s.ScalingConfig.DesiredSize = 3 },
			want: []eksv1.UpdateParam{p(eksv1.ParamDesiredSize, "3")}},
		{name: "every size, in EKS's order", spec: func(s *eksv1.NodeGroupSpec) {
			*s.ScalingConfig = eksv1.ScalingConfig{MinSize: 0, MaxSize: 10, DesiredSize: 0}
		},
			want: []eksv1.UpdateParam{p(eksv1.ParamMinSize, "0"), p(eksv1.ParamMaxSize, "10"), p(eksv1.ParamDesiredSize, "0")}},
		{name: "no scaling config leaves the sizes", spec: func(s *eksv1.NodeGroupSpec) { s.ScalingConfig = nil }},
		{name: "maxUnavailable", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig.MaxUnavailable = ptr.To[int32](5) },
			want: []eksv1.UpdateParam{p(eksv1.ParamMaxUnavailable, "5")}},
		{name: "maxUnavailable to a percentage", spec: func(s *eksv1.NodeGroupSpec) {
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](25)}
		}, want: []eksv1.UpdateParam{p(eksv1.ParamMaxUnavailablePercentage, "25")}},
		{name: "a percentage to maxUnavailable", applied: func(a *eksv1.AppliedConfig) {
			a.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](25)}
		}, want: []eksv1.UpdateParam{p(eksv1.ParamMaxUnavailable, "1")}},
		{name: "update strategy", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig.UpdateStrategy = "MINIMAL" },
			want: []eksv1.UpdateParam{p(eksv1.ParamUpdateStrategy, "MINIMAL")}},
		{name: "update strategy back to the default", applied: func(a *eksv1.AppliedConfig) { a.UpdateConfig.UpdateStrategy = "MINIMAL" },
			want: []eksv1.UpdateParam{p(eksv1.ParamUpdateStrategy, "DEFAULT")}},
		{name: "DEFAULT spelt out is no change", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig.UpdateStrategy = "DEFAULT" }},
		{name: "no update config is EKS's default, maxUnavailable 1", spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig = nil }},
		{name: "no update config after a percentage", applied: func(a *eksv1.AppliedConfig) {
			a.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](25), UpdateStrategy: "MINIMAL"}
		}, spec: func(s *eksv1.NodeGroupSpec) { s.UpdateConfig = nil },
			want: []eksv1.UpdateParam{p(eksv1.ParamMaxUnavailable, "1"), p(eksv1.ParamUpdateStrategy, "DEFAULT")}},
		{name: "repair turned on", spec: func(s *eksv1.NodeGroupSpec) { s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true)} },
			want: []eksv1.UpdateParam{p(eksv1.ParamNodeRepairEnabled, "true")}},
		{name: "repair off spelt out is no change", spec: func(s *eksv1.NodeGroupSpec) { s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(false)} }},
		{name: "repair turned on with thresholds", spec: func(s *eksv1.NodeGroupSpec) {
			s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxUnhealthyNodeThresholdCount: ptr.To[int32](3)}
		}, want: []eksv1.UpdateParam{
			p(eksv1.ParamNodeRepairEnabled, "true"),
			p(eksv1.ParamNodeRepairConfig, `{"enabled":true,"maxUnhealthyNodeThresholdCount":3}`),
		}},
		{name: "repair thresholds alone", applied: func(a *eksv1.AppliedConfig) {
			a.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxUnhealthyNodeThresholdPercentage: ptr.To[int32](20)}
		}, spec: func(s *eksv1.NodeGroupSpec) {
			s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxParallelNodesRepairedCount: ptr.To[int32](2)}
		}, want: []eksv1.UpdateParam{p(eksv1.ParamNodeRepairConfig, `{"enabled":true,"maxParallelNodesRepairedCount":2}`)}},
		{name: "repair config taken out", applied: func(a *eksv1.AppliedConfig) {
			a.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxParallelNodesRepairedCount: ptr.To[int32](2)}
		}, want: []eksv1.UpdateParam{p(eksv1.ParamNodeRepairEnabled, "false"), p(eksv1.ParamNodeRepairConfig, `{"enabled":false}`)}},
		{name: "everything at once, in EKS's order", spec: func(s *eksv1.NodeGroupSpec) {
			s.Labels = map[string]string{"team": "api"}
			s.Taints = []eksv1.Taint{{Key: "spot", Value: "yes", Effect: eksv1.NoExecute}}
			s.ScalingConfig.MaxSize = 4
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](50), UpdateStrategy: "MINIMAL"}
			s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true)}
			s.Tags = nil
		}, want: []eksv1.UpdateParam{
			p(eksv1.ParamLabelsToAdd, `{"team":"api"}`),
			p(eksv1.ParamLabelsToRemove, `["tier"]`),
			p(eksv1.ParamTaintsToAdd, `[{"key":"spot","value":"yes","effect":"NO_EXECUTE"}]`),
			p(eksv1.ParamTaintsToRemove, `[{"key":"dedicated","value":"gpu","effect":"NO_SCHEDULE"}]`),
			p(eksv1.ParamMaxSize, "4"),
			p(eksv1.ParamMaxUnavailablePercentage, "50"),
			p(eksv1.ParamUpdateStrategy, "MINIMAL"),
			p(eksv1.ParamNodeRepairEnabled, "true"),
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			applied := Applied(spec(), image)
			if c.applied != nil {
				c.applied(applied)
			}
			s := spec()
			if c.spec != nil {
				c.spec(s)
			}
			keep := applied.DeepCopy()
			change := Diff(applied, s)
			got := change.Params(applied)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("params\n%v\nwant\n%v", got, c.want)
			}
			if change.Empty(applied) != (len(c.want) == 0) {
				t.Errorf("Empty = %v with params %v", change.Empty(applied), got)
			}
			// Read back from the record and applied, the params are the spec.
			back, err := ChangeOf(got, applied)
			if err != nil {
				t.Fatalf("ChangeOf: %v", err)
			}
			target := back.Apply(applied)
			if !equality.Semantic.DeepEqual(applied, keep) {
				t.Fatalf("Diff, Params, ChangeOf or Apply changed the applied configuration: %+v", applied)
			}
			if d := Diff(target, s); !d.Empty(target) {
				t.Errorf("after the update, still a change: %v", d.Params(target))
			}
			if !equality.Semantic.DeepEqual(target.Labels, s.Labels) {
				t.Errorf("labels %v, want %v", target.Labels, s.Labels)
			}
			if !sameTaints(target.Taints, s.Taints) {
				t.Errorf("taints %v, want %v", target.Taints, s.Taints)
			}
			if s.ScalingConfig != nil && target.ScalingConfig != *s.ScalingConfig {
				t.Errorf("sizes %+v, want %+v", target.ScalingConfig, *s.ScalingConfig)
			}
			if s.ScalingConfig == nil && target.ScalingConfig != applied.ScalingConfig {
				t.Errorf("sizes %+v, want them as they were", target.ScalingConfig)
			}
			wantUpdate := s.UpdateConfig
			if wantUpdate == nil {
				wantUpdate = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)}
			}
			if u := target.UpdateConfig; u == nil || !equality.Semantic.DeepEqual(u.MaxUnavailable, wantUpdate.MaxUnavailable) ||
				!equality.Semantic.DeepEqual(u.MaxUnavailablePercentage, wantUpdate.MaxUnavailablePercentage) || strategy(u.UpdateStrategy) != strategy(wantUpdate.UpdateStrategy) {
				t.Errorf("update config %+v, want %+v", u, wantUpdate)
			}
			enabled := func(r *eksv1.NodeRepairConfig) bool { return r != nil && ptr.Deref(r.Enabled, false) }
			if r := target.NodeRepairConfig; !equality.Semantic.DeepEqual(withEnabled(r), withEnabled(s.NodeRepairConfig)) || enabled(r) != enabled(s.NodeRepairConfig) {
				t.Errorf("repair config %+v, want %+v", r, s.NodeRepairConfig)
			}
			// What a ConfigUpdate does not change stays as it was: the
			// tags (TagResource's), the version and image (a VersionUpdate's).
			if !maps.Equal(target.Tags, applied.Tags) || target.Version != applied.Version || target.ReleaseVersion != applied.ReleaseVersion ||
				target.ImageID != applied.ImageID || target.LaunchTemplateVersion != applied.LaunchTemplateVersion {
				t.Errorf("a ConfigUpdate changed what it does not: %+v", target)
			}
		})
	}
}

func sameTaints(a, b []eksv1.Taint) bool {
	key := func(t eksv1.Taint) string { return t.Key + "=" + t.Value + ":" + string(t.Effect) }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, t := range a {
		ka[i] = key(t)
	}
	for i, t := range b {
		kb[i] = key(t)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// TestParamsWithoutBefore: with no configuration before, the update and
// repair configurations are written whole.
func TestParamsWithoutBefore(t *testing.T) {
	c := Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](2)}, NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(false)}}
	want := []eksv1.UpdateParam{{Type: eksv1.ParamMaxUnavailable, Value: "2"}, {Type: eksv1.ParamNodeRepairConfig, Value: `{"enabled":false}`}}
	if got := c.Params(nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("Params(nil) = %v, want %v", got, want)
	}
}

// TestChangeOf reads params as EKS's API and a record write them.
func TestChangeOf(t *testing.T) {
	before := Applied(spec(), image)
	before.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(false), MaxParallelNodesRepairedCount: ptr.To[int32](2)}
	p := func(typ eksv1.UpdateParamType, v string) []eksv1.UpdateParam {
		return []eksv1.UpdateParam{{Type: typ, Value: v}}
	}
	for _, c := range []struct {
		name   string
		params []eksv1.UpdateParam
		want   Change
	}{
		{"none", nil, Change{}},
		{"labels as EKS writes them", p(eksv1.ParamLabelsToAdd, `{"l1":"v1"}`), Change{LabelsToAdd: map[string]string{"l1": "v1"}}},
		{"taints as EKS writes them", p(eksv1.ParamTaintsToAdd, `[{"effect":"NO_EXECUTE","value":"v","key":"k"}]`),
			Change{TaintsToAdd: []eksv1.Taint{{Key: "k", Value: "v", Effect: eksv1.NoExecute}}}},
		{"min size", p(eksv1.ParamMinSize, "1"), Change{MinSize: ptr.To[int32](1)}},
		{"maxUnavailable over the group's", p(eksv1.ParamMaxUnavailable, "3"),
			Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](3)}}},
		{"a percentage replaces maxUnavailable", p(eksv1.ParamMaxUnavailablePercentage, "30"),
			Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](30)}}},
		{"a strategy keeps maxUnavailable", p(eksv1.ParamUpdateStrategy, "MINIMAL"),
			Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1), UpdateStrategy: "MINIMAL"}}},
		{"DEFAULT is the empty strategy", p(eksv1.ParamUpdateStrategy, "DEFAULT"),
			Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)}}},
		{"repair enabled keeps the group's other repair settings", p(eksv1.ParamNodeRepairEnabled, "true"),
			Change{NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxParallelNodesRepairedCount: ptr.To[int32](2)}}},
		{"a repair config replaces the group's", p(eksv1.ParamNodeRepairConfig, `{"enabled":true}`),
			Change{NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(true)}}},
		{"enabled after a repair config", append(p(eksv1.ParamNodeRepairConfig, `{"maxUnhealthyNodeThresholdCount":4}`), p(eksv1.ParamNodeRepairEnabled, "true")...),
			Change{NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(true), MaxUnhealthyNodeThresholdCount: ptr.To[int32](4)}}},
	} {
		got, err := ChangeOf(c.params, before)
		if err != nil || !equality.Semantic.DeepEqual(got, c.want) {
			t.Errorf("%s: ChangeOf = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if before.UpdateConfig.UpdateStrategy != "" || *before.UpdateConfig.MaxUnavailable != 1 || *before.NodeRepairConfig.Enabled {
		t.Fatalf("ChangeOf changed the configuration before: %+v", before)
	}
	// A group without update or repair configurations.
	bare := &eksv1.AppliedConfig{}
	if got, err := ChangeOf(append(p(eksv1.ParamUpdateStrategy, "MINIMAL"), p(eksv1.ParamNodeRepairEnabled, "true")...), bare); err != nil ||
		!equality.Semantic.DeepEqual(got, Change{UpdateConfig: &eksv1.UpdateConfig{UpdateStrategy: "MINIMAL"}, NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(true)}}) {
		t.Errorf("ChangeOf on a bare group = %+v, %v", got, err)
	}
	for _, c := range []struct {
		params []eksv1.UpdateParam
		detail string
	}{
		{p(eksv1.ParamVersion, "1.38"), "Version"},
		{p(eksv1.ParamLabelsToAdd, `["not a map"]`), "LabelsToAdd"},
		{p(eksv1.ParamLabelsToRemove, `{"k":"v"}`), "LabelsToRemove"},
		{p(eksv1.ParamTaintsToRemove, `nope`), "TaintsToRemove"},
		{p(eksv1.ParamMaxSize, "ten"), "MaxSize"},
		{p(eksv1.ParamDesiredSize, "2147483648"), "DesiredSize"},
		{p(eksv1.ParamMaxUnavailable, "1.5"), "MaxUnavailable"},
		{p(eksv1.ParamNodeRepairEnabled, "yes"), "NodeRepairEnabled"},
		{p(eksv1.ParamNodeRepairConfig, `{"enabled":"yes"}`), "NodeRepairConfig"},
		{append(p(eksv1.ParamMinSize, "1"), p("Bogus", "x")...), "Bogus"},
	} {
		got, err := ChangeOf(c.params, before)
		if err == nil || !strings.Contains(err.Error(), "update parameter "+c.detail+"=") {
			t.Errorf("ChangeOf(%v) = %+v, %v; want an error naming %s", c.params, got, err, c.detail)
		}
		if !reflect.DeepEqual(got, Change{}) {
			t.Errorf("ChangeOf(%v) failed but returned a change %+v", c.params, got)
		}
	}
}

func TestApply(t *testing.T) {
	before := Applied(spec(), image)
	before.Labels = nil
	change := Change{
		LabelsToAdd:    map[string]string{"env": "prod"},
		LabelsToRemove: []string{"absent"},
		TaintsToAdd:    []eksv1.Taint{{Key: "dedicated", Value: "cpu", Effect: eksv1.NoSchedule}, {Key: "spot", Effect: eksv1.NoExecute}},
		TaintsToRemove: []eksv1.Taint{{Key: "dedicated", Value: "any value", Effect: eksv1.NoSchedule}},
		DesiredSize:    ptr.To[int32](3),
	}
	got := change.Apply(before)
	if !maps.Equal(got.Labels, map[string]string{"env": "prod"}) {
		t.Errorf("labels %v", got.Labels)
	}
	// The removal (by key and effect) comes first, so the new value is added.
	if want := []eksv1.Taint{{Key: "dedicated", Value: "cpu", Effect: eksv1.NoSchedule}, {Key: "spot", Effect: eksv1.NoExecute}}; !reflect.DeepEqual(got.Taints, want) {
		t.Errorf("taints %v, want %v", got.Taints, want)
	}
	if got.ScalingConfig != (eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 3}) {
		t.Errorf("sizes %+v", got.ScalingConfig)
	}
	if before.Labels != nil || len(before.Taints) != 1 || before.ScalingConfig.DesiredSize != 2 {
		t.Errorf("Apply changed its input: %+v", before)
	}
	// A taint added that is there by key and effect is replaced, not repeated.
	got = Change{TaintsToAdd: []eksv1.Taint{{Key: "dedicated", Value: "cpu", Effect: eksv1.NoSchedule}}}.Apply(before)
	if want := []eksv1.Taint{{Key: "dedicated", Value: "cpu", Effect: eksv1.NoSchedule}}; !reflect.DeepEqual(got.Taints, want) {
		t.Errorf("taints %v, want %v", got.Taints, want)
	}
}

func TestChangeScalesRelabels(t *testing.T) {
	for _, c := range []struct {
		name             string
		change           Change
		scales, relabels bool
	}{
		{"nothing", Change{}, false, false},
		{"min", Change{MinSize: ptr.To[int32](0)}, true, false},
		{"max", Change{MaxSize: ptr.To[int32](1)}, true, false},
		{"desired", Change{DesiredSize: ptr.To[int32](0)}, true, false},
		{"label added", Change{LabelsToAdd: map[string]string{"a": "b"}}, false, true},
		{"label removed", Change{LabelsToRemove: []string{"a"}}, false, true},
		{"taint added", Change{TaintsToAdd: []eksv1.Taint{gpu}}, false, true},
		{"taint removed", Change{TaintsToRemove: []eksv1.Taint{gpu}}, false, true},
		{"update config", Change{UpdateConfig: &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](2)}}, false, false},
		{"repair", Change{NodeRepairConfig: &eksv1.NodeRepairConfig{Enabled: ptr.To(true)}}, false, false},
	} {
		if c.change.Scales() != c.scales || c.change.Relabels() != c.relabels {
			t.Errorf("%s: Scales %v, Relabels %v; want %v, %v", c.name, c.change.Scales(), c.change.Relabels(), c.scales, c.relabels)
		}
	}
}
