package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeGroupUpdate is the record of one change of a node group, as EKS
// keeps them (DescribeUpdate, ListUpdates): every change of a group's
// scaling, labels, taints, update or repair configuration is a
// ConfigUpdate, whether it came from kubectl or the EKS API. Its name is
// the update's id (a UUID); it is labelled with its node group's name and
// owned by the node group, so it goes with it. Only kdp writes them.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ngu,categories=kdp
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Nodegroup",type=string,JSONPath=`.spec.nodegroupName`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.spec == oldSelf.spec",message="spec: an update's record does not change"
type NodeGroupUpdate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec NodeGroupUpdateSpec `json:"spec"`
	// +optional
	Status NodeGroupUpdateStatus `json:"status,omitempty"`
}

// NodeGroupUpdateSpec is what the update changes.
type NodeGroupUpdateSpec struct {
	// NodegroupName is the node group's name.
	NodegroupName string `json:"nodegroupName"`
	// Type is ConfigUpdate or VersionUpdate.
	Type UpdateType `json:"type"`
	// Params are the update's parameters, in EKS's names and string
	// encodings (maps and lists JSON-encoded).
	// +listType=atomic
	// +optional
	Params []UpdateParam `json:"params,omitempty"`
	// Generation is the node group's generation the update brings into
	// effect.
	Generation int64 `json:"generation"`
}

// UpdateType is an update's type.
//
// +kubebuilder:validation:Enum=ConfigUpdate;VersionUpdate
type UpdateType string

// Update types of node groups.
const (
	ConfigUpdate  UpdateType = "ConfigUpdate"
	VersionUpdate UpdateType = "VersionUpdate"
)

// UpdateParam is one parameter of an update.
type UpdateParam struct {
	Type  UpdateParamType `json:"type"`
	Value string          `json:"value"`
}

// UpdateParamType is a parameter's name, as EKS names them.
type UpdateParamType string

// The parameters of node group updates.
const (
	ParamLabelsToAdd              UpdateParamType = "LabelsToAdd"
	ParamLabelsToRemove           UpdateParamType = "LabelsToRemove"
	ParamTaintsToAdd              UpdateParamType = "TaintsToAdd"
	ParamTaintsToRemove           UpdateParamType = "TaintsToRemove"
	ParamMinSize                  UpdateParamType = "MinSize"
	ParamMaxSize                  UpdateParamType = "MaxSize"
	ParamDesiredSize              UpdateParamType = "DesiredSize"
	ParamMaxUnavailable           UpdateParamType = "MaxUnavailable"
	ParamMaxUnavailablePercentage UpdateParamType = "MaxUnavailablePercentage"
	ParamUpdateStrategy           UpdateParamType = "UpdateStrategy"
	ParamNodeRepairEnabled        UpdateParamType = "NodeRepairEnabled"
	ParamNodeRepairConfig         UpdateParamType = "NodeRepairConfig"
	ParamVersion                  UpdateParamType = "Version"
	ParamReleaseVersion           UpdateParamType = "ReleaseVersion"
	ParamLaunchTemplateName       UpdateParamType = "LaunchTemplateName"
	ParamLaunchTemplateVersion    UpdateParamType = "LaunchTemplateVersion"
)

// NodeGroupUpdateStatus is how the update went.
type NodeGroupUpdateStatus struct {
	// Status is InProgress, Successful, Failed or Cancelled.
	// +optional
	Status UpdateStatus `json:"status,omitempty"`
	// Errors say why a Failed update failed.
	// +optional
	Errors []ErrorDetail `json:"errors,omitempty"`
	// CompletedAt is when it ended.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// UpdateStatus is an update's status.
type UpdateStatus string

// Update statuses.
const (
	UpdateInProgress UpdateStatus = "InProgress"
	UpdateSuccessful UpdateStatus = "Successful"
	UpdateFailed     UpdateStatus = "Failed"
	UpdateCancelled  UpdateStatus = "Cancelled"
)

// ErrorDetail is one error of a failed update, with EKS's code.
type ErrorDetail struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	// +optional
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// NodeGroupUpdateList is a list of NodeGroupUpdates.
//
// +kubebuilder:object:root=true
type NodeGroupUpdateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeGroupUpdate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodeGroupUpdate{}, &NodeGroupUpdateList{})
}
