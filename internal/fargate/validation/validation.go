package validation

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/tags"
)

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// rolePattern is an IAM role's ARN in a partition EKS runs in: a path
	// (printable ASCII, ending in /) may come before the name.
	rolePattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/([!-~]*/)?[A-Za-z0-9+=,.@_-]{1,64}$`)
)

// Validate checks a profile about to be created against every rule EKS
// has for CreateFargateProfile and returns every problem, each naming its
// field and the rule it breaks. A profile is never updated (its spec is
// immutable), so there is no old object to compare with.
func Validate(fp *eksv1.FargateProfile, f Facts) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateName(fp.Name, f, field.NewPath("metadata", "name"))...)
	spec := field.NewPath("spec")
	s := &fp.Spec
	errs = append(errs, validateRole(s.PodExecutionRoleArn, spec.Child("podExecutionRoleArn"))...)
	errs = append(errs, validateSubnets(s.Subnets, f, spec.Child("subnets"))...)
	errs = append(errs, validateSelectors(s.Selectors, spec.Child("selectors"))...)
	errs = append(errs, tags.Validate(s.Tags, spec.Child("tags"))...)
	return errs
}

// validateName checks the name and the cluster-wide rules a new profile
// is held to: the quota of profiles, and none created while one is being
// deleted.
func validateName(name string, f Facts, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(name) > 63 || !namePattern.MatchString(name) {
		errs = append(errs, field.Invalid(p, name, "a Fargate profile's name is 1-63 characters, lowercase letters, digits and '-', starting with a letter or digit (EKS's fargateProfileName rule, within Kubernetes' rule for names)"))
	}
	if f.Profiles >= MaxProfiles {
		errs = append(errs, field.Forbidden(p, fmt.Sprintf("ResourceLimitExceeded: a cluster has at most %d Fargate profiles (it has %d): delete one first (kubectl get fargateprofiles)", MaxProfiles, f.Profiles)))
	}
	if f.Deleting != "" {
		errs = append(errs, field.Forbidden(p, fmt.Sprintf("ResourceInUse: Fargate profile %q is being deleted; no profile can be created until it is gone (EKS deletes one profile at a time): create this one again then (kubectl get fargateprofile %s)", f.Deleting, f.Deleting)))
	}
	return errs
}

func validateRole(arn string, p *field.Path) field.ErrorList {
	switch {
	case arn == "":
		return field.ErrorList{field.Required(p, "a Fargate profile needs a pod execution role: the IAM role its pods' nodes register with, trusting eks-fargate-pods.amazonaws.com (arn:aws:iam::<12-digit account>:role/<name>)")}
	case !rolePattern.MatchString(arn):
		return field.ErrorList{field.Invalid(p, arn, "the pod execution role must be an IAM role's ARN: arn:aws:iam::<12-digit account>:role/<path/name> (or the aws-cn or aws-us-gov partition)")}
	}
	return nil
}

// validateSubnets checks that every subnet is the cloud's and private:
// Fargate pods get no public address, so in a public subnet they could
// reach nothing outside it.
func validateSubnets(ids []string, f Facts, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ids) == 0 && !f.hasPrivateSubnet() {
		errs = append(errs, field.Required(p, "no subnets given, and the cloud has no private subnet to use instead: Fargate pods run only in private subnets (see kdp sim subnets)"))
	}
	seen := sets.New[string]()
	for i, id := range ids {
		ip := p.Index(i)
		if seen.Has(id) {
			errs = append(errs, detailed(field.Duplicate(ip, id), "a subnet is named once"))
			continue
		}
		seen.Insert(id)
		s, ok := f.subnet(id)
		switch {
		case !ok:
			errs = append(errs, detailed(field.NotFound(ip, id), fmt.Sprintf("unknown subnet %s: not one of the cloud's subnets (see kdp sim subnets)", id)))
		case s.Public:
			errs = append(errs, field.Invalid(ip, id, fmt.Sprintf("%s is public: Fargate pods run only in private subnets (no route to an internet gateway)", id)))
		}
	}
	return errs
}

// detailed adds a detail to the errors that field makes without one
// (NotFound, Duplicate, TooMany's fixed one), so that it names the rule.
func detailed(e *field.Error, detail string) *field.Error {
	if e.Detail != "" {
		detail = e.Detail + ": " + detail
	}
	e.Detail = detail
	return e
}
