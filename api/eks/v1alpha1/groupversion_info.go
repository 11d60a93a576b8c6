// Package v1alpha1 holds kdp's EKS-shaped resources: managed node groups
// (NodeGroup), the records of their updates (NodeGroupUpdate) and Fargate
// profiles (FargateProfile). Their fields mirror the EKS API's
// (CreateNodegroup, DescribeNodegroup, DescribeUpdate, CreateFargateProfile,
// DescribeFargateProfile) name for name, so that kubectl users and the EKS-compatible
// API see one model. Rules the schema and CEL can express are here; those
// that need the cloud's catalogue or other objects are checked by kdp's
// admission webhooks (internal/nodegroup/admission, internal/fargate/admission).
//
// +kubebuilder:object:generate=true
// +groupName=eks.kdp.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "eks.kdp.dev", Version: "v1alpha1"}
	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
