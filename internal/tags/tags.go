// Package tags is EKS's rules of resource tags, the same for every
// resource it tags (node groups, Fargate profiles, clusters).
package tags

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Max is EKS's limit of tags per resource.
const Max = 50

// Validate checks tags at p: at most Max, keys of 1–128 characters not in
// the aws: namespace, values of at most 256 characters. It reports every
// problem, in key order.
func Validate(tags map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(tags) > Max {
		tooMany := field.TooMany(p, len(tags), Max)
		tooMany.Detail += ": EKS's limit of tags per resource"
		errs = append(errs, tooMany)
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
			tooLong := field.TooLong(kp, v, 256)
			tooLong.Detail += ": a tag value is at most 256 characters"
			errs = append(errs, tooLong)
		}
	}
	return errs
}
