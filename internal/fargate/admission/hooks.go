package admission

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/webhook"
)

// Paths of the hooks on the webhook server.
const (
	ValidateProfilePath = "/fargateprofiles/validate"
	PodPath             = "/fargate/pods"
)

// PodTimeoutSeconds is how long the API server waits for the pod hook:
// EKS's 5 seconds.
const PodTimeoutSeconds = 5

// Hooks are Fargate's webhooks, for kdp's webhook server.
//
// The profile hook sees creates and deletes (one profile is deleted at a
// time), not updates: a profile's spec never changes (the CRD's CEL
// refuses it), and what else an update changes (finalizers, status) is
// kdp's own.
//
// The pod hook is EKS's 0500-amazon-eks-fargate-mutation.amazonaws.com
// (the server wants a name of three segments or more): pods, CREATE,
// failure policy Ignore, timeout 5 s. Ignore because a cluster whose
// webhook is down must still create pods; they run where the default
// scheduler puts them, as on EKS. It has no namespace or object selector
// and sees every pod: a selector's namespace and labels are wildcard
// patterns, which label selectors cannot express, and a pod without
// labels matches a namespace-only selector. The pods it must leave alone
// (matching.Eligible) are few kinds, told apart by the handler at no
// cost worth a selector.
func Hooks(scheme *runtime.Scheme, c *Checker) []webhook.Hook {
	return []webhook.Hook{
		{
			Name: "validate.fargateprofiles.eks.kdp.dev",
			Path: ValidateProfilePath,
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Delete},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{eksv1.GroupVersion.Group}, APIVersions: []string{eksv1.GroupVersion.Version},
					Resources: []string{"fargateprofiles"}, Scope: ptr.To(admissionregistrationv1.ClusterScope),
				},
			}},
			Handler: &profileHandler{checker: c, decoder: admission.NewDecoder(scheme)},
		},
		{
			Name:     "fargate-mutation.pods.eks.kdp.dev",
			Path:     PodPath,
			Mutating: true,
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{""}, APIVersions: []string{"v1"},
					Resources: []string{"pods"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope),
				},
			}},
			FailurePolicy:  admissionregistrationv1.Ignore,
			TimeoutSeconds: PodTimeoutSeconds,
			Handler:        &podHandler{checker: c},
		},
	}
}
