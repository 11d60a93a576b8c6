package matching

import (
	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// Select returns the name of the profile a pod belongs to, and false if
// none: as EKS chooses, among the profiles that take pods (Serving) and
// have a selector the pod matches, the first by plain string order of
// name (beta-workload before prod-workload). A pod labelled
// eks.amazonaws.com/fargate-profile names its profile: that one only,
// and only if the pod matches one of its selectors, so a pod pinned to a
// profile never lands on another.
//
// The pod's namespace is pod.Namespace (an admission request's object
// may leave it out: set it from the request first). Select neither sorts
// nor changes profiles (they may be a cache's own objects) and allocates
// nothing.
func Select(profiles []eksv1.FargateProfile, pod *corev1.Pod) (profile string, ok bool) {
	pinned, isPinned := pod.Labels[eksv1.LabelFargateProfile]
	for i := range profiles {
		fp := &profiles[i]
		if isPinned && fp.Name != pinned {
			continue
		}
		if ok && fp.Name >= profile {
			continue // a match that sorts first is already chosen
		}
		if !Serving(fp) {
			continue
		}
		if _, matched := MatchingSelector(fp, pod); matched {
			profile, ok = fp.Name, true
		}
	}
	return profile, ok
}

// Serving reports whether a profile takes new pods: it is ACTIVE and not
// being deleted. A profile still CREATING has not been granted its pod
// execution role yet, and one being deleted is stopping its pods, so a
// pod placed there would have no node to run on.
func Serving(fp *eksv1.FargateProfile) bool {
	return fp.Status.Status == eksv1.FargateActive && fp.DeletionTimestamp == nil
}

// MatchingSelector returns the index of the first of the profile's
// selectors the pod matches, for events that say why a pod was placed
// ("matched selector 1 of profile web"). It does not look at the
// profile's status.
func MatchingSelector(fp *eksv1.FargateProfile, pod *corev1.Pod) (index int, ok bool) {
	for i := range fp.Spec.Selectors {
		if SelectorMatches(&fp.Spec.Selectors[i], pod) {
			return i, true
		}
	}
	return -1, false
}

// SelectorMatches reports whether a pod matches a selector: its namespace
// matches the selector's namespace pattern and, for every one of the
// selector's label patterns, the pod has some label whose key and value
// match it. A selector without labels matches every pod of its
// namespaces.
func SelectorMatches(sel *eksv1.FargateProfileSelector, pod *corev1.Pod) bool {
	if !Wildcard(sel.Namespace, pod.Namespace) {
		return false
	}
	for key, value := range sel.Labels {
		if !hasLabel(pod.Labels, key, value) {
			return false
		}
	}
	return true
}

// hasLabel reports whether some label of labels matches the key and value
// patterns. A literal key, the common case, is one lookup.
func hasLabel(labels map[string]string, key, value string) bool {
	if !hasWildcard(key) {
		v, ok := labels[key]
		return ok && Wildcard(value, v)
	}
	for k, v := range labels {
		if Wildcard(key, k) && Wildcard(value, v) {
			return true
		}
	}
	return false
}
