package validation

import (
	"slices"
	"strconv"

	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

// Default fills in what a new node group's spec leaves out, as EKS does,
// so that the object shows what is in effect. For a change of an existing
// group (old set) it keeps what the new spec leaves out of the fields a
// change cannot touch or that were defaulted (a re-applied manifest that
// never named them), rather than computing them again.
//
// Where kdp differs from EKS: subnets default to every private subnet and
// nodeRole to the account's KdpNodeRole (EKS requires both), and a GPU
// instance type defaults to the NVIDIA AMI type of its architecture (EKS
// defaults to the standard one, whose nodes have no GPU driver).
func Default(ng *eksv1.NodeGroup, old *eksv1.NodeGroup, f *Facts) {
	s := &ng.Spec
	if old != nil {
		keep(s, &old.Spec)
		// A new Kubernetes version without a release of its own goes to
		// the newest release of that version, as UpdateNodegroupVersion
		// does.
		custom := f.LaunchTemplate != nil && f.LaunchTemplate.ImageID != ""
		if s.Version != old.Spec.Version && s.ReleaseVersion == old.Spec.ReleaseVersion && !custom && s.AMIType != eksv1.CustomAMI {
			if img, ok := f.ImageFor(string(s.AMIType), s.Version, ""); ok {
				s.ReleaseVersion = img.ReleaseVersion
			}
		}
		return
	}
	if s.ScalingConfig == nil {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: DefaultMinSize, MaxSize: DefaultMaxSize, DesiredSize: DefaultDesiredSize}
	}
	lt := f.LaunchTemplate
	custom := lt != nil && lt.ImageID != ""
	if s.LaunchTemplate != nil && s.LaunchTemplate.Version == "" && lt != nil {
		s.LaunchTemplate.Version = strconv.FormatInt(lt.Number, 10) // the default version, pinned
	}
	if len(s.InstanceTypes) == 0 && (lt == nil || lt.InstanceType == "") {
		s.InstanceTypes = []string{DefaultInstanceType}
	}
	if s.DiskSize == nil && s.LaunchTemplate == nil {
		s.DiskSize = ptr.To[int32](DefaultDiskSize)
	}
	if s.CapacityType == "" {
		s.CapacityType = eksv1.OnDemand
	}
	if s.UpdateConfig == nil {
		s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)}
	}
	if s.AMIType == "" {
		if custom {
			s.AMIType = eksv1.CustomAMI
		} else if t, ok := f.InstanceTypes[firstType(s, lt)]; ok {
			s.AMIType = amiTypeFor(t)
		}
	}
	if s.Version == "" {
		s.Version = f.ClusterVersion
		if custom {
			if img, ok := f.Image(lt.ImageID); ok {
				s.Version = Minor(img.KubernetesVersion)
			}
		}
	}
	if s.ReleaseVersion == "" && !custom && s.AMIType != eksv1.CustomAMI {
		if img, ok := f.ImageFor(string(s.AMIType), s.Version, ""); ok {
			s.ReleaseVersion = img.ReleaseVersion
		}
	}
	if len(s.Subnets) == 0 {
		s.Subnets = f.PrivateSubnets()
	}
	if s.NodeRole == "" && f.Account != "" {
		s.NodeRole = NodeRole(f.Account)
	}
}

// keep copies into s what it leaves out of old's fields that are fixed at
// create or were defaulted then.
func keep(s, old *eksv1.NodeGroupSpec) {
	if s.ScalingConfig == nil {
		s.ScalingConfig = old.ScalingConfig.DeepCopy()
	}
	if s.DiskSize == nil {
		s.DiskSize = old.DiskSize
	}
	if len(s.Subnets) == 0 {
		s.Subnets = slices.Clone(old.Subnets)
	}
	if len(s.InstanceTypes) == 0 {
		s.InstanceTypes = slices.Clone(old.InstanceTypes)
	}
	if s.AMIType == "" {
		s.AMIType = old.AMIType
	}
	if s.NodeRole == "" {
		s.NodeRole = old.NodeRole
	}
	if s.CapacityType == "" {
		s.CapacityType = old.CapacityType
	}
	if s.UpdateConfig == nil {
		s.UpdateConfig = old.UpdateConfig.DeepCopy()
	}
	if s.Version == "" {
		s.Version = old.Version
	}
	if s.ReleaseVersion == "" {
		s.ReleaseVersion = old.ReleaseVersion
	}
	if s.LaunchTemplate != nil && old.LaunchTemplate != nil && s.LaunchTemplate.Version == "" {
		s.LaunchTemplate.Version = old.LaunchTemplate.Version
	}
}

// firstType is the instance type a group's image must suit: its first,
// or its launch template's.
func firstType(s *eksv1.NodeGroupSpec, lt *cloud.LaunchTemplateVersion) string {
	if len(s.InstanceTypes) > 0 {
		return s.InstanceTypes[0]
	}
	if lt != nil {
		return lt.InstanceType
	}
	return DefaultInstanceType
}

// amiTypeFor is the AL2023 AMI type for an instance type.
func amiTypeFor(t cloud.InstanceType) eksv1.AMIType {
	arm := t.Architecture == cloud.ArchARM64
	switch {
	case t.GPUs > 0 && t.GPUManufacturer == "nvidia" && arm:
		return eksv1.AL2023ARMNVIDIA
	case t.GPUs > 0 && t.GPUManufacturer == "nvidia":
		return eksv1.AL2023x86NVIDIA
	case arm:
		return eksv1.AL2023ARMStandard
	}
	return eksv1.AL2023x86Standard
}

// architecture is the architecture of an AMI type ("" for CUSTOM).
func architecture(t eksv1.AMIType) string {
	switch t {
	case eksv1.AL2023ARMStandard, eksv1.AL2023ARMNVIDIA, eksv1.BottlerocketARM, eksv1.BottlerocketARMNVIDIA:
		return cloud.ArchARM64
	case eksv1.CustomAMI:
		return ""
	}
	return cloud.ArchAMD64
}
