// Package resources is what every node group controller agrees on: the
// names of a node group's cloud resources and Kubernetes objects, the tags
// and labels kdp puts on them, the launch template data its instances boot
// with, the configuration an update changes, and which nodes are the
// group's. Names are derived from the NodeGroup's UID, so that a controller
// that crashed after creating something finds it again instead of creating
// it twice.
package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/google/uuid"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// ASGName is the name of the group's Auto Scaling group:
// eks-<nodegroup>-<uuid>, as EKS names it.
func ASGName(ng *eksv1.NodeGroup) string { return "eks-" + ng.Name + "-" + string(ng.UID) }

// NodegroupOfASG returns the node group an Auto Scaling group name of
// ASGName's form is of.
func NodegroupOfASG(asg string) (string, bool) {
	const uuidLen = 36
	rest, ok := strings.CutPrefix(asg, "eks-")
	if !ok || len(rest) < uuidLen+2 || rest[len(rest)-uuidLen-1] != '-' {
		return "", false
	}
	if _, err := uuid.Parse(rest[len(rest)-uuidLen:]); err != nil {
		return "", false
	}
	return rest[:len(rest)-uuidLen-1], true
}

// TemplateName is the name of the launch template kdp makes for the group.
func TemplateName(ng *eksv1.NodeGroup) string { return "eks-" + string(ng.UID) }

// ARN is the group's ARN:
// arn:aws:eks:<region>:<account>:nodegroup/<cluster>/<name>/<uuid>.
func ARN(region, account, cluster string, ng *eksv1.NodeGroup) string {
	return "arn:aws:eks:" + region + ":" + account + ":nodegroup/" + cluster + "/" + ng.Name + "/" + string(ng.UID)
}

// updateSpace is the UUID namespace of update ids.
var updateSpace = uuid.MustParse("5b0f4a8e-2f6c-4d59-9a4e-6f1c7e0d2a31")

// UpdateID is the id of the update that brings generation of the group
// into effect: the same for the same group and generation, so that a
// controller that crashed after writing the record finds it again, and the
// EKS API can name the update it asked for before the controller sees it.
func UpdateID(ng *eksv1.NodeGroup, generation int64) string {
	return uuid.NewSHA1(updateSpace, []byte(string(ng.UID)+"/"+strconv.FormatInt(generation, 10))).String()
}

// VersionUpdateID is the id of the version update that takes the group
// from the configuration applied to v, with force and the request token:
// the same request is the same update (tried once, as EKS's
// clientRequestToken makes it), and a retry after a failure (which leaves
// applied as it was) is a new request only if forced, or with a new token.
func VersionUpdateID(ng *eksv1.NodeGroup, applied *eksv1.AppliedConfig, v Version, force bool, token string) string {
	key := strings.Join([]string{string(ng.UID), "version", applied.Version, applied.ReleaseVersion, applied.LaunchTemplateVersion,
		v.Version, v.ReleaseVersion, v.LaunchTemplate, v.LaunchTemplateVersion, strconv.FormatBool(force), token}, "/")
	return uuid.NewSHA1(updateSpace, []byte(key)).String()
}

// TokenID is the id of the group's bootstrap token.
func TokenID(ng *eksv1.NodeGroup) string {
	sum := sha256.Sum256([]byte(ng.UID))
	return hex.EncodeToString(sum[:3])
}
