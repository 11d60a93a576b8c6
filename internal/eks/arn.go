package eks

import (
	"fmt"
	"strings"
)

// The kinds of resource whose ARNs kdp's EKS API tags.
const (
	KindCluster        = "cluster"
	KindNodegroup      = "nodegroup"
	KindFargateProfile = "fargateprofile"
)

// otherKinds are EKS's other taggable kinds: their ARNs are well formed,
// but kdp has none of them.
var otherKinds = []string{"addon", "identityproviderconfig", "podidentityassociation", "access-entry"}

// ResourceARN is an EKS resource's ARN, taken apart:
// arn:<partition>:eks:<region>:<account>:cluster/<cluster>, or
// ...:nodegroup/<cluster>/<name>/<uuid>, or
// ...:fargateprofile/<cluster>/<name>/<uuid>.
type ResourceARN struct {
	Partition, Region, Account string
	// Kind is KindCluster, KindNodegroup, KindFargateProfile or one of
	// EKS's other kinds.
	Kind    string
	Cluster string
	// Name and UID are the node group's or profile's ("" for a cluster).
	Name, UID string
}

// ParseARN takes an EKS ARN apart. It checks the form only (an ARN of a
// resource that does not exist parses); the error says what is wrong.
func ParseARN(s string) (ResourceARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ResourceARN{}, fmt.Errorf("%q is not an ARN: arn:aws:eks:<region>:<account>:<resource>", s)
	}
	a := ResourceARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	switch {
	case a.Partition == "":
		return ResourceARN{}, fmt.Errorf("ARN %q has no partition (aws)", s)
	case parts[2] != "eks":
		return ResourceARN{}, fmt.Errorf("ARN %q is not of EKS (its service is %q, not eks)", s, parts[2])
	case a.Region == "":
		return ResourceARN{}, fmt.Errorf("ARN %q has no region", s)
	case !isAccountID(a.Account):
		return ResourceARN{}, fmt.Errorf("ARN %q has no account id (12 digits)", s)
	}
	kind, rest, _ := strings.Cut(parts[5], "/")
	a.Kind = kind
	segments := strings.Split(rest, "/")
	switch kind {
	case KindCluster:
		if len(segments) != 1 || segments[0] == "" {
			return ResourceARN{}, fmt.Errorf("ARN %q is not a cluster's: ...:cluster/<name>", s)
		}
		a.Cluster = segments[0]
	case KindNodegroup, KindFargateProfile:
		if len(segments) != 3 || slicesHasEmpty(segments) {
			return ResourceARN{}, fmt.Errorf("ARN %q is not a %s's: ...:%s/<cluster>/<name>/<uuid>", s, kind, kind)
		}
		a.Cluster, a.Name, a.UID = segments[0], segments[1], segments[2]
	default:
		if !contains(otherKinds, kind) {
			return ResourceARN{}, fmt.Errorf("ARN %q names no kind of EKS resource that has tags (%q)", s, kind)
		}
		a.Cluster = segments[0]
	}
	return a, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func slicesHasEmpty(s []string) bool { return contains(s, "") }

// clusterARN is the ARN of kdp's cluster.
func (s *Service) clusterARN() string {
	return "arn:aws:eks:" + s.acct.Region + ":" + s.acct.ID + ":cluster/" + s.clus.Name
}
