package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Capacity types, as EC2 and EKS name them.
const (
	OnDemand = "on-demand"
	Spot     = "spot"
)

// Instance states (EC2's instance-state names).
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
)

// Labels kdp puts on simulated resources so they can be listed by owner.
const (
	LabelGroup = "sim.kdp.dev/group"
	// AnnotationDecremented lists the instances whose termination the
	// group has already taken off its desired capacity.
	AnnotationDecremented = "sim.kdp.dev/decremented"
	// Finalizer keeps a group until its instances are terminated.
	Finalizer = "sim.kdp.dev/terminate-instances"
)

// LaunchTemplate is an EC2 launch template: numbered, immutable versions of
// what an instance is launched with. Its name is the template's name.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=lt
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.spec.id`
// +kubebuilder:printcolumn:name="Default",type=integer,JSONPath=`.spec.defaultVersion`
type LaunchTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LaunchTemplateSpec `json:"spec"`
}

// LaunchTemplateSpec lists the template's versions.
type LaunchTemplateSpec struct {
	// ID is the template's id, lt- and 17 hex digits.
	// +kubebuilder:validation:Pattern=`^lt-[0-9a-f]{17}$`
	ID string `json:"id"`
	// DefaultVersion is used when a group asks for $Default.
	// +kubebuilder:validation:Minimum=1
	DefaultVersion int64 `json:"defaultVersion"`
	// Versions are numbered from 1, in order, and never change once
	// written; the last is $Latest.
	// +kubebuilder:validation:MinItems=1
	Versions []LaunchTemplateVersion `json:"versions"`
}

// LaunchTemplateVersion is one version of a launch template.
type LaunchTemplateVersion struct {
	// +kubebuilder:validation:Minimum=1
	Number int64 `json:"number"`
	// ImageID is the AMI, ami- and 17 hex digits.
	ImageID string `json:"imageId"`
	// InstanceType is used when the group does not list its own types.
	// +optional
	InstanceType string `json:"instanceType,omitempty"`
	// UserData is what the instance reads at boot (for nodes: the join
	// configuration), as text.
	// +optional
	UserData string `json:"userData,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
}

// LaunchTemplateList is a list of LaunchTemplates.
//
// +kubebuilder:object:root=true
type LaunchTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LaunchTemplate `json:"items"`
}

// AutoScalingGroup is an EC2 Auto Scaling group: it keeps DesiredCapacity
// instances running, balanced across its subnets' zones. Its name is the
// group's name.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=asg
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.minSize`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.maxSize`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.desiredCapacity`
// +kubebuilder:printcolumn:name="InService",type=integer,JSONPath=`.status.inService`
// +kubebuilder:printcolumn:name="Capacity",type=string,JSONPath=`.spec.capacityType`
type AutoScalingGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AutoScalingGroupSpec   `json:"spec"`
	Status AutoScalingGroupStatus `json:"status,omitempty"`
}

// AutoScalingGroupSpec is what the group should be.
type AutoScalingGroupSpec struct {
	// +kubebuilder:validation:Minimum=0
	MinSize int32 `json:"minSize"`
	// +kubebuilder:validation:Minimum=0
	MaxSize int32 `json:"maxSize"`
	// +kubebuilder:validation:Minimum=0
	DesiredCapacity int32 `json:"desiredCapacity"`
	// LaunchTemplate is the template new instances are launched from.
	LaunchTemplate LaunchTemplateRef `json:"launchTemplate"`
	// InstanceTypes override the template's type. On-demand groups use
	// them in order (prioritized); spot groups take the cheapest type with
	// capacity (price-capacity-optimized).
	// +optional
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// CapacityType is on-demand or spot.
	// +kubebuilder:validation:Enum=on-demand;spot
	// +kubebuilder:default=on-demand
	CapacityType string `json:"capacityType,omitempty"`
	// SubnetIDs are where instances launch, balanced across their zones.
	// +kubebuilder:validation:MinItems=1
	SubnetIDs []string `json:"subnetIds"`
	// CapacityRebalance launches a replacement when a spot instance gets a
	// rebalance recommendation.
	// +optional
	CapacityRebalance bool `json:"capacityRebalance,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// LifecycleHooks pause instances on their way in or out, until the
	// hook's action is completed or its heartbeat timeout passes.
	// +optional
	LifecycleHooks []LifecycleHook `json:"lifecycleHooks,omitempty"`
	// Faults are the simulator's faults on the group's launches (kdp sim
	// slow-boot, kdp sim launch-failure); EC2 Auto Scaling has no such
	// field. The group records its decision on each instance it launches.
	// +optional
	Faults *GroupFaults `json:"faults,omitempty"`
}

// GroupFaults are the faults in effect for a group's launches, each for a
// window of time.
type GroupFaults struct {
	// +optional
	SlowBoot *SlowBootFault `json:"slowBoot,omitempty"`
	// +optional
	LaunchFailure *LaunchFailureFault `json:"launchFailure,omitempty"`
}

// FaultWindow is when a fault is in effect: it applies to the instances
// launched from From until Until.
type FaultWindow struct {
	// From and Until are to the microsecond: with --time-scale a window
	// may last less than a second.
	From  metav1.MicroTime `json:"from"`
	Until metav1.MicroTime `json:"until"`
}

// SlowBootFault makes the instances launched in its window boot (pending
// to running) Delay longer.
type SlowBootFault struct {
	FaultWindow `json:",inline"`
	// Delay is in scenario time: a cloud running with --time-scale N waits
	// it N times faster, like every other wait.
	Delay metav1.Duration `json:"delay"`
}

// LaunchFailureFault makes a fraction of the instances launched in its
// window (of a type, in a zone, if given) fail at launch, as EC2 reports
// Client.InternalError.
type LaunchFailureFault struct {
	FaultWindow `json:",inline"`
	// +optional
	InstanceType string `json:"instanceType,omitempty"`
	// +optional
	Zone string `json:"zone,omitempty"`
	// Rate is the fraction of launches that fail, in (0, 1], as a decimal
	// string ("0.5"; "1": all), since API fields carry no floats.
	// +kubebuilder:validation:Pattern=`^(0?\.[0-9]*[1-9][0-9]*|1(\.0+)?)$`
	Rate string `json:"rate"`
	// Seed picks which launches fail: the n-th matching launch of the
	// window fails by a generator seeded with Seed and n, so a scenario
	// replays the same way.
	// +optional
	Seed int64 `json:"seed,omitempty"`
}

// Lifecycle transitions a hook can pause.
const (
	TransitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	TransitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
)

// Results of a lifecycle action.
const (
	ResultContinue = "CONTINUE"
	ResultAbandon  = "ABANDON"
)

// LifecycleHook is an Auto Scaling lifecycle hook.
type LifecycleHook struct {
	Name string `json:"name"`
	// +kubebuilder:validation:Enum=autoscaling:EC2_INSTANCE_LAUNCHING;autoscaling:EC2_INSTANCE_TERMINATING
	Transition string `json:"transition"`
	// HeartbeatTimeoutSeconds is how long an instance waits (EC2's
	// default: 3600).
	// +kubebuilder:validation:Minimum=30
	// +kubebuilder:validation:Maximum=7200
	HeartbeatTimeoutSeconds int32 `json:"heartbeatTimeoutSeconds"`
	// DefaultResult applies when the timeout passes.
	// +kubebuilder:validation:Enum=CONTINUE;ABANDON
	DefaultResult string `json:"defaultResult"`
}

// LaunchTemplateRef names a launch template and a version: a number,
// "$Latest" or "$Default".
type LaunchTemplateRef struct {
	Name string `json:"name"`
	// +kubebuilder:default="$Default"
	Version string `json:"version,omitempty"`
}

// AutoScalingGroupStatus is what the group observed.
type AutoScalingGroupStatus struct {
	// InService counts instances in service.
	// +optional
	InService int32 `json:"inService,omitempty"`
	// Pending counts instances on their way in (launching, booting, or
	// waiting on a launch hook).
	// +optional
	Pending int32 `json:"pending,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AutoScalingGroupList is a list of AutoScalingGroups.
//
// +kubebuilder:object:root=true
type AutoScalingGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AutoScalingGroup `json:"items"`
}

// Instance is an EC2 instance. Its name is the instance id, i- and 17 hex
// digits.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=inst
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.instanceType`
// +kubebuilder:printcolumn:name="Zone",type=string,JSONPath=`.spec.zone`
// +kubebuilder:printcolumn:name="Lifecycle",type=string,JSONPath=`.spec.lifecycle`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Private-DNS",type=string,JSONPath=`.status.privateDnsName`
type Instance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   InstanceSpec   `json:"spec"`
	Status InstanceStatus `json:"status,omitempty"`
}

// InstanceSpec is what the instance was launched with, and the requests
// made of it since (termination).
type InstanceSpec struct {
	InstanceType string `json:"instanceType"`
	ImageID      string `json:"imageId"`
	SubnetID     string `json:"subnetId"`
	Zone         string `json:"zone"`
	// PrivateIP is assigned from the subnet at launch.
	PrivateIP string `json:"privateIp"`
	// Lifecycle is on-demand or spot.
	// +kubebuilder:validation:Enum=on-demand;spot
	Lifecycle string `json:"lifecycle"`
	// +optional
	UserData string `json:"userData,omitempty"`
	// LaunchTime orders instances to the microsecond (creationTimestamp has
	// seconds): scale-in takes the oldest first, and seeded scenarios pick
	// by launch order.
	// +optional
	LaunchTime *metav1.MicroTime `json:"launchTime,omitempty"`
	// Group is the Auto Scaling group the instance belongs to, if any.
	// +optional
	Group string `json:"group,omitempty"`
	// +optional
	LaunchTemplate *LaunchTemplateRef `json:"launchTemplate,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// BootDelay is extra boot time, in scenario time, decided at launch by
	// the group's slow-boot fault.
	// +optional
	BootDelay *metav1.Duration `json:"bootDelay,omitempty"`
	// LaunchFailure, decided at launch by the group's launch-failure fault,
	// is the state reason the instance fails with at the end of its boot:
	// it goes shutting-down and terminated instead of running.
	// +optional
	LaunchFailure string `json:"launchFailure,omitempty"`
	// TerminationRequested is set when someone (a user, the group, a spot
	// reclaim) asks for the instance to go; the simulator then moves it to
	// shutting-down and terminated.
	// +optional
	TerminationRequested *metav1.Time `json:"terminationRequested,omitempty"`
	// TerminationReason says who asked.
	// +optional
	TerminationReason string `json:"terminationReason,omitempty"`
	// DecrementDesired asks the group to lower its desired capacity with
	// this termination instead of launching a replacement.
	// +optional
	DecrementDesired bool `json:"decrementDesired,omitempty"`
	// SpotInterruptionTime is when a spot reclaim terminates the instance
	// (the notice comes 2 minutes before).
	// +optional
	SpotInterruptionTime *metav1.Time `json:"spotInterruptionTime,omitempty"`
	// KubeletFailed simulates a dead kubelet: the instance runs, its node
	// stops reporting.
	// +optional
	KubeletFailed bool `json:"kubeletFailed,omitempty"`
	// ScheduledRetirement is when scheduled maintenance retires the
	// instance (EC2's instance-retirement event); its group replaces it.
	// +optional
	ScheduledRetirement *metav1.Time `json:"scheduledRetirement,omitempty"`
	// RebalanceRecommended is when EC2 said the spot instance is at
	// elevated risk of interruption.
	// +optional
	RebalanceRecommended *metav1.Time `json:"rebalanceRecommended,omitempty"`
	// CompletedLifecycleActions records, by hook name, the result someone
	// completed the hook's action with.
	// +optional
	CompletedLifecycleActions map[string]string `json:"completedLifecycleActions,omitempty"`
}

// InstanceStatus is the instance as the simulated cloud reports it.
type InstanceStatus struct {
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	StateTransitionTime *metav1.Time `json:"stateTransitionTime,omitempty"`
	// +optional
	StateReason string `json:"stateReason,omitempty"`
	// PrivateDNSName is also the name of the instance's Node, once its
	// kubelet has registered one (the Node, labelled with the instance id,
	// is the record of the join, as on EC2, which knows nothing of nodes).
	// +optional
	PrivateDNSName string `json:"privateDnsName,omitempty"`
	// LifecycleState is the instance's state in its Auto Scaling group:
	// Pending, Pending:Wait, InService, Terminating, Terminating:Wait,
	// Terminated.
	// +optional
	LifecycleState string `json:"lifecycleState,omitempty"`
	// WaitingOn is the lifecycle hook the instance waits on, and
	// HookDeadline when that hook times out.
	// +optional
	WaitingOn string `json:"waitingOn,omitempty"`
	// +optional
	HookDeadline *metav1.Time `json:"hookDeadline,omitempty"`
	// Notified records the notices already published for this instance
	// (interruption warning, rebalance recommendation, lifecycle actions),
	// so that each is sent once, even across restarts.
	// +optional
	Notified []string `json:"notified,omitempty"`
}

// Auto Scaling lifecycle states of an instance.
const (
	LifecyclePending         = "Pending"
	LifecyclePendingWait     = "Pending:Wait"
	LifecycleInService       = "InService"
	LifecycleTerminating     = "Terminating"
	LifecycleTerminatingWait = "Terminating:Wait"
	LifecycleTerminated      = "Terminated"
)

// InstanceList is a list of Instances.
//
// +kubebuilder:object:root=true
type InstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Instance `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LaunchTemplate{}, &LaunchTemplateList{}, &AutoScalingGroup{}, &AutoScalingGroupList{}, &Instance{}, &InstanceList{})
}
