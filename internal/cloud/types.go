package cloud

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
)

// Architectures.
const (
	ArchAMD64 = "amd64"
	ArchARM64 = "arm64"
)

// Account is the account and region a provider acts in.
type Account struct {
	ID     string `json:"accountId"`
	Region string `json:"region"`
}

// InstanceType is one machine shape, as EC2 describes it.
type InstanceType struct {
	Name            string  `json:"name"`
	Family          string  `json:"family"`
	VCPU            int     `json:"vcpu"`
	MemoryMiB       int64   `json:"memoryMiB"`
	Architecture    string  `json:"architecture"`
	GPUs            int     `json:"gpus,omitempty"`
	GPUManufacturer string  `json:"gpuManufacturer,omitempty"`
	ENIs            int     `json:"enis"`
	IPv4PerENI      int     `json:"ipv4PerEni"`
	OnDemandPrice   float64 `json:"onDemandPricePerHour"`
	// SpotPrices is the current spot price per hour in each zone.
	SpotPrices map[string]float64 `json:"spotPricePerHour,omitempty"`
	Burstable  bool               `json:"burstable,omitempty"`
}

// MaxPods is how many pods a node of this type runs with the VPC CNI,
// as EKS computes it: ENIs × (IPv4 addresses per ENI − 1) + 2.
func (t InstanceType) MaxPods() int { return t.ENIs*(t.IPv4PerENI-1) + 2 }

// EvictionThresholdMiB is the kubelet's hard eviction threshold for memory
// on EKS's AMIs (memory.available<100Mi).
const EvictionThresholdMiB = 100

// KubeReserved is what EKS's AMIs reserve for the system on a node of this
// type (the kubelet's kube-reserved), as their bootstrap computes it: CPU
// 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth
// and 0.25 % of the rest, each range's share in whole millicores; memory
// 255 MiB + 11 MiB per pod the node may run. The simulated kubelets report
// their allocatable with it, and kdp advise packs nodes with it: one
// formula.
func (t InstanceType) KubeReserved() (milliCPU, memoryMiB int64) {
	total := int64(t.VCPU) * 1000
	ranges := []struct{ from, to, perTenThousand int64 }{{0, 1000, 600}, {1000, 2000, 100}, {2000, 4000, 50}, {4000, total, 25}}
	for _, r := range ranges {
		if total > r.from {
			milliCPU += (min(r.to, total) - r.from) * r.perTenThousand / 10000
		}
	}
	return milliCPU, 255 + 11*int64(t.MaxPods())
}

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

// Addresses is how many addresses of the subnet instances can have: AWS
// keeps the first four of every subnet and the last.
func (s Subnet) Addresses() int {
	_, ipnet, err := net.ParseCIDR(s.CIDR)
	if err != nil {
		return 0
	}
	ones, bits := ipnet.Mask.Size()
	return 1<<(bits-ones) - 5
}

// Address returns the subnet's n-th address instances can have (n from 0).
func (s Subnet) Address(n int) (string, error) {
	_, ipnet, err := net.ParseCIDR(s.CIDR)
	if err != nil {
		return "", err
	}
	if n < 0 || n >= s.Addresses() {
		return "", fmt.Errorf("subnet %s (%s) has no address %d", s.ID, s.CIDR, n)
	}
	v := binary.BigEndian.Uint32(ipnet.IP.To4()) + uint32(n+4)
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String(), nil
}

// Page asks for one page of a list: at most MaxResults items (0: all of
// them) after the NextToken a previous page returned ("" for the first).
type Page struct {
	MaxResults int    `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

// MaxPageSize bounds Page.MaxResults, as EC2's APIs bound theirs.
const MaxPageSize = 1000

// TemplateRef names a launch template by ID or by Name (one of them) and,
// where it matters, a version: a number, "$Latest" or "$Default" (empty).
type TemplateRef struct {
	ID      string `json:"launchTemplateId,omitempty"`
	Name    string `json:"launchTemplateName,omitempty"`
	Version string `json:"version,omitempty"`
}

func (r TemplateRef) String() string {
	s := r.Name
	if s == "" {
		s = r.ID
	}
	if r.Version != "" {
		s += ":" + r.Version
	}
	return s
}

// Template versions with a meaning of their own.
const (
	VersionDefault = "$Default"
	VersionLatest  = "$Latest"
)

// LaunchTemplateInput creates a launch template: its name and version 1.
type LaunchTemplateInput struct {
	Name string `json:"launchTemplateName"`
	LaunchTemplateData
	Tags map[string]string `json:"tags,omitempty"`
}

// LaunchTemplateData is what an instance launches with.
type LaunchTemplateData struct {
	ImageID string `json:"imageId,omitempty"`
	// InstanceType is used when the group names no types of its own.
	InstanceType string `json:"instanceType,omitempty"`
	// UserData is what the instance reads at boot (for nodes: the join
	// configuration), as text.
	UserData string `json:"userData,omitempty"`
	// InstanceTags are put on the instances launched from the version.
	InstanceTags map[string]string `json:"instanceTags,omitempty"`
}

// LaunchTemplateVersionInput creates a version of a template.
type LaunchTemplateVersionInput struct {
	LaunchTemplateData
	// SourceVersion is the version empty fields are copied from
	// ($Default when empty).
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Description says what the version is for.
	Description string `json:"versionDescription,omitempty"`
	// MakeDefault makes the new version the template's default.
	MakeDefault bool `json:"makeDefault,omitempty"`
}

// LaunchTemplate is a launch template with its versions.
type LaunchTemplate struct {
	ID             string                  `json:"launchTemplateId"`
	Name           string                  `json:"launchTemplateName"`
	DefaultVersion int64                   `json:"defaultVersionNumber"`
	LatestVersion  int64                   `json:"latestVersionNumber"`
	Tags           map[string]string       `json:"tags,omitempty"`
	CreateTime     time.Time               `json:"createTime"`
	Versions       []LaunchTemplateVersion `json:"versions"`
}

// LaunchTemplateVersion is one version of a template.
type LaunchTemplateVersion struct {
	Number int64 `json:"versionNumber"`
	LaunchTemplateData
	Description string    `json:"versionDescription,omitempty"`
	CreateTime  time.Time `json:"createTime"`
}

// Capacity types.
const (
	OnDemand = "on-demand"
	Spot     = "spot"
)

// GroupInput creates an Auto Scaling group.
type GroupInput struct {
	Name string `json:"autoScalingGroupName"`
	// LaunchTemplate chooses what instances launch with ($Default when
	// its version is empty).
	LaunchTemplate  TemplateRef `json:"launchTemplate"`
	MinSize         int32       `json:"minSize"`
	MaxSize         int32       `json:"maxSize"`
	DesiredCapacity int32       `json:"desiredCapacity"`
	// InstanceTypes override the template's. An on-demand group uses them
	// in order (prioritized), a spot group takes the cheapest with
	// capacity in the zone (price-capacity-optimized).
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	CapacityType  string   `json:"capacityType,omitempty"`
	// SubnetIDs default to every private subnet.
	SubnetIDs []string `json:"subnetIds,omitempty"`
	// CapacityRebalance replaces a spot instance that got a rebalance
	// recommendation (on for spot groups unless set).
	CapacityRebalance *bool             `json:"capacityRebalance,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	LifecycleHooks    []LifecycleHook   `json:"lifecycleHooks,omitempty"`
}

// GroupUpdate changes a group: every field that is set.
type GroupUpdate struct {
	MinSize           *int32       `json:"minSize,omitempty"`
	MaxSize           *int32       `json:"maxSize,omitempty"`
	DesiredCapacity   *int32       `json:"desiredCapacity,omitempty"`
	LaunchTemplate    *TemplateRef `json:"launchTemplate,omitempty"`
	InstanceTypes     []string     `json:"instanceTypes,omitempty"`
	CapacityRebalance *bool        `json:"capacityRebalance,omitempty"`
	SubnetIDs         []string     `json:"subnetIds,omitempty"`
	// Tags are added or replaced by key; RemoveTags are removed.
	Tags       map[string]string `json:"tags,omitempty"`
	RemoveTags []string          `json:"removeTags,omitempty"`
}

// Processes of a group that SuspendProcesses can stop.
const (
	// ProcessLaunch launches instances to reach the desired capacity.
	ProcessLaunch = "Launch"
	// ProcessTerminate terminates instances above the desired capacity.
	ProcessTerminate = "Terminate"
	// ProcessAZRebalance moves instances between zones to keep them even
	// (a rolling update suspends it, so it does not fight the update).
	ProcessAZRebalance = "AZRebalance"
)

// Processes are every process a group runs, in order.
var Processes = []string{ProcessLaunch, ProcessTerminate, ProcessAZRebalance}

// LifecycleHook pauses instances entering (Transition HookLaunching) or
// leaving (HookTerminating) a group.
type LifecycleHook struct {
	Name       string `json:"lifecycleHookName"`
	Transition string `json:"lifecycleTransition"`
	// HeartbeatTimeout is how long an instance waits (30s–2h, default 1h).
	HeartbeatTimeout Duration `json:"heartbeatTimeout,omitempty"`
	// DefaultResult applies when the timeout passes: CONTINUE or ABANDON
	// (the default).
	DefaultResult string `json:"defaultResult,omitempty"`
}

// Lifecycle hook transitions, and the results of lifecycle actions, as
// EC2 Auto Scaling names them.
const (
	HookLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	HookTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
	ResultContinue  = "CONTINUE"
	ResultAbandon   = "ABANDON"
)

// Group is an Auto Scaling group.
type Group struct {
	Name               string            `json:"autoScalingGroupName"`
	ARN                string            `json:"autoScalingGroupArn"`
	LaunchTemplate     TemplateRef       `json:"launchTemplate"`
	MinSize            int32             `json:"minSize"`
	MaxSize            int32             `json:"maxSize"`
	DesiredCapacity    int32             `json:"desiredCapacity"`
	InstanceTypes      []string          `json:"instanceTypes,omitempty"`
	CapacityType       string            `json:"capacityType"`
	SubnetIDs          []string          `json:"subnetIds"`
	Zones              []string          `json:"availabilityZones"`
	CapacityRebalance  bool              `json:"capacityRebalance"`
	Tags               map[string]string `json:"tags,omitempty"`
	LifecycleHooks     []LifecycleHook   `json:"lifecycleHooks,omitempty"`
	SuspendedProcesses []string          `json:"suspendedProcesses,omitempty"`
	CreatedTime        time.Time         `json:"createdTime"`
	// Status is "Delete in progress" while a deleted group's instances
	// terminate, else empty.
	Status string `json:"status,omitempty"`
	// InService and Pending count the group's instances in service and on
	// their way in (booting or waiting on a launching hook).
	InService int32 `json:"inService"`
	Pending   int32 `json:"pending"`
}

// GroupDeleting is a Group's Status while it is being deleted.
const GroupDeleting = "Delete in progress"

// Activity is a group's scaling activity: one launch or termination.
type Activity struct {
	ID          string `json:"activityId"`
	Group       string `json:"autoScalingGroupName"`
	Description string `json:"description"`
	// Cause says why, in EC2 Auto Scaling's words.
	Cause     string     `json:"cause"`
	StartTime time.Time  `json:"startTime"`
	EndTime   *time.Time `json:"endTime,omitempty"`
	// StatusCode is InProgress, Successful, Failed or Cancelled (or
	// WaitingForInstanceWarmup, PreInService, ...: ActivityStatus*).
	StatusCode    string `json:"statusCode"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Progress      int    `json:"progress"`
	// InstanceID is the instance launched or terminated, if any.
	InstanceID string `json:"instanceId,omitempty"`
}

// Activity statuses.
const (
	ActivityInProgress = "InProgress"
	ActivityWaiting    = "WaitingForInstanceWarmup"
	ActivitySuccessful = "Successful"
	ActivityFailed     = "Failed"
	ActivityCancelled  = "Cancelled"
)

// Instance states (EC2's instance-state names).
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
)

// Auto Scaling lifecycle states of a group's instance.
const (
	LifecyclePending         = "Pending"
	LifecyclePendingWait     = "Pending:Wait"
	LifecycleInService       = "InService"
	LifecycleTerminating     = "Terminating"
	LifecycleTerminatingWait = "Terminating:Wait"
	LifecycleTerminated      = "Terminated"
)

// RunInput launches standalone instances.
type RunInput struct {
	// LaunchTemplate, if set, gives the image, type and user data; the
	// fields below override it.
	LaunchTemplate *TemplateRef `json:"launchTemplate,omitempty"`
	ImageID        string       `json:"imageId,omitempty"`
	InstanceType   string       `json:"instanceType,omitempty"`
	UserData       string       `json:"userData,omitempty"`
	// SubnetID is where they launch.
	SubnetID     string `json:"subnetId"`
	CapacityType string `json:"capacityType,omitempty"`
	// Count is how many (default 1, at most 100 at once).
	Count int               `json:"count,omitempty"`
	Tags  map[string]string `json:"tags,omitempty"`
	// ClientToken makes the request idempotent: a second request with the
	// same token returns the instances of the first, launching nothing.
	ClientToken string `json:"clientToken,omitempty"`
	// MicroVM sizes an instance of InstanceType MicroVMType (required
	// then, and only then).
	MicroVM *MicroVM `json:"microVm,omitempty"`
}

// MicroVMType is the instance type of micro-VMs: the isolated, right-sized
// machines a Fargate-style pod runs on, one pod each. Unlike an EC2 type it
// has no fixed shape: each launch gives its size (RunInput.MicroVM). A
// micro-VM's DNS name, the name of its Node, is fargate-ip-….
const MicroVMType = "fargate"

// TagMicroVMPod on a micro-VM is the UID of the one pod it runs: its
// kubelet runs no other.
const TagMicroVMPod = "eks.kdp.dev/pod-uid"

// MicroVM is the size of a micro-VM.
type MicroVM struct {
	MilliCPU   int64 `json:"milliCpu"`
	MemoryMiB  int64 `json:"memoryMiB"`
	StorageGiB int64 `json:"ephemeralStorageGiB"`
}

// Instance is one machine.
type Instance struct {
	ID             string `json:"instanceId"`
	Type           string `json:"instanceType"`
	Zone           string `json:"availabilityZone"`
	SubnetID       string `json:"subnetId"`
	PrivateIP      string `json:"privateIpAddress"`
	PrivateDNSName string `json:"privateDnsName"`
	ImageID        string `json:"imageId"`
	// Lifecycle is on-demand or spot.
	Lifecycle   string `json:"instanceLifecycle"`
	State       string `json:"state"`
	StateReason string `json:"stateReason,omitempty"`
	// StateTransitionTime is when the instance entered its state.
	StateTransitionTime time.Time `json:"stateTransitionTime"`
	// Group is the Auto Scaling group the instance belongs to, if any, and
	// LifecycleState its state there (LifecycleInService, ...).
	Group          string            `json:"autoScalingGroupName,omitempty"`
	LifecycleState string            `json:"lifecycleState,omitempty"`
	LaunchTemplate *TemplateRef      `json:"launchTemplate,omitempty"`
	LaunchTime     time.Time         `json:"launchTime"`
	Tags           map[string]string `json:"tags,omitempty"`
	// SpotInterruptionTime is when a spot interruption notice says the
	// instance goes; RebalanceRecommended when EC2 said it is at elevated
	// risk of one; RetirementTime when scheduled maintenance retires it.
	SpotInterruptionTime *time.Time `json:"spotInterruptionTime,omitempty"`
	RebalanceRecommended *time.Time `json:"rebalanceRecommendationTime,omitempty"`
	RetirementTime       *time.Time `json:"retirementTime,omitempty"`
	// KubeletFailed is a simulated cloud's fault: the kubelet on the
	// instance has died (kdp sim fail), while the instance runs on. A real
	// cloud never sets it.
	KubeletFailed bool `json:"kubeletFailed,omitempty"`
	// FailedConditions is a simulated cloud's fault too: the node
	// monitoring conditions (KernelReady, NetworkingReady, ...) its
	// kubelet reports False, each with its reason (kdp sim fail-condition),
	// the others True. A real cloud never sets it.
	FailedConditions map[string]string `json:"failedConditions,omitempty"`
	// MicroVM is the size of a micro-VM (Type MicroVMType), else nil.
	MicroVM *MicroVM `json:"microVm,omitempty"`
}

// NodeMonitoringConditions are the Node conditions EKS's node monitoring
// agent reports (True when healthy), which a simulated instance's
// FailedConditions may turn False.
var NodeMonitoringConditions = []string{"KernelReady", "NetworkingReady", "StorageReady", "ContainerRuntimeReady", "AcceleratedHardwareReady"}

// InstanceFilter narrows ListInstances; an empty field does not.
type InstanceFilter struct {
	Group  string   `json:"autoScalingGroupName,omitempty"`
	States []string `json:"states,omitempty"`
	IDs    []string `json:"instanceIds,omitempty"`
}

// LifecycleAction names the lifecycle action of an instance waiting on a
// group's hook.
type LifecycleAction struct {
	Group      string `json:"autoScalingGroupName"`
	Hook       string `json:"lifecycleHookName"`
	InstanceID string `json:"instanceId"`
	// Result is CONTINUE or ABANDON (CompleteLifecycleAction only).
	Result string `json:"lifecycleActionResult,omitempty"`
}

// Launch is a cloud's record of an instance it launched.
type Launch struct {
	InstanceID string `json:"instanceId"`
	Cluster    string `json:"cluster"`
	Group      string `json:"autoScalingGroupName,omitempty"`
	// PrivateDNSName is the instance's, the name of its Node.
	PrivateDNSName string    `json:"privateDnsName"`
	LaunchTime     time.Time `json:"launchTime"`
	// Ended is when the instance began shutting down, if it has.
	Ended *time.Time `json:"endTime,omitempty"`
}

// Duration is a time.Duration that is written as a string ("30m0s") in
// JSON, as every duration kdp prints.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string like "1h30m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// ProviderID is the providerID of an instance's Node, as EKS writes it:
// aws:///<zone>/<instance id>.
func ProviderID(zone, instanceID string) string { return "aws:///" + zone + "/" + instanceID }

// InstanceOfProviderID returns the instance id a Node's providerID names
// (aws:///<zone>/<id>), or "".
func InstanceOfProviderID(providerID string) string {
	rest, ok := strings.CutPrefix(providerID, "aws:///")
	if !ok {
		return ""
	}
	_, id, _ := strings.Cut(rest, "/")
	return id
}
