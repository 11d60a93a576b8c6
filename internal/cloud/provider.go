// Package cloud is the interface between kdp's controllers and the machines
// they run on. It speaks kdp's own types, never a cloud SDK's, so that the
// simulated cloud (package sim) and a real AWS provider are interchangeable.
// Errors are typed (errors.go) so callers can switch on what went wrong.
package cloud

import (
	"context"
	"time"
)

// Provider is a cloud with EC2- and Auto Scaling-like resources.
type Provider interface {
	// InstanceTypes lists the instance types on offer, with prices.
	InstanceTypes(ctx context.Context) ([]InstanceType, error)
	// Images lists the node images on offer, newest release first.
	Images(ctx context.Context) ([]Image, error)
	// Subnets lists the subnets instances can launch in.
	Subnets(ctx context.Context) ([]Subnet, error)

	// CreateLaunchTemplate creates a template with its version 1. It fails
	// with InvalidParameterError (naming the field) on bad input and
	// AlreadyExistsError if the name is taken; nothing is created then.
	CreateLaunchTemplate(ctx context.Context, in LaunchTemplateInput) (*LaunchTemplate, error)
	// GetLaunchTemplate returns a template, or NotFoundError.
	GetLaunchTemplate(ctx context.Context, name string) (*LaunchTemplate, error)
	// CreateLaunchTemplateVersion adds a version to a template (the next
	// number), optionally making it the default, and returns its number.
	// Empty fields of in are copied from the default version.
	CreateLaunchTemplateVersion(ctx context.Context, name string, in LaunchTemplateInput, makeDefault bool) (int64, error)
	// DeleteLaunchTemplate deletes a template; it is not an error if it is gone.
	DeleteLaunchTemplate(ctx context.Context, name string) error

	// CreateGroup creates an Auto Scaling group, which then launches
	// DesiredCapacity instances. Errors as for CreateLaunchTemplate.
	CreateGroup(ctx context.Context, in GroupInput) (*Group, error)
	// GetGroup returns a group, or NotFoundError.
	GetGroup(ctx context.Context, name string) (*Group, error)
	// ListGroups lists every group.
	ListGroups(ctx context.Context) ([]Group, error)
	// SetDesiredCapacity changes how many instances the group keeps; it
	// must lie within the group's min and max (InvalidParameterError).
	SetDesiredCapacity(ctx context.Context, name string, desired int32) error
	// SetLaunchTemplateVersion changes the version ("$Latest", "$Default" or
	// a number) new instances launch with; running instances are not
	// replaced (that is a rolling update's job).
	SetLaunchTemplateVersion(ctx context.Context, name, version string) error
	// DeleteGroup deletes a group and terminates its instances.
	DeleteGroup(ctx context.Context, name string) error

	// ListInstances lists instances, optionally of one group.
	ListInstances(ctx context.Context, filter InstanceFilter) ([]Instance, error)
	// GetInstance returns an instance, or NotFoundError.
	GetInstance(ctx context.Context, id string) (*Instance, error)
	// TerminateInstance terminates an instance. For a group's instance,
	// decrementDesired lowers the group's desired capacity with it;
	// otherwise the group launches a replacement. A group's terminating
	// lifecycle hooks hold the instance in Terminating:Wait first.
	TerminateInstance(ctx context.Context, id string, decrementDesired bool) error
	// CompleteLifecycleAction lets an instance waiting on a group's hook go
	// on, with result CONTINUE or ABANDON. It fails with
	// InvalidParameterError if the instance waits on no such hook.
	CompleteLifecycleAction(ctx context.Context, group, hook, instanceID, result string) error

	// Subscribe delivers the cloud's events (spot interruption warnings,
	// rebalance recommendations, state changes, lifecycle actions) from now
	// until ctx ends. Each event has a stable ID: a consumer may see one
	// again after a restart and should de-duplicate by ID.
	Subscribe(ctx context.Context) <-chan Event
}

// Architectures.
const (
	ArchAMD64 = "amd64"
	ArchARM64 = "arm64"
)

// InstanceType is one machine shape, as EC2 describes it.
type InstanceType struct {
	Name           string  `json:"name"`
	Family         string  `json:"family"`
	VCPU           int     `json:"vcpu"`
	MemoryMiB      int64   `json:"memoryMiB"`
	Architecture   string  `json:"architecture"`
	GPUs           int     `json:"gpus,omitempty"`
	ENIs           int     `json:"enis"`
	IPv4PerENI     int     `json:"ipv4PerEni"`
	OnDemandPrice  float64 `json:"onDemandPricePerHour"`
	Burstable      bool    `json:"burstable,omitempty"`
	GPUManufacture string  `json:"gpuManufacturer,omitempty"`
}

// MaxPods is how many pods a node of this type runs with the VPC CNI,
// as EKS computes it: ENIs × (IPv4 addresses per ENI − 1) + 2.
func (t InstanceType) MaxPods() int { return t.ENIs*(t.IPv4PerENI-1) + 2 }

// Image is a node image (an EKS-optimized AMI).
type Image struct {
	ID string `json:"id"`
	// Type is the AMI type, e.g. AL2023_x86_64_STANDARD.
	Type string `json:"amiType"`
	// KubernetesVersion is the kubelet's version, e.g. 1.37.2.
	KubernetesVersion string `json:"kubernetesVersion"`
	// ReleaseVersion is e.g. 1.37.2-20261101.
	ReleaseVersion string    `json:"releaseVersion"`
	Architecture   string    `json:"architecture"`
	Released       time.Time `json:"released"`
}

// Subnet is a subnet in one zone.
type Subnet struct {
	ID     string `json:"id"`
	Zone   string `json:"zone"`
	CIDR   string `json:"cidr"`
	Public bool   `json:"public"`
}

// LaunchTemplateInput creates a launch template.
type LaunchTemplateInput struct {
	Name         string
	ImageID      string
	InstanceType string
	UserData     string
	Tags         map[string]string
}

// LaunchTemplate is a launch template with its versions.
type LaunchTemplate struct {
	Name           string
	ID             string
	DefaultVersion int64
	LatestVersion  int64
	Versions       []LaunchTemplateVersion
}

// LaunchTemplateVersion is one version of a template.
type LaunchTemplateVersion struct {
	Number       int64
	ImageID      string
	InstanceType string
	UserData     string
	Tags         map[string]string
}

// Capacity types.
const (
	OnDemand = "on-demand"
	Spot     = "spot"
)

// GroupInput creates an Auto Scaling group.
type GroupInput struct {
	Name string
	// LaunchTemplate and LaunchTemplateVersion ("$Default", "$Latest" or
	// a number) choose what instances launch with.
	LaunchTemplate        string
	LaunchTemplateVersion string
	MinSize, MaxSize      int32
	DesiredCapacity       int32
	// InstanceTypes override the template's; see the package doc of sim.
	InstanceTypes []string
	CapacityType  string
	// SubnetIDs default to every private subnet.
	SubnetIDs         []string
	CapacityRebalance bool
	Tags              map[string]string
	LifecycleHooks    []LifecycleHook
}

// LifecycleHook pauses instances entering (Transition "launching") or
// leaving ("terminating") a group.
type LifecycleHook struct {
	Name             string
	Transition       string
	HeartbeatTimeout time.Duration
	DefaultResult    string
}

// Lifecycle hook transitions.
const (
	HookLaunching   = "launching"
	HookTerminating = "terminating"
)

// Group is an Auto Scaling group.
type Group struct {
	GroupInput
	InService int32
	Pending   int32
}

// Instance states.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
)

// Instance is one machine.
type Instance struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Zone           string `json:"zone"`
	SubnetID       string `json:"subnetId"`
	PrivateIP      string `json:"privateIp"`
	PrivateDNSName string `json:"privateDnsName,omitempty"`
	State          string `json:"state"`
	Lifecycle      string `json:"lifecycle"`
	ImageID        string `json:"imageId"`
	Group          string `json:"group,omitempty"`
	// NodeName is the instance's Node, once its kubelet has registered it.
	NodeName string `json:"nodeName,omitempty"`
	// LifecycleState is the instance\'s state in its group (InService,
	// Terminating:Wait, ...).
	LifecycleState string            `json:"lifecycleState,omitempty"`
	LaunchTime     *time.Time        `json:"launchTime,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// InstanceFilter narrows ListInstances.
type InstanceFilter struct {
	// Group, if set, keeps only that group's instances.
	Group string
}
