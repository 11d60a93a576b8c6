// Package validation fills in a node group's defaults and checks it
// against every rule of EKS's CreateNodegroup and UpdateNodegroupConfig,
// reporting all problems at once as Kubernetes field errors. It is pure:
// what it needs to know of the cloud and the cluster comes in Facts, so
// the admission webhook and the EKS-compatible API share it, and its tests
// are tables.
package validation

import (
	"slices"
	"strings"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Limits, as EKS's quotas and API set them.
const (
	// MaxNodegroups is how many node groups a cluster may have.
	MaxNodegroups = 30
	// MaxNodes is how many nodes a node group may have.
	MaxNodes  = 450
	MaxTaints = 50
	// MaxLabels is kdp's bound (EKS documents none).
	MaxLabels        = 100
	MaxInstanceTypes = 20
	MaxUnavailable   = 100
)

// Defaults EKS gives a node group.
const (
	DefaultInstanceType = "t3.medium"
	DefaultDiskSize     = 20
	DefaultMinSize      = 1
	DefaultMaxSize      = 2
	DefaultDesiredSize  = 2
	// DefaultNodeRoleName is the role kdp's node groups get when the spec
	// names none (EKS requires one).
	DefaultNodeRoleName = "KdpNodeRole"
)

// Facts are what checking a node group needs to know besides the object:
// the cloud's catalogue, the cluster, and the user's launch template.
type Facts struct {
	InstanceTypes map[string]cloud.InstanceType
	// Images are the node images on offer.
	Images  []cloud.Image
	Subnets map[string]cloud.Subnet
	// ClusterVersion is the cluster's Kubernetes minor version, e.g. 1.37.
	ClusterVersion string
	Account        string
	// Nodegroups is how many other node groups the cluster has.
	Nodegroups int
	// LaunchTemplate is the version of the user's launch template the spec
	// names, nil if it names none; LaunchTemplateErr says why it could not
	// be read.
	LaunchTemplate    *cloud.LaunchTemplateVersion
	LaunchTemplateErr error
}

// NewFacts builds Facts from the cloud's catalogue.
func NewFacts(types []cloud.InstanceType, images []cloud.Image, subnets []cloud.Subnet) *Facts {
	f := &Facts{InstanceTypes: map[string]cloud.InstanceType{}, Images: images, Subnets: map[string]cloud.Subnet{}}
	for _, t := range types {
		f.InstanceTypes[t.Name] = t
	}
	for _, s := range subnets {
		f.Subnets[s.ID] = s
	}
	return f
}

// PrivateSubnets are the ids of the private subnets, by zone.
func (f *Facts) PrivateSubnets() []string {
	var out []cloud.Subnet
	for _, s := range f.Subnets {
		if !s.Public {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b cloud.Subnet) int { return strings.Compare(a.Zone+a.ID, b.Zone+b.ID) })
	ids := make([]string, len(out))
	for i, s := range out {
		ids[i] = s.ID
	}
	return ids
}

// Image returns the image of an id.
func (f *Facts) Image(id string) (cloud.Image, bool) {
	i := slices.IndexFunc(f.Images, func(img cloud.Image) bool { return img.ID == id })
	if i < 0 {
		return cloud.Image{}, false
	}
	return f.Images[i], true
}

// ImageFor returns the image of an AMI type, Kubernetes minor version and
// release ("" for the newest).
func (f *Facts) ImageFor(amiType, version, release string) (cloud.Image, bool) {
	var best cloud.Image
	found := false
	for _, img := range f.Images {
		if img.Type != amiType || Minor(img.KubernetesVersion) != version || (release != "" && img.ReleaseVersion != release) {
			continue
		}
		if !found || img.Released.After(best.Released) {
			best, found = img, true
		}
	}
	return best, found
}

// Minor is the minor version of a Kubernetes version: 1.37 of 1.37.2 (and
// of v1.37.2).
func Minor(v string) string {
	v = strings.TrimPrefix(v, "v")
	if i := strings.Index(v, "."); i >= 0 {
		if j := strings.Index(v[i+1:], "."); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}

// NodeRole is the default node role of an account.
func NodeRole(account string) string {
	return "arn:aws:iam::" + account + ":role/" + DefaultNodeRoleName
}
