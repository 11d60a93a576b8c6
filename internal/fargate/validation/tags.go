package validation

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateTags checks EKS's rules of resource tags, the same for every
// resource it tags.
func validateTags(tags map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(tags) > MaxTags {
		errs = append(errs, detailed(field.TooMany(p, len(tags), MaxTags), "EKS's limit of tags per resource"))
	}
	for _, k := range sets.List(sets.KeySet(tags)) {
		kp := p.Key(k)
		if len(k) < 1 || len(k) > 128 {
			errs = append(errs, field.Invalid(kp, k, "a tag key must be 1-128 characters"))
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			errs = append(errs, field.Invalid(kp, k, "a tag key must not begin with aws: (AWS keeps those)"))
		}
		if v := tags[k]; len(v) > 256 {
			errs = append(errs, detailed(field.TooLong(kp, v, 256), "a tag value is at most 256 characters"))
		}
	}
	return errs
}
