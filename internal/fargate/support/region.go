package support

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Location is where a zone is: in its region's own Availability Zones, or
// in an extension of the region that Fargate does not reach.
type Location int

const (
	// InRegion: an Availability Zone (us-east-1a), or a name this package
	// does not recognise as anything else.
	InRegion Location = iota
	// LocalZone: an AWS Local Zone, named region-city-N plus a letter
	// (us-east-1-bos-1a, us-west-2-lax-1b). Managed node groups run there;
	// Fargate does not.
	LocalZone
	// Wavelength: an AWS Wavelength Zone, named region-wl1-city-wlz-N
	// (us-east-1-wl1-bos-wlz-1). Only self-managed nodes run there.
	Wavelength
	// Outposts: an AWS Outpost. Its subnets are in the parent region's
	// zones, so no zone name says so; ZoneLocation never returns it, and
	// callers that know of an Outpost (kdp advise, from an annotation) say
	// so themselves. Only self-managed nodes run there.
	Outposts
)

func (l Location) String() string {
	switch l {
	case LocalZone:
		return "Local Zone"
	case Wavelength:
		return "Wavelength Zone"
	case Outposts:
		return "Outpost"
	default:
		return "region"
	}
}

var (
	wavelengthZone = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]+-wl[0-9]+-[a-z0-9]+-wlz-[0-9]+$`)
	localZone      = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]+-[a-z]+-[0-9]+[a-z]$`)
)

// ZoneLocation says where a zone name (a topology.kubernetes.io/zone value)
// is, by the naming scheme of AWS's zones.
func ZoneLocation(zone string) Location {
	switch {
	case wavelengthZone.MatchString(zone):
		return Wavelength
	case localZone.MatchString(zone):
		return LocalZone
	default:
		return InRegion
	}
}

// zoneLabels are the node labels that name a node's zone.
var zoneLabels = map[string]bool{
	corev1.LabelTopologyZone:          true,
	corev1.LabelFailureDomainBetaZone: true,
}

// outsideRegion reports node selection that requires a zone outside the
// region proper: EKS runs Fargate pods only in the region's Availability
// Zones, never in Local Zones or Wavelength Zones. A nodeSelector entry on a
// zone label with such a zone is reported; so is required node affinity
// whose every term asks (with In) for such zones only, each such expression.
func outsideRegion(pod *corev1.Pod) []Reason {
	var out []Reason
	for _, key := range slices.Sorted(maps.Keys(pod.Spec.NodeSelector)) {
		value := pod.Spec.NodeSelector[key]
		if loc := ZoneLocation(value); zoneLabels[key] && loc != InRegion {
			out = append(out, Reason{Kind: KindOutsideRegion, Field: "spec.nodeSelector[" + key + "]", Detail: fmt.Sprintf("%s=%s (%s)", key, value, loc), Location: loc})
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return out
	}
	var affinity []Reason
	for i, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var failed []Reason
		for j, e := range term.MatchExpressions {
			if loc, ok := outsideOnly(e); ok {
				field := fmt.Sprintf("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%d].matchExpressions[%d]", i, j)
				failed = append(failed, Reason{Kind: KindOutsideRegion, Field: field, Detail: describe(e) + " (" + loc.String() + ")", Location: loc})
			}
		}
		if len(failed) == 0 {
			return out // this term can be satisfied in the region
		}
		affinity = append(affinity, failed...)
	}
	return append(out, affinity...)
}

// outsideOnly reports whether e admits only zones outside the region, and
// the most restrictive of their locations (Wavelength over Local Zone), the
// one that decides which nodes can serve them.
func outsideOnly(e corev1.NodeSelectorRequirement) (Location, bool) {
	if !zoneLabels[e.Key] || e.Operator != corev1.NodeSelectorOpIn || len(e.Values) == 0 {
		return InRegion, false
	}
	loc := InRegion
	for _, v := range e.Values {
		l := ZoneLocation(v)
		if l == InRegion {
			return InRegion, false
		}
		loc = max(loc, l)
	}
	return loc, true
}
