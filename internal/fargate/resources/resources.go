// Package resources is what the Fargate controllers share: kdp's
// configuration (Env), and the names of what a profile makes (its
// bootstrap token, the group it authenticates as, its RBAC) and of what a
// pod gets (its micro-VM's tags and client token).
package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"k8s.io/utils/clock"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/timescale"
)

// EKS's waits for a Fargate profile, exact by default and compressed by
// --time-scale.
const (
	// CreateTimeout is how long a profile may be CREATING before it is
	// CREATE_FAILED.
	CreateTimeout = 15 * time.Minute
)

// Env is what the Fargate controllers share of kdp's configuration.
type Env struct {
	// Cluster is the cluster's name, as profiles' ARNs name it.
	Cluster string
	// Account is the cloud's account and region.
	Account cloud.Account
	// Join is where the pods' nodes join: the API server, its CA and the
	// service CIDR.
	Join join.Options
	// ClusterVersion is the cluster's Kubernetes version (1.37.2): the
	// pods' nodes run the newest image of its minor.
	ClusterVersion string
	Clock          clock.Clock
	Scale          timescale.Scale
}

// Wait is one of EKS's waits as kdp runs it (compressed by the scale).
func (e Env) Wait(d time.Duration) time.Duration { return e.Scale.Of(d) }

// ARN is a profile's ARN, as EKS writes it.
func ARN(account cloud.Account, cluster string, fp *eksv1.FargateProfile) string {
	return "arn:aws:eks:" + account.Region + ":" + account.ID + ":fargateprofile/" + cluster + "/" + fp.Name + "/" + string(fp.UID)
}

// TokenID is the id of the bootstrap token a profile's pods' nodes join
// with: the profile's, so a profile made again gets a token of its own.
func TokenID(fp *eksv1.FargateProfile) string {
	sum := sha256.Sum256([]byte("fargate/" + string(fp.UID)))
	return hex.EncodeToString(sum[:3])
}

// Group is the group a profile's token authenticates as: the pod execution
// role's identity, which kdp grants what EKS's aws-auth entry for the role
// grants (system:bootstrappers, joining as a node).
func Group(fp *eksv1.FargateProfile) string {
	return "system:bootstrappers:kdp:fargate:" + TokenID(fp)
}

// Bindings are the ClusterRoleBindings a profile's group gets: bootstrap
// (create CSRs) and the automatic approval of its nodes' client
// certificates, by name and role.
func Bindings(fp *eksv1.FargateProfile) map[string]string {
	return map[string]string{
		"kdp:fargate:" + fp.Name + ":bootstrap":   "system:node-bootstrapper",
		"kdp:fargate:" + fp.Name + ":autoapprove": "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
	}
}

// Labels of what kdp makes for a profile and its pods.
const (
	// LabelProfile is on a profile's token and bindings, and tags its
	// pods' micro-VMs.
	LabelProfile = "eks.kdp.dev/fargate-profile"
	// TagPod tags a micro-VM with its pod's namespace/name (its UID is
	// cloud.TagMicroVMPod).
	TagPod = "eks.kdp.dev/pod"
	// AnnotationAttempt counts a pod's launches after its first (a micro-VM
	// that ended before the pod was bound to it).
	AnnotationAttempt = "eks.kdp.dev/fargate-attempt"
)

// ClientToken is the client token of a pod's micro-VM launch: one launch
// per pod and attempt, however often kdp asks (a restart between the
// launch and its record asks again, and gets the same micro-VM).
func ClientToken(uid string, attempt int) string {
	if attempt == 0 {
		return uid
	}
	return uid + "/" + strconv.Itoa(attempt)
}
