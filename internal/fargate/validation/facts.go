// Package validation checks a Fargate profile against every rule of EKS's
// CreateFargateProfile, reporting all problems at once as Kubernetes
// field errors, each naming its field and its rule. It is pure: what it
// needs to know of the cloud and of the cluster's other profiles comes in
// Facts, so the admission webhook and the EKS-compatible API share it,
// and its tests are tables.
package validation

import "github.com/kdp-project/kdp/internal/cloud"

// Limits, as EKS's quotas set them.
const (
	// MaxProfiles is how many Fargate profiles a cluster may have.
	MaxProfiles = 10
	// MaxSelectors is how many selectors a profile may have.
	MaxSelectors = 5
	// MaxSelectorLabels is how many labels a selector may have.
	MaxSelectorLabels = 5
)

// Facts are what checking a new profile needs to know besides the object.
type Facts struct {
	// Subnets are the cloud's subnets.
	Subnets []cloud.Subnet
	// Profiles is how many other profiles the cluster has, those being
	// deleted included (they exist until they are gone).
	Profiles int
	// Deleting is the name of a profile being deleted, "" if none: while
	// one is, no profile can be created.
	Deleting string
}

// subnet returns the cloud's subnet of an id.
func (f *Facts) subnet(id string) (cloud.Subnet, bool) {
	for _, s := range f.Subnets {
		if s.ID == id {
			return s, true
		}
	}
	return cloud.Subnet{}, false
}

// hasPrivateSubnet reports whether a profile that names no subnets has
// somewhere to run.
func (f *Facts) hasPrivateSubnet() bool {
	for _, s := range f.Subnets {
		if !s.Public {
			return true
		}
	}
	return false
}
