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
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Replaced",type=integer,JSONPath=`.status.rollout.nodesReplaced`,description="Nodes of an older launch template version replaced so far"
// +kubebuilder:printcolumn:name="To-Replace",type=integer,JSONPath=`.status.rollout.nodesToReplace`,priority=0
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
	// Force is a VersionUpdate's force (UpdateNodegroupVersion's): a node
	// whose pods PodDisruptionBudgets keep from leaving within the eviction
	// timeout is replaced anyway, rather than the update failing. It is
	// set from the node group's eks.kdp.dev/force-update annotation when
	// the update starts. EKS has no update parameter for it; kdp keeps it
	// here.
	// +optional
	Force bool `json:"force,omitempty"`
	// RequestToken is the node group's eks.kdp.dev/update-request
	// annotation when a VersionUpdate started: a new token starts the same
	// version update again after one failed (EKS's clientRequestToken).
	// +optional
	RequestToken string `json:"requestToken,omitempty"`
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

// Annotations of a NodeGroup that shape its version updates.
const (
	// AnnotationForceUpdate "true" makes the version updates that start
	// while it is set forced (UpdateNodegroupVersion's force).
	AnnotationForceUpdate = "eks.kdp.dev/force-update"
	// AnnotationUpdateRequest is a token: a new value starts a version
	// update that failed again (EKS's clientRequestToken).
	AnnotationUpdateRequest = "eks.kdp.dev/update-request"
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
	// Phase is where a VersionUpdate is: Setup, ScaleUp, Upgrade or
	// ScaleDown (EKS's four phases).
	// +optional
	Phase UpdatePhase `json:"phase,omitempty"`
	// PhaseStartedAt is when the phase began.
	// +optional
	PhaseStartedAt *metav1.MicroTime `json:"phaseStartedAt,omitempty"`
	// Rollout is a VersionUpdate's plan and progress.
	// +optional
	Rollout *Rollout `json:"rollout,omitempty"`
}

// UpdatePhase is a phase of a version update.
//
// +kubebuilder:validation:Enum=Setup;ScaleUp;Upgrade;ScaleDown
type UpdatePhase string

// The phases of a version update, in order (MINIMAL skips ScaleUp).
const (
	PhaseSetup     UpdatePhase = "Setup"
	PhaseScaleUp   UpdatePhase = "ScaleUp"
	PhaseUpgrade   UpdatePhase = "Upgrade"
	PhaseScaleDown UpdatePhase = "ScaleDown"
)

// Rollout is what a version update decided in its setup, and how far it
// has got: enough to resume it at its phase after a restart.
type Rollout struct {
	// LaunchTemplateVersion is the version of the group's launch template
	// the new nodes launch from; a node of any other version is replaced.
	LaunchTemplateVersion string `json:"launchTemplateVersion"`
	// ImageID and ReleaseVersion are the new nodes' image.
	ImageID        string `json:"imageId"`
	ReleaseVersion string `json:"releaseVersion"`
	// Before is the Auto Scaling group's size before the update, which the
	// scale-down phase goes back to.
	Before ScalingConfig `json:"before"`
	// Surge is how many nodes the scale-up phase adds: the larger of twice
	// the zones the group spans and maxUnavailable (0 for MINIMAL).
	Surge int32 `json:"surge"`
	// MaxUnavailable is how many nodes are replaced at once.
	MaxUnavailable int32 `json:"maxUnavailable"`
	// Strategy is DEFAULT or MINIMAL.
	Strategy string `json:"strategy"`
	// NodesToReplace is how many nodes ran an older launch template
	// version at the setup; NodesReplaced how many of them are gone.
	NodesToReplace int32 `json:"nodesToReplace"`
	NodesReplaced  int32 `json:"nodesReplaced"`
	// PodsEvicted is how many evictions the drains of old nodes have made.
	// +optional
	PodsEvicted int32 `json:"podsEvicted,omitempty"`
	// EvictionTimeout is how long a node's pods have to leave before the
	// update fails with PodEvictionFailure (or, forced, goes on): EKS's 15
	// minutes, compressed by kdp's --time-scale.
	// +optional
	EvictionTimeout *metav1.Duration `json:"evictionTimeout,omitempty"`
	// Draining are the old nodes being drained now, or waiting out the
	// 60 seconds after their drain before their instance is terminated.
	// +listType=map
	// +listMapKey=instanceId
	// +optional
	Draining []DrainingNode `json:"draining,omitempty"`
}

// DrainingNode is an old node a version update is replacing.
type DrainingNode struct {
	InstanceID string `json:"instanceId"`
	// NodeName is its Node's name ("" if it never registered one).
	// +optional
	NodeName  string           `json:"nodeName,omitempty"`
	StartedAt metav1.MicroTime `json:"startedAt"`
	// DrainedAt is when it was empty (or, forced, given up on): its
	// instance is terminated 60 seconds later.
	// +optional
	DrainedAt *metav1.MicroTime `json:"drainedAt,omitempty"`
	// Forced says its pods did not all leave, and force let it go.
	// +optional
	Forced bool `json:"forced,omitempty"`
	// BlockedBy says which pods have not left and why, as of the last
	// look (e.g. "shop/web-7c9: PodDisruptionBudget shop/web").
	// +listType=atomic
	// +optional
	BlockedBy []string `json:"blockedBy,omitempty"`
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
