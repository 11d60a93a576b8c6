// Package v1alpha1 holds the simulated cloud's resources: the EC2 launch
// templates, Auto Scaling groups and instances that `kdp up` simulates. They
// live in the API server, so the simulated cloud survives restarts and
// kill -9 with etcd's guarantees, and users can watch it with kubectl.
//
// +kubebuilder:object:generate=true
// +groupName=sim.kdp.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "sim.kdp.dev", Version: "v1alpha1"}
	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
