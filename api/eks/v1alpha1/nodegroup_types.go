package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeGroup is a managed node group: an Auto Scaling group that kdp creates
// and operates for the cluster it is in, as EKS does for CreateNodegroup.
// Its name is the node group's name. The spec mirrors CreateNodegroup's
// request field by field (the cluster is the one the object is in); the
// status mirrors DescribeNodegroup's answer.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ng,categories=kdp
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.scalingConfig.desiredSize,statuspath=.status.nodes.ready
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.nodes.ready`,description="Nodes of the group that are Ready"
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.scalingConfig.desiredSize`
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.scalingConfig.minSize`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.scalingConfig.maxSize`
// +kubebuilder:printcolumn:name="Capacity",type=string,JSONPath=`.spec.capacityType`
// +kubebuilder:printcolumn:name="Instance-Types",type=string,JSONPath=`.status.instanceTypes`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Release",type=string,JSONPath=`.status.releaseVersion`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9][a-z0-9-]*$')",message="metadata.name: a node group's name is 1-63 characters, lowercase letters, digits and '-', starting with a letter or digit (EKS's nodegroupName rule, within Kubernetes' rule for names)"
type NodeGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec NodeGroupSpec `json:"spec,omitempty"`
	// +optional
	Status NodeGroupStatus `json:"status,omitempty"`
}

// NodeGroupSpec is what the node group should be: CreateNodegroup's
// fields. Fields left out get EKS's defaults when the group is created
// (kdp's admission webhook writes them in, so the object shows what is in
// effect): a scaling config of 1/2/2, t3.medium, 20 GiB, ON_DEMAND,
// maxUnavailable 1, the AL2023 AMI type of the instance types'
// architecture, the cluster's version and the newest release.
//
// +kubebuilder:validation:XValidation:rule="!has(self.launchTemplate) || !has(self.diskSize)",message="diskSize: must not be set with a launchTemplate (set the root volume in the launch template)",fieldPath=".diskSize"
// +kubebuilder:validation:XValidation:rule="!has(self.launchTemplate) || !has(self.remoteAccess)",message="remoteAccess: must not be set with a launchTemplate (set the key pair and security groups in the launch template)",fieldPath=".remoteAccess"
// +kubebuilder:validation:XValidation:rule="has(self.subnets) == has(oldSelf.subnets) && (!has(self.subnets) || self.subnets == oldSelf.subnets)",message="subnets: cannot be changed after the node group is created (create a new node group)",fieldPath=".subnets"
// +kubebuilder:validation:XValidation:rule="has(self.instanceTypes) == has(oldSelf.instanceTypes) && (!has(self.instanceTypes) || self.instanceTypes == oldSelf.instanceTypes)",message="instanceTypes: cannot be changed after the node group is created (create a new node group)",fieldPath=".instanceTypes"
// +kubebuilder:validation:XValidation:rule="has(self.capacityType) == has(oldSelf.capacityType) && (!has(self.capacityType) || self.capacityType == oldSelf.capacityType)",message="capacityType: cannot be changed after the node group is created (create a new node group)",fieldPath=".capacityType"
// +kubebuilder:validation:XValidation:rule="has(self.amiType) == has(oldSelf.amiType) && (!has(self.amiType) || self.amiType == oldSelf.amiType)",message="amiType: cannot be changed after the node group is created (create a new node group)",fieldPath=".amiType"
// +kubebuilder:validation:XValidation:rule="has(self.nodeRole) == has(oldSelf.nodeRole) && (!has(self.nodeRole) || self.nodeRole == oldSelf.nodeRole)",message="nodeRole: cannot be changed after the node group is created (create a new node group)",fieldPath=".nodeRole"
// +kubebuilder:validation:XValidation:rule="has(self.diskSize) == has(oldSelf.diskSize) && (!has(self.diskSize) || self.diskSize == oldSelf.diskSize)",message="diskSize: cannot be changed after the node group is created (create a new node group)",fieldPath=".diskSize"
// +kubebuilder:validation:XValidation:rule="has(self.remoteAccess) == has(oldSelf.remoteAccess) && (!has(self.remoteAccess) || self.remoteAccess == oldSelf.remoteAccess)",message="remoteAccess: cannot be changed after the node group is created (create a new node group)",fieldPath=".remoteAccess"
// +kubebuilder:validation:XValidation:rule="has(self.launchTemplate) == has(oldSelf.launchTemplate) && (!has(self.launchTemplate) || (has(self.launchTemplate.id) == has(oldSelf.launchTemplate.id) && (!has(self.launchTemplate.id) || self.launchTemplate.id == oldSelf.launchTemplate.id) && has(self.launchTemplate.name) == has(oldSelf.launchTemplate.name) && (!has(self.launchTemplate.name) || self.launchTemplate.name == oldSelf.launchTemplate.name)))",message="launchTemplate: a node group keeps the launch template (id or name) it was created with; only its version can change (a node group created without one can never have one: create a new node group)",fieldPath=".launchTemplate"
type NodeGroupSpec struct {
	// ScalingConfig is the group's size.
	// +kubebuilder:validation:XValidation:rule="self.minSize <= self.maxSize",messageExpression="'minSize (%d) must not be greater than maxSize (%d)'.format([self.minSize, self.maxSize])",fieldPath=".minSize"
	// +kubebuilder:validation:XValidation:rule="self.desiredSize >= self.minSize && self.desiredSize <= self.maxSize",messageExpression="'desiredSize (%d) must be between minSize (%d) and maxSize (%d)'.format([self.desiredSize, self.minSize, self.maxSize])",fieldPath=".desiredSize"
	// +optional
	ScalingConfig *ScalingConfig `json:"scalingConfig,omitempty"`
	// DiskSize is the root volume's size in GiB (default 20); not with a
	// launchTemplate.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16384
	// +optional
	DiskSize *int32 `json:"diskSize,omitempty"`
	// Subnets the group launches in (default: every private subnet of the
	// cloud; EKS requires them).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Pattern=`^subnet-[0-9a-f]{8,17}$`
	// +listType=set
	// +optional
	Subnets []string `json:"subnets,omitempty"`
	// InstanceTypes the group launches, in order of preference for
	// ON_DEMAND (default t3.medium); with a launchTemplate that names a type,
	// none.
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="must not repeat an instance type"
	// +listType=atomic
	// +optional
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// AMIType is the node image's type (default: the AL2023 type of the
	// instance types' architecture; CUSTOM for a launch template with its own
	// image).
	// +optional
	AMIType AMIType `json:"amiType,omitempty"`
	// RemoteAccess opens SSH to the nodes; not with a launchTemplate.
	// +optional
	RemoteAccess *RemoteAccessConfig `json:"remoteAccess,omitempty"`
	// NodeRole is the IAM role of the nodes' instance profile (default: the
	// account's KdpNodeRole; EKS requires it).
	// +kubebuilder:validation:Pattern=`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`
	// +optional
	NodeRole string `json:"nodeRole,omitempty"`
	// Labels are put on every node of the group, at registration: keys
	// 1-63 characters and values 1-63, each a valid Kubernetes label key
	// and value that a kubelet may register with.
	// +kubebuilder:validation:MaxProperties=100
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are put on every node of the group, at registration.
	// +kubebuilder:validation:MaxItems=50
	// +listType=map
	// +listMapKey=key
	// +listMapKey=effect
	// +optional
	Taints []Taint `json:"taints,omitempty"`
	// Tags are put on the group's Auto Scaling group (and so its instances),
	// beside the tags kdp puts there: keys 1-128 characters, not beginning
	// with aws:, values up to 256.
	// +kubebuilder:validation:MaxProperties=50
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// LaunchTemplate is the user's launch template the group's instances
	// launch from (kdp merges its join configuration into the template's
	// user data); its id or name is fixed after create, its version is not.
	// +kubebuilder:validation:XValidation:rule="has(self.id) != has(self.name)",message="give the launch template's id or its name, one of them"
	// +optional
	LaunchTemplate *LaunchTemplateSpecification `json:"launchTemplate,omitempty"`
	// UpdateConfig bounds how many nodes a version update takes out of
	// service at once (default maxUnavailable 1).
	// +kubebuilder:default={maxUnavailable: 1}
	// +optional
	UpdateConfig *UpdateConfig `json:"updateConfig,omitempty"`
	// NodeRepairConfig turns node auto repair on (off by default).
	// +optional
	NodeRepairConfig *NodeRepairConfig `json:"nodeRepairConfig,omitempty"`
	// CapacityType is ON_DEMAND (default) or SPOT.
	// +kubebuilder:default=ON_DEMAND
	// +optional
	CapacityType CapacityType `json:"capacityType,omitempty"`
	// Version is the nodes' Kubernetes minor version, e.g. 1.37 (default and
	// only accepted value at create: the cluster's).
	// +kubebuilder:validation:Pattern=`^1\.[0-9]{1,3}$`
	// +optional
	Version string `json:"version,omitempty"`
	// ReleaseVersion is the EKS-optimized AMI release, e.g. 1.37.2-20261101
	// (default: the newest for the version); not with a custom AMI.
	// +kubebuilder:validation:Pattern=`^1\.[0-9]{1,3}\.[0-9]{1,3}-[0-9]{8}$`
	// +optional
	ReleaseVersion string `json:"releaseVersion,omitempty"`
}

// ScalingConfig is a group's size: minSize ≤ desiredSize ≤ maxSize ≤ 450.
type ScalingConfig struct {
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=450
	MinSize int32 `json:"minSize"`
	// MaxSize is at most 450, EKS's quota of nodes per managed node group.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=450
	MaxSize int32 `json:"maxSize"`
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=450
	DesiredSize int32 `json:"desiredSize"`
}

// AMIType is the type of a node image.
//
// +kubebuilder:validation:Enum=AL2023_x86_64_STANDARD;AL2023_ARM_64_STANDARD;AL2023_x86_64_NVIDIA;AL2023_ARM_64_NVIDIA;BOTTLEROCKET_x86_64;BOTTLEROCKET_ARM_64;BOTTLEROCKET_x86_64_NVIDIA;BOTTLEROCKET_ARM_64_NVIDIA;CUSTOM
type AMIType string

// AMI types.
const (
	AL2023x86Standard     AMIType = "AL2023_x86_64_STANDARD"
	AL2023ARMStandard     AMIType = "AL2023_ARM_64_STANDARD"
	AL2023x86NVIDIA       AMIType = "AL2023_x86_64_NVIDIA"
	AL2023ARMNVIDIA       AMIType = "AL2023_ARM_64_NVIDIA"
	Bottlerocketx86       AMIType = "BOTTLEROCKET_x86_64"
	BottlerocketARM       AMIType = "BOTTLEROCKET_ARM_64"
	Bottlerocketx86NVIDIA AMIType = "BOTTLEROCKET_x86_64_NVIDIA"
	BottlerocketARMNVIDIA AMIType = "BOTTLEROCKET_ARM_64_NVIDIA"
	CustomAMI             AMIType = "CUSTOM"
)

// CapacityType is how the group's instances are bought.
//
// +kubebuilder:validation:Enum=ON_DEMAND;SPOT
type CapacityType string

// Capacity types.
const (
	OnDemand CapacityType = "ON_DEMAND"
	Spot     CapacityType = "SPOT"
)

// Taint is a Kubernetes taint in EKS's spelling.
type Taint struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Key string `json:"key"`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Value  string      `json:"value,omitempty"`
	Effect TaintEffect `json:"effect"`
}

// TaintEffect is a taint's effect in EKS's spelling.
//
// +kubebuilder:validation:Enum=NO_SCHEDULE;NO_EXECUTE;PREFER_NO_SCHEDULE
type TaintEffect string

// Taint effects.
const (
	NoSchedule       TaintEffect = "NO_SCHEDULE"
	NoExecute        TaintEffect = "NO_EXECUTE"
	PreferNoSchedule TaintEffect = "PREFER_NO_SCHEDULE"
)

// RemoteAccessConfig opens SSH (port 22) to the nodes.
type RemoteAccessConfig struct {
	// +kubebuilder:validation:MaxLength=255
	// +optional
	EC2SshKey string `json:"ec2SshKey,omitempty"`
	// +kubebuilder:validation:items:Pattern=`^sg-[0-9a-f]{8,17}$`
	// +kubebuilder:validation:MaxItems=5
	// +listType=set
	// +optional
	SourceSecurityGroups []string `json:"sourceSecurityGroups,omitempty"`
}

// LaunchTemplateSpecification names a launch template by id or by name,
// and a version (its default version when empty).
type LaunchTemplateSpecification struct {
	// +kubebuilder:validation:Pattern=`^lt-[0-9a-f]{8,17}$`
	// +optional
	ID string `json:"id,omitempty"`
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Name string `json:"name,omitempty"`
	// +kubebuilder:validation:Pattern=`^[1-9][0-9]*$`
	// +optional
	Version string `json:"version,omitempty"`
}

// UpdateConfig is how a version update replaces nodes.
//
// +kubebuilder:validation:XValidation:rule="has(self.maxUnavailable) != has(self.maxUnavailablePercentage)",message="set maxUnavailable or maxUnavailablePercentage, one of them"
type UpdateConfig struct {
	// MaxUnavailable is how many nodes may be unavailable at once, 1-100.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`
	// MaxUnavailablePercentage is the same as a percentage of the nodes.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxUnavailablePercentage *int32 `json:"maxUnavailablePercentage,omitempty"`
	// UpdateStrategy is DEFAULT (new nodes first) or MINIMAL (old nodes
	// first).
	// +kubebuilder:validation:Enum=DEFAULT;MINIMAL
	// +optional
	UpdateStrategy string `json:"updateStrategy,omitempty"`
}

// NodeRepairConfig is node auto repair's configuration.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.maxUnhealthyNodeThresholdCount) && has(self.maxUnhealthyNodeThresholdPercentage))",message="set maxUnhealthyNodeThresholdCount or maxUnhealthyNodeThresholdPercentage, not both"
// +kubebuilder:validation:XValidation:rule="!(has(self.maxParallelNodesRepairedCount) && has(self.maxParallelNodesRepairedPercentage))",message="set maxParallelNodesRepairedCount or maxParallelNodesRepairedPercentage, not both"
type NodeRepairConfig struct {
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxUnhealthyNodeThresholdCount *int32 `json:"maxUnhealthyNodeThresholdCount,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxUnhealthyNodeThresholdPercentage *int32 `json:"maxUnhealthyNodeThresholdPercentage,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxParallelNodesRepairedCount *int32 `json:"maxParallelNodesRepairedCount,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxParallelNodesRepairedPercentage *int32 `json:"maxParallelNodesRepairedPercentage,omitempty"`
	// +kubebuilder:validation:MaxItems=50
	// +listType=atomic
	// +optional
	NodeRepairConfigOverrides []NodeRepairConfigOverride `json:"nodeRepairConfigOverrides,omitempty"`
}

// NodeRepairConfigOverride changes what repair does for one condition and
// reason; all four values are required.
type NodeRepairConfigOverride struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	NodeMonitoringCondition string `json:"nodeMonitoringCondition"`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	NodeUnhealthyReason string `json:"nodeUnhealthyReason"`
	// +kubebuilder:validation:Minimum=1
	MinRepairWaitTimeMins int32 `json:"minRepairWaitTimeMins"`
	// +kubebuilder:validation:Enum=Replace;Reboot;NoAction
	RepairAction string `json:"repairAction"`
}

// NodeGroupStatus is what the node group is: DescribeNodegroup's answer,
// and the configuration kdp has applied.
type NodeGroupStatus struct {
	// Status is CREATING, ACTIVE, UPDATING, DELETING, CREATE_FAILED,
	// DELETE_FAILED or DEGRADED.
	// +optional
	Status Status `json:"status,omitempty"`
	// NodegroupArn is arn:aws:eks:<region>:<account>:nodegroup/<cluster>/<name>/<uuid>.
	// +optional
	NodegroupArn string `json:"nodegroupArn,omitempty"`
	// ClusterName is the cluster the group's nodes join.
	// +optional
	ClusterName string `json:"clusterName,omitempty"`
	// CreatedAt is when the group's cloud resources were created, ModifiedAt
	// when its configuration last changed.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`
	// +optional
	ModifiedAt *metav1.Time `json:"modifiedAt,omitempty"`
	// ReleaseVersion is the release of the group's image (the AMI id for a
	// custom image), and InstanceTypes its instance types, comma-separated.
	// +optional
	ReleaseVersion string `json:"releaseVersion,omitempty"`
	// +optional
	InstanceTypes string `json:"instanceTypes,omitempty"`
	// Resources are the group's cloud resources.
	// +optional
	Resources Resources `json:"resources,omitempty"`
	// Health lists what is wrong, with EKS's issue codes.
	// +optional
	Health Health `json:"health,omitempty"`
	// Nodes counts the group's nodes.
	// +optional
	Nodes NodeCounts `json:"nodes,omitempty"`
	// Applied is the configuration in effect: the spec as of
	// ObservedGeneration, as the last update left it.
	// +optional
	Applied *AppliedConfig `json:"applied,omitempty"`
	// ActiveUpdate is the id of the update in progress, if one is.
	// +optional
	ActiveUpdate string `json:"activeUpdate,omitempty"`
	// ObservedGeneration is the generation of the spec Applied is of.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready (the summary), CloudResourcesReady, NodesReady.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Status is a node group's status, as EKS names it.
type Status string

// Node group statuses.
const (
	StatusCreating     Status = "CREATING"
	StatusActive       Status = "ACTIVE"
	StatusUpdating     Status = "UPDATING"
	StatusDeleting     Status = "DELETING"
	StatusCreateFailed Status = "CREATE_FAILED"
	StatusDeleteFailed Status = "DELETE_FAILED"
	StatusDegraded     Status = "DEGRADED"
)

// Resources are a node group's cloud resources.
type Resources struct {
	// +optional
	AutoScalingGroups []AutoScalingGroup `json:"autoScalingGroups,omitempty"`
	// LaunchTemplate is the template kdp made for the group, and the
	// version the group launches from.
	// +optional
	LaunchTemplate *LaunchTemplateSpecification `json:"launchTemplate,omitempty"`
	// +optional
	RemoteAccessSecurityGroup string `json:"remoteAccessSecurityGroup,omitempty"`
}

// AutoScalingGroup names an Auto Scaling group.
type AutoScalingGroup struct {
	Name string `json:"name"`
}

// Health is what is wrong with a node group.
type Health struct {
	// +optional
	Issues []Issue `json:"issues,omitempty"`
}

// Issue is one problem, with EKS's code and the resources it concerns.
type Issue struct {
	Code IssueCode `json:"code"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// IssueCode is EKS's NodegroupIssueCode.
type IssueCode string

// The issue codes kdp reports (EKS has more).
const (
	IssueAutoScalingGroupNotFound             IssueCode = "AutoScalingGroupNotFound"
	IssueAutoScalingGroupInvalidConfiguration IssueCode = "AutoScalingGroupInvalidConfiguration"
	IssueEc2LaunchTemplateNotFound            IssueCode = "Ec2LaunchTemplateNotFound"
	IssueEc2LaunchTemplateVersionMismatch     IssueCode = "Ec2LaunchTemplateVersionMismatch"
	IssueEc2LaunchTemplateDeletionFailure     IssueCode = "Ec2LaunchTemplateDeletionFailure"
	IssueEc2SubnetNotFound                    IssueCode = "Ec2SubnetNotFound"
	IssueEc2SubnetInvalidConfiguration        IssueCode = "Ec2SubnetInvalidConfiguration"
	IssueEc2InstanceTypeDoesNotExist          IssueCode = "Ec2InstanceTypeDoesNotExist"
	IssueSourceEc2LaunchTemplateNotFound      IssueCode = "SourceEc2LaunchTemplateNotFound"
	IssueAmiIDNotFound                        IssueCode = "AmiIdNotFound"
	IssueNodeCreationFailure                  IssueCode = "NodeCreationFailure"
	IssueAsgInstanceLaunchFailures            IssueCode = "AsgInstanceLaunchFailures"
	IssueInsufficientFreeAddresses            IssueCode = "InsufficientFreeAddresses"
	IssueNodeTerminationFailure               IssueCode = "NodeTerminationFailure"
	IssuePodEvictionFailure                   IssueCode = "PodEvictionFailure"
	IssueInternalFailure                      IssueCode = "InternalFailure"
)

// NodeCounts counts a group's nodes.
type NodeCounts struct {
	// Ready nodes, and all registered nodes, of the group's instances.
	// (Defaulted so that a merge patch of one count leaves a whole object.)
	// +kubebuilder:default=0
	// +optional
	Ready int32 `json:"ready"`
	// +kubebuilder:default=0
	// +optional
	Total int32 `json:"total"`
	// Instances is how many of the group's instances are in service or on
	// their way in.
	// +kubebuilder:default=0
	// +optional
	Instances int32 `json:"instances"`
}

// AppliedConfig is the part of a node group's spec that updates change,
// as it is in effect.
type AppliedConfig struct {
	ScalingConfig ScalingConfig `json:"scalingConfig"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	// +listType=atomic
	Taints []Taint `json:"taints,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// +optional
	UpdateConfig *UpdateConfig `json:"updateConfig,omitempty"`
	// +optional
	NodeRepairConfig *NodeRepairConfig `json:"nodeRepairConfig,omitempty"`
	Version          string            `json:"version"`
	// ReleaseVersion is the image's release (a custom image's id).
	ReleaseVersion string `json:"releaseVersion"`
	// ImageID is the image the group's nodes launch with.
	ImageID string `json:"imageId"`
	// +optional
	LaunchTemplateVersion string `json:"launchTemplateVersion,omitempty"`
}

// Condition types of a NodeGroup.
const (
	// ConditionReady is the summary: the group is ACTIVE.
	ConditionReady = "Ready"
	// ConditionCloudResourcesReady says the launch template, Auto Scaling
	// group and termination hook exist.
	ConditionCloudResourcesReady = "CloudResourcesReady"
	// ConditionNodesReady says desiredSize nodes are Ready.
	ConditionNodesReady = "NodesReady"
)

// Condition reasons of a NodeGroup.
const (
	ReasonCreating         = "Creating"
	ReasonCreated          = "Created"
	ReasonCreateFailed     = "CreateFailed"
	ReasonDeleting         = "Deleting"
	ReasonDeleteFailed     = "DeleteFailed"
	ReasonUpdating         = "Updating"
	ReasonActive           = "Active"
	ReasonDegraded         = "Degraded"
	ReasonAllNodesReady    = "AllNodesReady"
	ReasonWaitingForNodes  = "WaitingForNodes"
	ReasonScalingIn        = "ScalingIn"
	ReasonNodesUnavailable = "NodesUnavailable"
)

// NodeGroupList is a list of NodeGroups.
//
// +kubebuilder:object:root=true
type NodeGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodeGroup{}, &NodeGroupList{})
}
