package resources

import (
	"maps"
	"testing"
)

func TestGroupTags(t *testing.T) {
	ng := nodegroup("web", uid)
	eks := map[string]string{
		"eks:cluster-name":                  "prod",
		"eks:nodegroup-name":                "web",
		"kubernetes.io/cluster/prod":        "owned",
		"k8s.io/cluster-autoscaler/enabled": "true",
		"k8s.io/cluster-autoscaler/prod":    "owned",
		"eks.kdp.dev/nodegroup-uid":         uid,
	}
	for _, c := range []struct {
		name string
		user map[string]string
		want map[string]string
	}{
		{"no user tags", nil, eks},
		{"empty user tags", map[string]string{}, eks},
		{"user tags beside EKS's", map[string]string{"team": "web", "cost-center": "42"}, with(eks, map[string]string{"team": "web", "cost-center": "42"})},
		{"EKS's win", map[string]string{
			"eks:cluster-name": "other", "k8s.io/cluster-autoscaler/enabled": "false", "kubernetes.io/cluster/prod": "shared", "eks.kdp.dev/nodegroup-uid": "x",
		}, eks},
		{"another cluster's autoscaler tag is the user's", map[string]string{"k8s.io/cluster-autoscaler/dev": "owned"},
			with(eks, map[string]string{"k8s.io/cluster-autoscaler/dev": "owned"})},
	} {
		before := maps.Clone(c.user)
		got := GroupTags("prod", ng, c.user)
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: GroupTags = %v, want %v", c.name, got, c.want)
		}
		if !maps.Equal(c.user, before) {
			t.Errorf("%s: GroupTags changed the user's tags: %v", c.name, c.user)
		}
	}
}

func with(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func TestManaged(t *testing.T) {
	for key, want := range map[string]bool{
		"eks:cluster-name":                                   true,
		"eks:nodegroup-name":                                 true,
		"kubernetes.io/cluster/prod":                         true,
		"k8s.io/cluster-autoscaler/enabled":                  true,
		"k8s.io/cluster-autoscaler/prod":                     true,
		"eks.kdp.dev/nodegroup-uid":                          true,
		"kubernetes.io/cluster/dev":                          false, // another cluster's
		"k8s.io/cluster-autoscaler/dev":                      false,
		"k8s.io/cluster-autoscaler/node-template/label/team": false, // EKS does not write these
		"team":                      false,
		"aws:autoscaling:groupName": false, // the cloud's, not kdp's
		"":                          false,
	} {
		if got := Managed("prod", key); got != want {
			t.Errorf("Managed(prod, %q) = %v, want %v", key, got, want)
		}
	}
	// Every tag GroupTags sets is Managed, so a user tag removal never
	// takes off one of them.
	for key := range GroupTags("prod", nodegroup("web", uid), nil) {
		if !Managed("prod", key) {
			t.Errorf("GroupTags sets %q, which Managed does not know", key)
		}
	}
}
