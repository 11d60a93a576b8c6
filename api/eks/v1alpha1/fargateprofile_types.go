package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FargateProfile decides which pods run on Fargate-style nodes: a pod whose
// namespace and labels match one of its selectors when it is created gets
// its own right-sized, isolated node, launched for it and removed with it.
// Its name is the profile's name. The spec mirrors CreateFargateProfile's
// request field by field and, as on EKS, never changes: to change a
// profile, create a replacement and delete the original. The status
// mirrors DescribeFargateProfile's answer.
//
// Rules that need other profiles (at most 10; none created while one is
// deleting) or the cloud's subnets are checked by kdp's admission webhook
// (internal/fargate/admission), which reports every problem at once.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=fp,categories=kdp
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Selectors",type=string,JSONPath=`.spec.selectors`,description="The profile's selectors: namespaces and labels"
// +kubebuilder:printcolumn:name="Subnets",type=string,JSONPath=`.status.subnets`,description="The subnets in effect (every private subnet when the spec names none)"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9][a-z0-9-]*$')",message="metadata.name: a Fargate profile's name is 1-63 characters, lowercase letters, digits and '-', starting with a letter or digit (EKS's fargateProfileName rule, within Kubernetes' rule for names)"
type FargateProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec FargateProfileSpec `json:"spec,omitempty"`
	// +optional
	Status FargateProfileStatus `json:"status,omitempty"`
}

// The rules below hold every field but the tags as it was created. The
// tags' rules are checked here on update only (kdp's webhook checks them,
// with everything else, on create, so that a bad profile hears of every
// problem at once); the aws: prefix is spelled in every case because
// lowerAscii would cost CEL a pass over an unbounded key.

// FargateProfileSpec is CreateFargateProfile's request. It is immutable
// but for its tags, which EKS's TagResource and UntagResource change.
//
// +kubebuilder:validation:XValidation:rule="has(self.podExecutionRoleArn) == has(oldSelf.podExecutionRoleArn) && (!has(self.podExecutionRoleArn) || self.podExecutionRoleArn == oldSelf.podExecutionRoleArn)",message="a Fargate profile cannot be changed (EKS has no update for one; only its tags change): create a replacement profile, then delete this one",fieldPath=".podExecutionRoleArn"
// +kubebuilder:validation:XValidation:rule="has(self.subnets) == has(oldSelf.subnets) && (!has(self.subnets) || self.subnets == oldSelf.subnets)",message="a Fargate profile cannot be changed (EKS has no update for one; only its tags change): create a replacement profile, then delete this one",fieldPath=".subnets"
// +kubebuilder:validation:XValidation:rule="has(self.selectors) == has(oldSelf.selectors) && (!has(self.selectors) || self.selectors == oldSelf.selectors)",message="a Fargate profile cannot be changed (EKS has no update for one; only its tags change): create a replacement profile, then delete this one",fieldPath=".selectors"
// +kubebuilder:validation:XValidation:rule="!has(self.tags) || (has(oldSelf.tags) && self.tags == oldSelf.tags) || self.tags.all(k, size(k) >= 1 && size(k) <= 128 && size(self.tags[k]) <= 256 && !(k.startsWith('aws:') || k.startsWith('awS:') || k.startsWith('aWs:') || k.startsWith('aWS:') || k.startsWith('Aws:') || k.startsWith('AwS:') || k.startsWith('AWs:') || k.startsWith('AWS:')))",message="a tag key is 1-128 characters and does not begin with aws:, a tag value is at most 256 characters",fieldPath=".tags"
type FargateProfileSpec struct {
	// PodExecutionRoleArn is the role the pods' nodes register with (kdp
	// grants it what EKS's aws-auth entry grants: joining as a node).
	// +optional
	PodExecutionRoleArn string `json:"podExecutionRoleArn,omitempty"`
	// Subnets are the private subnets the pods' nodes launch in, spread
	// across them; empty means every private subnet of the cloud.
	// +optional
	Subnets []string `json:"subnets,omitempty"`
	// Selectors choose the pods: 1 to 5; a pod matches a selector when its
	// namespace matches and it has every one of the selector's labels.
	// +optional
	Selectors []FargateProfileSelector `json:"selectors,omitempty"`
	// Tags are the profile's tags: at most 50, the only field that may
	// change.
	// +kubebuilder:validation:MaxProperties=50
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
}

// FargateProfileSelector selects pods by namespace and labels. Namespace,
// label keys and label values may hold the wildcards `*` (any characters,
// none too) and `?` (exactly one character).
type FargateProfileSelector struct {
	// Namespace is required.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Labels are up to 5 labels the pod must all have.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// FargateProfileStatus is what DescribeFargateProfile reports.
type FargateProfileStatus struct {
	// Status is CREATING, ACTIVE, DELETING, CREATE_FAILED or DELETE_FAILED.
	// +optional
	Status FargateProfileStatusValue `json:"status,omitempty"`
	// FargateProfileArn is
	// arn:aws:eks:<region>:<account>:fargateprofile/<cluster>/<profile>/<uuid>.
	// +optional
	FargateProfileArn string `json:"fargateProfileArn,omitempty"`
	// ClusterName is the cluster the profile is in.
	// +optional
	ClusterName string `json:"clusterName,omitempty"`
	// CreatedAt is when the profile was created.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`
	// Subnets are the subnets in effect (the spec's, or every private
	// subnet when it names none).
	// +optional
	Subnets []string `json:"subnets,omitempty"`
	// Health says what is wrong with the profile.
	// +optional
	Health FargateProfileHealth `json:"health,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are kdp's (EKS reports only the status): Ready is True
	// from when the profile takes pods (ACTIVE) on.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FargateProfileReady is the condition a profile that takes pods has; its
// reason is the profile's status in CamelCase (Creating, Active, ...).
const FargateProfileReady = "Ready"

// FargateProfileStatusValue is EKS's FargateProfileStatus.
type FargateProfileStatusValue string

// A Fargate profile's statuses.
const (
	FargateCreating     FargateProfileStatusValue = "CREATING"
	FargateActive       FargateProfileStatusValue = "ACTIVE"
	FargateDeleting     FargateProfileStatusValue = "DELETING"
	FargateCreateFailed FargateProfileStatusValue = "CREATE_FAILED"
	FargateDeleteFailed FargateProfileStatusValue = "DELETE_FAILED"
)

// FargateProfileHealth is what is wrong with a profile.
type FargateProfileHealth struct {
	// +optional
	Issues []FargateProfileIssue `json:"issues,omitempty"`
}

// FargateProfileIssue is one problem, with EKS's code.
type FargateProfileIssue struct {
	Code FargateProfileIssueCode `json:"code"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// FargateProfileIssueCode is EKS's FargateProfileIssueCode.
type FargateProfileIssueCode string

// EKS's issue codes of a Fargate profile.
const (
	FargateIssuePodExecutionRoleAlreadyInUse FargateProfileIssueCode = "PodExecutionRoleAlreadyInUse"
	FargateIssueAccessDenied                 FargateProfileIssueCode = "AccessDenied"
	FargateIssueClusterUnreachable           FargateProfileIssueCode = "ClusterUnreachable"
	FargateIssueInternalFailure              FargateProfileIssueCode = "InternalFailure"
)

// FargateProfileList is a list of FargateProfiles.
//
// +kubebuilder:object:root=true
type FargateProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FargateProfile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FargateProfile{}, &FargateProfileList{})
}

// Labels, annotations and names of Fargate-style pods and nodes, as EKS
// writes them.
const (
	// LabelFargateProfile is on a pod kdp placed on Fargate: its profile.
	// A pod created with it takes that profile (if it matches one of the
	// profile's selectors).
	LabelFargateProfile = "eks.amazonaws.com/fargate-profile"
	// LabelComputeType is on every Fargate node ("fargate"), and its taint
	// has the same key.
	LabelComputeType = "eks.amazonaws.com/compute-type"
	// ComputeTypeFargate is the compute type of Fargate nodes.
	ComputeTypeFargate = "fargate"
	// AnnotationComputeType "ec2" on a pod keeps it off Fargate.
	AnnotationComputeType = "eks.amazonaws.com/compute-type"
	// FargateScheduler is the schedulerName of the pods kdp places.
	FargateScheduler = "fargate-scheduler"
	// FargatePriorityClass is the priority class EKS's webhook gives them,
	// and FargatePriority its priority.
	FargatePriorityClass = "system-node-critical"
	FargatePriority      = int32(2000001000)
	// FargateFinalizer keeps a FargateProfile until its pods are gone and
	// what it granted is revoked.
	FargateFinalizer = "eks.kdp.dev/fargate-profile"
)
