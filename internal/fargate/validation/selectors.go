package validation

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// wildcards tells, in every pattern's error, that `*` and `?` were not
// what is wrong.
const wildcards = " (with * and ? allowed as wildcards)"

func validateSelectors(selectors []eksv1.FargateProfileSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case len(selectors) == 0:
		errs = append(errs, field.Required(p, fmt.Sprintf("a Fargate profile needs 1 to %d selectors: a namespace (and labels) of the pods it runs", MaxSelectors)))
	case len(selectors) > MaxSelectors:
		errs = append(errs, detailed(field.TooMany(p, len(selectors), MaxSelectors), "EKS's quota of selectors per Fargate profile"))
	}
	for i := range selectors {
		errs = append(errs, validateSelector(&selectors[i], p.Index(i))...)
	}
	return errs
}

func validateSelector(s *eksv1.FargateProfileSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	np := p.Child("namespace")
	if s.Namespace == "" {
		errs = append(errs, field.Required(np, "every selector needs a namespace, or a pattern of namespaces such as prod-*"))
	} else if msg := patternError(s.Namespace, validation.IsDNS1123Label); msg != "" {
		errs = append(errs, field.Invalid(np, s.Namespace, "a namespace pattern must be a namespace's name"+wildcards+": "+msg))
	}
	lp := p.Child("labels")
	if len(s.Labels) > MaxSelectorLabels {
		errs = append(errs, detailed(field.TooMany(lp, len(s.Labels), MaxSelectorLabels), "EKS's quota of labels per Fargate profile selector"))
	}
	for _, k := range sets.List(sets.KeySet(s.Labels)) {
		kp := lp.Key(k)
		if msg := patternError(k, validation.IsQualifiedName); msg != "" {
			errs = append(errs, field.Invalid(kp, k, "a label key pattern must be a label key"+wildcards+": "+msg))
		}
		v := s.Labels[k]
		if msg := patternError(v, validation.IsValidLabelValue); msg != "" {
			errs = append(errs, field.Invalid(kp, v, "a label value pattern must be a label value"+wildcards+": "+msg))
		}
	}
	return errs
}

// The two names a pattern is checked as (see patternError).
var (
	wildcardsAsLetters = strings.NewReplacer("*", "a", "?", "a")
	starsAsNothing     = strings.NewReplacer("*", "", "?", "a")
)

// patternError checks a pattern's literal characters with a check of the
// names it may match, and returns check's complaints, joined, unless one
// of two such names passes: every wildcard as one letter (`?` is exactly
// one character, and a `*` as one keeps "a-*" from looking like the
// invalid "a-"), or every `*` as nothing (so 63 characters and a `*` are
// not too long for a label). A pattern that fails both matches no valid
// name (as "-*" and "*." for a namespace, or "a*/b/c", with two slashes,
// for a label key), but for contrived ones at the limit of a length that
// need one `*` empty and another not.
func patternError(pattern string, check func(string) []string) string {
	msgs := check(wildcardsAsLetters.Replace(pattern))
	if len(msgs) == 0 {
		return ""
	}
	if strings.Contains(pattern, "*") && len(check(starsAsNothing.Replace(pattern))) == 0 {
		return ""
	}
	return strings.Join(msgs, "; ")
}
