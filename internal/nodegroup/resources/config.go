package resources

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// Applied is the configuration a created group's spec puts in effect,
// with the image it launches.
func Applied(spec *eksv1.NodeGroupSpec, image Image) *eksv1.AppliedConfig {
	a := &eksv1.AppliedConfig{
		Labels:           maps.Clone(spec.Labels),
		Taints:           slices.Clone(spec.Taints),
		Tags:             maps.Clone(spec.Tags),
		UpdateConfig:     spec.UpdateConfig.DeepCopy(),
		NodeRepairConfig: spec.NodeRepairConfig.DeepCopy(),
		Version:          spec.Version,
		ReleaseVersion:   image.ReleaseVersion,
		ImageID:          image.ID,
	}
	if spec.ScalingConfig != nil {
		a.ScalingConfig = *spec.ScalingConfig
	}
	if spec.LaunchTemplate != nil {
		a.LaunchTemplateVersion = spec.LaunchTemplate.Version
	}
	return a
}

// Image is the node image a group launches: its id and release (a custom
// image's release is its id).
type Image struct {
	ID, ReleaseVersion string
}

// Change is what a ConfigUpdate changes, in the terms of EKS's
// UpdateNodegroupConfig: labels and taints to add (or change) and remove,
// sizes, and the update and repair configurations.
type Change struct {
	LabelsToAdd    map[string]string
	LabelsToRemove []string
	TaintsToAdd    []eksv1.Taint
	TaintsToRemove []eksv1.Taint
	MinSize        *int32
	MaxSize        *int32
	DesiredSize    *int32
	// UpdateConfig and NodeRepairConfig, when set, replace the group's.
	UpdateConfig     *eksv1.UpdateConfig
	NodeRepairConfig *eksv1.NodeRepairConfig
}

// Diff is the change that takes a group from applied to spec.
func Diff(applied *eksv1.AppliedConfig, spec *eksv1.NodeGroupSpec) Change {
	var c Change
	for k, v := range spec.Labels {
		if old, ok := applied.Labels[k]; !ok || old != v {
			if c.LabelsToAdd == nil {
				c.LabelsToAdd = map[string]string{}
			}
			c.LabelsToAdd[k] = v
		}
	}
	for k := range applied.Labels {
		if _, ok := spec.Labels[k]; !ok {
			c.LabelsToRemove = append(c.LabelsToRemove, k)
		}
	}
	slices.Sort(c.LabelsToRemove)
	for _, t := range spec.Taints {
		if i := indexTaint(applied.Taints, t); i < 0 || applied.Taints[i].Value != t.Value {
			c.TaintsToAdd = append(c.TaintsToAdd, t)
		}
	}
	for _, t := range applied.Taints {
		if indexTaint(spec.Taints, t) < 0 {
			c.TaintsToRemove = append(c.TaintsToRemove, t)
		}
	}
	if s := spec.ScalingConfig; s != nil {
		if s.MinSize != applied.ScalingConfig.MinSize {
			c.MinSize = ptr.To(s.MinSize)
		}
		if s.MaxSize != applied.ScalingConfig.MaxSize {
			c.MaxSize = ptr.To(s.MaxSize)
		}
		if s.DesiredSize != applied.ScalingConfig.DesiredSize {
			c.DesiredSize = ptr.To(s.DesiredSize)
		}
	}
	if !equality.Semantic.DeepEqual(spec.UpdateConfig, applied.UpdateConfig) {
		c.UpdateConfig = spec.UpdateConfig.DeepCopy()
		if c.UpdateConfig == nil {
			c.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)}
		}
	}
	if !equality.Semantic.DeepEqual(spec.NodeRepairConfig, applied.NodeRepairConfig) {
		c.NodeRepairConfig = spec.NodeRepairConfig.DeepCopy()
		if c.NodeRepairConfig == nil {
			c.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(false)}
		}
	}
	return c
}

// Empty reports whether the change changes nothing of before.
func (c Change) Empty(before *eksv1.AppliedConfig) bool { return len(c.Params(before)) == 0 }

// Scales reports whether the change changes the group's sizes.
func (c Change) Scales() bool { return c.MinSize != nil || c.MaxSize != nil || c.DesiredSize != nil }

// Relabels reports whether the change changes the nodes' labels or taints.
func (c Change) Relabels() bool {
	return len(c.LabelsToAdd)+len(c.LabelsToRemove)+len(c.TaintsToAdd)+len(c.TaintsToRemove) > 0
}

// Apply returns the configuration applied becomes with the change.
func (c Change) Apply(applied *eksv1.AppliedConfig) *eksv1.AppliedConfig {
	out := applied.DeepCopy()
	if out.Labels == nil && len(c.LabelsToAdd) > 0 {
		out.Labels = map[string]string{}
	}
	maps.Copy(out.Labels, c.LabelsToAdd)
	for _, k := range c.LabelsToRemove {
		delete(out.Labels, k)
	}
	for _, t := range c.TaintsToRemove {
		if i := indexTaint(out.Taints, t); i >= 0 {
			out.Taints = slices.Delete(out.Taints, i, i+1)
		}
	}
	for _, t := range c.TaintsToAdd {
		if i := indexTaint(out.Taints, t); i >= 0 {
			out.Taints[i] = t
		} else {
			out.Taints = append(out.Taints, t)
		}
	}
	if c.MinSize != nil {
		out.ScalingConfig.MinSize = *c.MinSize
	}
	if c.MaxSize != nil {
		out.ScalingConfig.MaxSize = *c.MaxSize
	}
	if c.DesiredSize != nil {
		out.ScalingConfig.DesiredSize = *c.DesiredSize
	}
	if c.UpdateConfig != nil {
		out.UpdateConfig = c.UpdateConfig.DeepCopy()
	}
	if c.NodeRepairConfig != nil {
		out.NodeRepairConfig = c.NodeRepairConfig.DeepCopy()
	}
	return out
}

// Params are the change's parameters as EKS writes them in an update:
// names of UpdateParamType, values as strings, maps and lists as JSON.
// The update and repair configurations are written relative to before
// (what changed of them).
func (c Change) Params(before *eksv1.AppliedConfig) []eksv1.UpdateParam {
	var ps []eksv1.UpdateParam
	add := func(t eksv1.UpdateParamType, v string) { ps = append(ps, eksv1.UpdateParam{Type: t, Value: v}) }
	if len(c.LabelsToAdd) > 0 {
		add(eksv1.ParamLabelsToAdd, mustJSON(c.LabelsToAdd))
	}
	if len(c.LabelsToRemove) > 0 {
		add(eksv1.ParamLabelsToRemove, mustJSON(c.LabelsToRemove))
	}
	if len(c.TaintsToAdd) > 0 {
		add(eksv1.ParamTaintsToAdd, mustJSON(c.TaintsToAdd))
	}
	if len(c.TaintsToRemove) > 0 {
		add(eksv1.ParamTaintsToRemove, mustJSON(c.TaintsToRemove))
	}
	for _, s := range []struct {
		t eksv1.UpdateParamType
		v *int32
	}{{eksv1.ParamMinSize, c.MinSize}, {eksv1.ParamMaxSize, c.MaxSize}, {eksv1.ParamDesiredSize, c.DesiredSize}} {
		if s.v != nil {
			add(s.t, strconv.Itoa(int(*s.v)))
		}
	}
	if u := c.UpdateConfig; u != nil {
		var old eksv1.UpdateConfig
		if before != nil && before.UpdateConfig != nil {
			old = *before.UpdateConfig
		}
		if u.MaxUnavailable != nil && !equality.Semantic.DeepEqual(u.MaxUnavailable, old.MaxUnavailable) {
			add(eksv1.ParamMaxUnavailable, strconv.Itoa(int(*u.MaxUnavailable)))
		}
		if u.MaxUnavailablePercentage != nil && !equality.Semantic.DeepEqual(u.MaxUnavailablePercentage, old.MaxUnavailablePercentage) {
			add(eksv1.ParamMaxUnavailablePercentage, strconv.Itoa(int(*u.MaxUnavailablePercentage)))
		}
		if strategy(u.UpdateStrategy) != strategy(old.UpdateStrategy) {
			add(eksv1.ParamUpdateStrategy, strategy(u.UpdateStrategy))
		}
	}
	if r := c.NodeRepairConfig; r != nil {
		var oldEnabled bool
		if before != nil && before.NodeRepairConfig != nil {
			oldEnabled = ptr.Deref(before.NodeRepairConfig.Enabled, false)
		}
		if enabled := ptr.Deref(r.Enabled, false); enabled != oldEnabled {
			add(eksv1.ParamNodeRepairEnabled, strconv.FormatBool(enabled))
		}
		if before == nil || !equality.Semantic.DeepEqual(withEnabled(r), withEnabled(before.NodeRepairConfig)) {
			add(eksv1.ParamNodeRepairConfig, mustJSON(r))
		}
	}
	return ps
}

// ChangeOf reads the change an update's params describe, relative to the
// configuration before it: the inverse of Params.
func ChangeOf(params []eksv1.UpdateParam, before *eksv1.AppliedConfig) (Change, error) {
	var c Change
	for _, p := range params {
		var err error
		switch p.Type {
		case eksv1.ParamLabelsToAdd:
			err = json.Unmarshal([]byte(p.Value), &c.LabelsToAdd)
		case eksv1.ParamLabelsToRemove:
			err = json.Unmarshal([]byte(p.Value), &c.LabelsToRemove)
		case eksv1.ParamTaintsToAdd:
			err = json.Unmarshal([]byte(p.Value), &c.TaintsToAdd)
		case eksv1.ParamTaintsToRemove:
			err = json.Unmarshal([]byte(p.Value), &c.TaintsToRemove)
		case eksv1.ParamMinSize:
			c.MinSize, err = atoi32(p.Value)
		case eksv1.ParamMaxSize:
			c.MaxSize, err = atoi32(p.Value)
		case eksv1.ParamDesiredSize:
			c.DesiredSize, err = atoi32(p.Value)
		case eksv1.ParamMaxUnavailable, eksv1.ParamMaxUnavailablePercentage, eksv1.ParamUpdateStrategy:
			if c.UpdateConfig == nil {
				c.UpdateConfig = before.UpdateConfig.DeepCopy()
				if c.UpdateConfig == nil {
					c.UpdateConfig = &eksv1.UpdateConfig{}
				}
			}
			u := c.UpdateConfig
			switch p.Type {
			case eksv1.ParamMaxUnavailable:
				u.MaxUnavailable, err = atoi32(p.Value)
				u.MaxUnavailablePercentage = nil
			case eksv1.ParamMaxUnavailablePercentage:
				u.MaxUnavailablePercentage, err = atoi32(p.Value)
				u.MaxUnavailable = nil
			default:
				u.UpdateStrategy = p.Value
				if u.UpdateStrategy == "DEFAULT" {
					u.UpdateStrategy = ""
				}
			}
		case eksv1.ParamNodeRepairEnabled:
			if c.NodeRepairConfig == nil {
				c.NodeRepairConfig = before.NodeRepairConfig.DeepCopy()
				if c.NodeRepairConfig == nil {
					c.NodeRepairConfig = &eksv1.NodeRepairConfig{}
				}
			}
			var enabled bool
			enabled, err = strconv.ParseBool(p.Value)
			c.NodeRepairConfig.Enabled = ptr.To(enabled)
		case eksv1.ParamNodeRepairConfig:
			c.NodeRepairConfig = &eksv1.NodeRepairConfig{}
			err = json.Unmarshal([]byte(p.Value), c.NodeRepairConfig)
		default:
			err = fmt.Errorf("not a ConfigUpdate's parameter")
		}
		if err != nil {
			return Change{}, fmt.Errorf("update parameter %s=%q: %w", p.Type, p.Value, err)
		}
	}
	return c, nil
}

// withEnabled is a repair configuration with its enabled flag left out.
func withEnabled(r *eksv1.NodeRepairConfig) *eksv1.NodeRepairConfig {
	out := r.DeepCopy()
	if out == nil {
		out = &eksv1.NodeRepairConfig{}
	}
	out.Enabled = nil
	return out
}

func strategy(s string) string {
	if s == "" {
		return "DEFAULT"
	}
	return s
}

func indexTaint(ts []eksv1.Taint, t eksv1.Taint) int {
	return slices.IndexFunc(ts, func(u eksv1.Taint) bool { return u.Key == t.Key && u.Effect == t.Effect })
}

func atoi32(s string) (*int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, err
	}
	return ptr.To(int32(n)), nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps, lists and structs of strings: cannot fail
	}
	return string(b)
}
