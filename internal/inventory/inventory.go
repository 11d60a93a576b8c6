// Package inventory joins what the cluster and its cloud know about each
// node: the Node, the cloud instance its providerID names, the pods bound
// to it and the instance's price, into one row per node (kdp nodes) or one
// description of a node (kdp nodes describe). It is pure: objects in, rows
// out; the command line fetches and renders.
//
// A node's data plane is read from its labels and its instance, never from
// kdp's custom resources: a managed node group's nodes carry EKS's
// eks.amazonaws.com/nodegroup label (and their instances the group's tag),
// Fargate nodes eks.amazonaws.com/compute-type=fargate (and are micro-VMs),
// a self-managed node in an Auto Scaling group has an instance of a group
// no managed node group owns, and a standalone one an instance of no group.
// A node without a cloud instance (another cluster's) has what its labels
// say, and nothing else.
package inventory

import (
	"cmp"
	"math"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
)

// DataPlane is what runs a node.
type DataPlane string

// The data planes of nodes.
const (
	// Managed is a managed node group's node.
	Managed DataPlane = "managed"
	// SelfManagedGroup is a self-managed node in an Auto Scaling group of
	// its own (not a managed node group's).
	SelfManagedGroup DataPlane = "self-managed-group"
	// Standalone is a self-managed node on an instance of no group.
	Standalone DataPlane = "standalone"
	// Fargate is a Fargate pod's micro-VM.
	Fargate DataPlane = "fargate"
	// Unknown is a node kdp's cloud has no instance of and whose labels do
	// not say.
	Unknown DataPlane = ""
)

// Capacity types, as EKS spells them.
const (
	OnDemand = "ON_DEMAND"
	Spot     = "SPOT"
)

// Node statuses, as kubectl get nodes prints them.
const (
	StatusReady              = "Ready"
	StatusNotReady           = "NotReady"
	StatusUnknown            = "Unknown"
	statusSchedulingDisabled = ",SchedulingDisabled"
)

// Node is one row of kdp nodes: what a node is and runs on. Empty fields
// are unknown (no cloud instance, or no label saying).
type Node struct {
	Name      string    `json:"nodeName"`
	DataPlane DataPlane `json:"dataPlane,omitempty"`
	// NodegroupName is a managed node's group, FargateProfileName a
	// Fargate node's profile, AutoScalingGroupName the group of the
	// node's instance (a managed node group's, or a self-managed one).
	NodegroupName        string `json:"nodegroupName,omitempty"`
	FargateProfileName   string `json:"fargateProfileName,omitempty"`
	AutoScalingGroupName string `json:"autoScalingGroupName,omitempty"`
	InstanceID           string `json:"instanceId,omitempty"`
	// InstanceType is the EC2 type, or a micro-VM's size as EKS writes it
	// (0.25vCPU 0.5GB).
	InstanceType string `json:"instanceType,omitempty"`
	Zone         string `json:"availabilityZone,omitempty"`
	// CapacityType is ON_DEMAND or SPOT.
	CapacityType   string `json:"capacityType,omitempty"`
	KubeletVersion string `json:"kubeletVersion"`
	// Pods is how many pods not yet finished are bound to the node;
	// MaxPods how many it may run (its allocatable pods).
	Pods    int   `json:"pods"`
	MaxPods int64 `json:"maxPods"`
	// PricePerHour is the instance's price in USD, to the millionth
	// (nil: unknown).
	PricePerHour *float64 `json:"pricePerHour,omitempty"`
	ImageID      string   `json:"imageId,omitempty"`
	InternalIP   string   `json:"internalIp,omitempty"`
	// Status is Ready, NotReady or Unknown (the Ready condition's), with
	// ,SchedulingDisabled if the node is cordoned.
	Status string `json:"status"`
	// InstanceState is the instance's EC2 state (running, ...),
	// LifecycleState its Auto Scaling lifecycle state (InService, ...).
	InstanceState  string         `json:"instanceState,omitempty"`
	LifecycleState string         `json:"lifecycleState,omitempty"`
	CreatedAt      time.Time      `json:"createdAt"`
	Age            cloud.Duration `json:"age"`
}

// Group is the name of the node's group: its node group, Fargate profile
// or Auto Scaling group ("" for none or unknown).
func (n Node) Group() string {
	switch n.DataPlane {
	case Managed:
		return n.NodegroupName
	case Fargate:
		return n.FargateProfileName
	case SelfManagedGroup:
		return n.AutoScalingGroupName
	}
	return ""
}

// Inputs are what the rows are made of.
type Inputs struct {
	Nodes []corev1.Node
	// Instances are the cloud's (terminated ones too); nodes are matched
	// to them by the instance id of their providerID.
	Instances []cloud.Instance
	// Pods are the cluster's; those bound to a node count as its.
	Pods   []corev1.Pod
	Prices billing.Prices
	Now    time.Time
}

// Nodes joins the inputs into one row per node, by name.
func Nodes(in Inputs) []Node {
	instances := make(map[string]*cloud.Instance, len(in.Instances))
	for i := range in.Instances {
		instances[in.Instances[i].ID] = &in.Instances[i]
	}
	pods := PodsByNode(in.Pods)
	rows := make([]Node, 0, len(in.Nodes))
	for i := range in.Nodes {
		n := &in.Nodes[i]
		rows = append(rows, Summarize(n, instances[InstanceID(n)], pods[n.Name], in.Prices, in.Now))
	}
	slices.SortFunc(rows, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return rows
}

// InstanceID is the cloud instance a Node's providerID names, or "".
func InstanceID(n *corev1.Node) string { return cloud.InstanceOfProviderID(n.Spec.ProviderID) }

// PodsByNode are the pods bound to each node that have not finished
// (neither Succeeded nor Failed), as kubectl describe node counts them.
func PodsByNode(pods []corev1.Pod) map[string][]corev1.Pod {
	by := map[string][]corev1.Pod{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		by[p.Spec.NodeName] = append(by[p.Spec.NodeName], p)
	}
	return by
}

// Summarize is the row of one node: inst is its instance (nil: none
// known), pods the unfinished pods bound to it.
func Summarize(n *corev1.Node, inst *cloud.Instance, pods []corev1.Pod, prices billing.Prices, now time.Time) Node {
	r := Node{
		Name:           n.Name,
		KubeletVersion: n.Status.NodeInfo.KubeletVersion,
		Pods:           len(pods),
		Status:         status(n),
		InternalIP:     address(n, corev1.NodeInternalIP),
		CreatedAt:      n.CreationTimestamp.Time.UTC(),
		Age:            age(now, n.CreationTimestamp.Time),
		// What the node's labels say; its instance, if known, says better.
		InstanceType: n.Labels[corev1.LabelInstanceTypeStable],
		Zone:         n.Labels[corev1.LabelTopologyZone],
		CapacityType: n.Labels[eksv1.LabelCapacityType],
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		r.MaxPods = q.Value()
	}
	switch {
	case n.Labels[eksv1.LabelComputeType] == eksv1.ComputeTypeFargate || inst != nil && inst.MicroVM != nil:
		r.DataPlane, r.FargateProfileName, r.CapacityType = Fargate, fargateProfile(pods), OnDemand
	case n.Labels[eksv1.LabelNodegroup] != "":
		r.DataPlane, r.NodegroupName = Managed, n.Labels[eksv1.LabelNodegroup]
	}
	if inst == nil {
		return r
	}
	r.InstanceID, r.Zone, r.ImageID = inst.ID, inst.Zone, inst.ImageID
	r.InstanceState, r.LifecycleState, r.AutoScalingGroupName = inst.State, inst.LifecycleState, inst.Group
	if r.InternalIP == "" {
		r.InternalIP = inst.PrivateIP
	}
	r.InstanceType = inst.Type
	if vm := inst.MicroVM; vm != nil {
		r.InstanceType = billing.SizeName(*vm)
	}
	if r.DataPlane != Fargate {
		r.CapacityType = capacityType(inst.Lifecycle)
	}
	if rate, ok := prices.Rate(*inst); ok {
		rate = math.Round(rate*1e6) / 1e6 // to the millionth of a dollar: no float noise in JSON
		r.PricePerHour = &rate
	}
	plane, group := billing.Classify(*inst)
	switch {
	case r.DataPlane == Fargate:
		if group != "" {
			r.FargateProfileName = group
		}
	case r.DataPlane == Managed:
	case plane == billing.Managed: // the group's tag, without the label
		r.DataPlane, r.NodegroupName = Managed, group
	case inst.Group != "":
		r.DataPlane = SelfManagedGroup
	default:
		r.DataPlane = Standalone
	}
	return r
}

// capacityType is EKS's spelling of an instance's lifecycle.
func capacityType(lifecycle string) string {
	if lifecycle == cloud.Spot {
		return Spot
	}
	return OnDemand
}

// fargateProfile is the profile of a Fargate node's pod (its label).
func fargateProfile(pods []corev1.Pod) string {
	for _, p := range pods {
		if fp := p.Labels[eksv1.LabelFargateProfile]; fp != "" {
			return fp
		}
	}
	return ""
}

// status is the node's status as kubectl get nodes prints it.
func status(n *corev1.Node) string {
	s := StatusUnknown
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			switch c.Status {
			case corev1.ConditionTrue:
				s = StatusReady
			case corev1.ConditionFalse:
				s = StatusNotReady
			}
		}
	}
	if n.Spec.Unschedulable {
		s += statusSchedulingDisabled
	}
	return s
}

func address(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return ""
}

// age is how long before now t was, to the second (0 for a zero t or a
// t after now).
func age(now, t time.Time) cloud.Duration {
	if t.IsZero() || t.After(now) {
		return cloud.Duration{}
	}
	return cloud.Duration{Duration: now.Sub(t).Round(time.Second)}
}
