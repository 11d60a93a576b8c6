package resources

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

const uid = "5f1d3b8e-0c1a-4b8e-9d7a-2c3e4f5a6b7c"

func nodegroup(name string, u types.UID) *eksv1.NodeGroup {
	return &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name, UID: u}}
}

func TestNames(t *testing.T) {
	ng := nodegroup("web-1", uid)
	for _, c := range []struct{ what, got, want string }{
		{"ASGName", ASGName(ng), "eks-web-1-" + uid},
		{"TemplateName", TemplateName(ng), "eks-" + uid},
		{"ARN", ARN("us-east-1", "123456789012", "prod", ng), "arn:aws:eks:us-east-1:123456789012:nodegroup/prod/web-1/" + uid},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestNodegroupOfASG(t *testing.T) {
	for _, c := range []struct {
		asg  string
		want string // "" for not one of ASGName's
	}{
		{"eks-web-" + uid, "web"},
		{"eks-web-1-" + uid, "web-1"}, // dashes in the group's name
		{"eks-eks-" + uid, "eks"},
		{"eks-a-" + uid, "a"},
		{"eks--" + uid, ""},                                // no name
		{"eks-" + uid, ""},                                 // a template's name, not a group's
		{"web-" + uid, ""},                                 // not eks-
		{"EKS-web-" + uid, ""},                             // prefix is case-sensitive
		{"eks-web_" + uid, ""},                             // no dash before the uuid
		{"eks-web-" + strings.ToUpper(uid)[:35] + "x", ""}, // not a uuid
		{"eks-web-" + uid[:35], ""},                        // too short
		{"eks-web", ""},
		{"", ""},
	} {
		got, ok := NodegroupOfASG(c.asg)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("NodegroupOfASG(%q) = %q, %v; want %q", c.asg, got, ok, c.want)
		}
	}
	// The inverse of ASGName for any name a NodeGroup may have.
	for _, name := range []string{"a", "web", "web-1", strings.Repeat("x", 63), "1-2-3"} {
		ng := nodegroup(name, uid)
		if got, ok := NodegroupOfASG(ASGName(ng)); !ok || got != name {
			t.Errorf("NodegroupOfASG(ASGName(%q)) = %q, %v", name, got, ok)
		}
	}
}

func TestUpdateIDIsDeterministic(t *testing.T) {
	ng := nodegroup("web", uid)
	id := UpdateID(ng, 2)
	if id != UpdateID(nodegroup("web", uid), 2) {
		t.Fatalf("UpdateID differs for the same group and generation")
	}
	// Pinned (UUIDv5 of "<uid>/<generation>" in updateSpace, computed
	// apart): a record written by an older kdp is found by a newer one.
	if id != "32dc48eb-0801-5e62-be3d-adb3a919d509" {
		t.Fatalf("UpdateID = %s, want 32dc48eb-0801-5e62-be3d-adb3a919d509", id)
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("UpdateID %q is not a name-based (SHA-1) UUID: %v", id, err)
	}
	others := map[string]string{
		"generation 3":       UpdateID(ng, 3),
		"generation 20":      UpdateID(ng, 20),
		"another group's id": UpdateID(nodegroup("web", "6f1d3b8e-0c1a-4b8e-9d7a-2c3e4f5a6b7c"), 2),
	}
	seen := map[string]string{id: "generation 2"}
	for what, o := range others {
		if prev, ok := seen[o]; ok {
			t.Errorf("UpdateID of %s is that of %s: %s", what, prev, o)
		}
		seen[o] = what
	}
	// The name is not part of it: a group is its UID.
	if UpdateID(nodegroup("other", uid), 2) != id {
		t.Errorf("UpdateID depends on the group's name")
	}
}

func TestTokenID(t *testing.T) {
	id := TokenID(nodegroup("web", uid))
	if id != "2358c2" { // the first 3 bytes of SHA-256(uid), computed apart
		t.Fatalf("TokenID = %q, want 2358c2", id)
	}
	// A bootstrap token's id is [a-z0-9]{6}.
	if !regexp.MustCompile(`^[a-z0-9]{6}$`).MatchString(id) {
		t.Fatalf("TokenID = %q, not a bootstrap token id", id)
	}
	if id != TokenID(nodegroup("other", uid)) {
		t.Errorf("TokenID depends on the group's name")
	}
	if id == TokenID(nodegroup("web", "6f1d3b8e-0c1a-4b8e-9d7a-2c3e4f5a6b7c")) {
		t.Errorf("two groups have the same token id %s", id)
	}
}
