// Package admission is Fargate's admission webhooks, served by kdp's one
// webhook server: a validating hook that checks a new FargateProfile
// against every rule of CreateFargateProfile, those only the cloud's
// subnets and the cluster's other profiles can tell included, and
// reports every problem at once; and the mutating hook that does what
// EKS's 0500-amazon-eks-fargate-mutation.amazonaws.com does, placing each
// new pod that matches a profile on Fargate.
package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/matching"
	"github.com/kdp-project/kdp/internal/fargate/validation"
)

// Checker checks new profiles and places new pods, from the cluster's
// FargateProfiles and the cloud's subnets.
type Checker struct {
	reader  client.Reader
	subnets []cloud.Subnet
}

// NewChecker returns a Checker. reader lists FargateProfiles: in
// production the manager's cached client, as the pod hook answers every
// pod the cluster creates and must cost no API call; subnets are the
// cloud's (they do not change while kdp runs).
func NewChecker(reader client.Reader, subnets []cloud.Subnet) *Checker {
	return &Checker{reader: reader, subnets: subnets}
}

// Facts are what checking a new profile fp needs: the cloud's subnets,
// how many other profiles there are, and one being deleted (the first by
// name, so that the answer does not change from one try to the next).
func (c *Checker) Facts(ctx context.Context, fp *eksv1.FargateProfile) (validation.Facts, error) {
	f := validation.Facts{Subnets: c.subnets}
	profiles := &eksv1.FargateProfileList{}
	if err := c.reader.List(ctx, profiles, client.UnsafeDisableDeepCopy); err != nil {
		return f, fmt.Errorf("listing Fargate profiles: %w", err)
	}
	for i := range profiles.Items {
		other := &profiles.Items[i]
		if other.Name == fp.Name {
			continue
		}
		f.Profiles++
		deleting := other.DeletionTimestamp != nil || other.Status.Status == eksv1.FargateDeleting
		if deleting && (f.Deleting == "" || other.Name < f.Deleting) {
			f.Deleting = other.Name
		}
	}
	return f, nil
}

// Check checks a profile about to be created. It returns nil, or the
// status to answer with: Invalid, listing every problem.
func (c *Checker) Check(ctx context.Context, fp *eksv1.FargateProfile) (*metav1.Status, error) {
	f, err := c.Facts(ctx, fp)
	if err != nil {
		return nil, err
	}
	errs := validation.Validate(fp, f)
	if len(errs) == 0 {
		return nil, nil
	}
	st := apierrors.NewInvalid(schema.GroupKind{Group: eksv1.GroupVersion.Group, Kind: "FargateProfile"}, fp.Name, errs).ErrStatus
	return &st, nil
}

// ProfileFor answers "which profile would this pod match now?", as the
// pod hook does when the pod is created: the Fargate scheduler asks it
// again of a pending pod, whose profile may since have gone. It does not
// look at whether the pod is matching.Eligible. The pod's namespace must
// be set.
func (c *Checker) ProfileFor(ctx context.Context, pod *corev1.Pod) (profile string, ok bool, err error) {
	profiles := &eksv1.FargateProfileList{}
	// The profiles are only read: the cache's own objects do.
	if err := c.reader.List(ctx, profiles, client.UnsafeDisableDeepCopy); err != nil {
		return "", false, fmt.Errorf("listing Fargate profiles: %w", err)
	}
	profile, ok = matching.Select(profiles.Items, pod)
	return profile, ok, nil
}
