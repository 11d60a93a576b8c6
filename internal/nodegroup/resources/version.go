package resources

import (
	"fmt"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// Version is what a VersionUpdate changes, in the terms of EKS's
// UpdateNodegroupVersion: the nodes' Kubernetes version and image release
// or, for a group with a launch template of the user's, that template's
// version.
type Version struct {
	Version        string
	ReleaseVersion string
	// LaunchTemplate names the user's launch template (its name, or its id
	// if the spec gives that) and LaunchTemplateVersion its version.
	LaunchTemplate        string
	LaunchTemplateVersion string
}

// PendingVersion is the version a group's spec asks for, and whether it
// differs from the one in effect: a version update to make.
func PendingVersion(applied *eksv1.AppliedConfig, spec *eksv1.NodeGroupSpec) (Version, bool) {
	v := Version{Version: spec.Version, ReleaseVersion: spec.ReleaseVersion}
	if lt := spec.LaunchTemplate; lt != nil {
		v.LaunchTemplate, v.LaunchTemplateVersion = lt.Name, lt.Version
		if v.LaunchTemplate == "" {
			v.LaunchTemplate = lt.ID
		}
	}
	custom := applied.ReleaseVersion == applied.ImageID // a custom image's release is its id
	pending := v.Version != applied.Version || v.LaunchTemplateVersion != applied.LaunchTemplateVersion ||
		(!custom && v.ReleaseVersion != "" && v.ReleaseVersion != applied.ReleaseVersion)
	return v, pending
}

// Params are the update's parameters as EKS writes them.
func (v Version) Params() []eksv1.UpdateParam {
	ps := []eksv1.UpdateParam{{Type: eksv1.ParamVersion, Value: v.Version}}
	if v.ReleaseVersion != "" {
		ps = append(ps, eksv1.UpdateParam{Type: eksv1.ParamReleaseVersion, Value: v.ReleaseVersion})
	}
	if v.LaunchTemplate != "" {
		ps = append(ps,
			eksv1.UpdateParam{Type: eksv1.ParamLaunchTemplateName, Value: v.LaunchTemplate},
			eksv1.UpdateParam{Type: eksv1.ParamLaunchTemplateVersion, Value: v.LaunchTemplateVersion})
	}
	return ps
}

// VersionOf reads the version a VersionUpdate's params ask for: the
// inverse of Params.
func VersionOf(params []eksv1.UpdateParam) (Version, error) {
	var v Version
	for _, p := range params {
		switch p.Type {
		case eksv1.ParamVersion:
			v.Version = p.Value
		case eksv1.ParamReleaseVersion:
			v.ReleaseVersion = p.Value
		case eksv1.ParamLaunchTemplateName:
			v.LaunchTemplate = p.Value
		case eksv1.ParamLaunchTemplateVersion:
			v.LaunchTemplateVersion = p.Value
		default:
			return Version{}, fmt.Errorf("update parameter %s=%q: not a VersionUpdate's parameter", p.Type, p.Value)
		}
	}
	if v.Version == "" {
		return Version{}, fmt.Errorf("a VersionUpdate's parameters name no Version")
	}
	return v, nil
}

// ApplyVersion returns the configuration applied becomes once every node
// runs image (its id and release) of version v.
func ApplyVersion(applied *eksv1.AppliedConfig, v Version, image Image) *eksv1.AppliedConfig {
	out := applied.DeepCopy()
	out.Version, out.ReleaseVersion, out.ImageID = v.Version, image.ReleaseVersion, image.ID
	out.LaunchTemplateVersion = v.LaunchTemplateVersion
	return out
}

// MaxUnavailable is how many nodes a version update replaces at once:
// updateConfig's count, or its percentage of the group's desired size
// rounded down (at least 1), and never more than 100, as EKS bounds it.
func MaxUnavailable(u *eksv1.UpdateConfig, desired int32) int32 {
	n := int32(1)
	switch {
	case u == nil:
	case u.MaxUnavailable != nil:
		n = *u.MaxUnavailable
	case u.MaxUnavailablePercentage != nil:
		n = desired * *u.MaxUnavailablePercentage / 100
	}
	return min(max(n, 1), 100)
}

// Surge is how many nodes a DEFAULT version update adds before it
// replaces any: the larger of twice the zones the group spans and
// maxUnavailable, as EKS raises the Auto Scaling group's max and desired.
func Surge(zones int, maxUnavailable int32) int32 {
	return max(int32(2*zones), maxUnavailable)
}
