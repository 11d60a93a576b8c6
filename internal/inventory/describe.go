package inventory

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
)

// Description is all kdp nodes describe says of one node.
type Description struct {
	Node Node `json:"node"`
	// Labels are all the node's; LabelsThatMatter those of them that say
	// where it runs and whose it is.
	Labels        map[string]string `json:"labels,omitempty"`
	Taints        []corev1.Taint    `json:"taints,omitempty"`
	Unschedulable bool              `json:"unschedulable,omitempty"`
	Conditions    []Condition       `json:"conditions,omitempty"`
	Capacity      map[string]string `json:"capacity,omitempty"`
	Allocatable   map[string]string `json:"allocatable,omitempty"`
	// Instance is the node's cloud instance, nil if none is known.
	Instance *Instance `json:"instance,omitempty"`
	// Group is the node's group, nil for a standalone or unknown node.
	Group *Group `json:"group,omitempty"`
	// Pods are the unfinished pods bound to the node, by namespace and
	// name.
	Pods []Pod `json:"pods"`
	// Events are the events that concern the node or its instance, oldest
	// first.
	Events []Event `json:"events"`
}

// Condition is one of the node's conditions.
type Condition struct {
	Type    string    `json:"type"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"lastTransitionTime"`
}

// Instance is the node's cloud instance.
type Instance struct {
	ID           string `json:"instanceId"`
	InstanceType string `json:"instanceType"`
	Zone         string `json:"availabilityZone"`
	// State is the EC2 state (running, ...), with StateReason;
	// LifecycleState the Auto Scaling lifecycle state (InService, ...).
	State          string    `json:"state"`
	StateReason    string    `json:"stateReason,omitempty"`
	LifecycleState string    `json:"lifecycleState,omitempty"`
	LaunchTime     time.Time `json:"launchTime"`
	PrivateIP      string    `json:"privateIpAddress,omitempty"`
	ImageID        string    `json:"imageId"`
	// AMIType and ReleaseVersion describe the image, if the cloud still
	// offers it.
	AMIType        string   `json:"amiType,omitempty"`
	ReleaseVersion string   `json:"releaseVersion,omitempty"`
	LaunchTemplate string   `json:"launchTemplate,omitempty"`
	CapacityType   string   `json:"capacityType"`
	PricePerHour   *float64 `json:"pricePerHour,omitempty"`
	// SpotInterruptionTime, RebalanceRecommended and RetirementTime are
	// the cloud's notices about the instance, if any.
	SpotInterruptionTime *time.Time `json:"spotInterruptionTime,omitempty"`
	RebalanceRecommended *time.Time `json:"rebalanceRecommendationTime,omitempty"`
	RetirementTime       *time.Time `json:"retirementTime,omitempty"`
}

// Group is the node's group: its managed node group, Fargate profile or
// Auto Scaling group, with the Auto Scaling group's size if it has one.
type Group struct {
	DataPlane            DataPlane `json:"dataPlane"`
	Name                 string    `json:"name"`
	AutoScalingGroupName string    `json:"autoScalingGroupName,omitempty"`
	// Size is the Auto Scaling group's, nil if there is none or the cloud
	// does not list it (any more).
	Size           *GroupSize `json:"size,omitempty"`
	CapacityType   string     `json:"capacityType,omitempty"`
	LaunchTemplate string     `json:"launchTemplate,omitempty"`
	Status         string     `json:"status,omitempty"`
}

// GroupSize is an Auto Scaling group's size.
type GroupSize struct {
	Min       int32 `json:"minSize"`
	Max       int32 `json:"maxSize"`
	Desired   int32 `json:"desiredSize"`
	InService int32 `json:"inService"`
	Pending   int32 `json:"pending"`
}

// Pod is a pod bound to the node, with what it requests.
type Pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	// CPU and Memory are the sums of its containers' requests ("" if
	// none).
	CPU       string         `json:"cpuRequests,omitempty"`
	Memory    string         `json:"memoryRequests,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	Age       cloud.Duration `json:"age"`
}

// Event is an event that concerns the node: a Kubernetes Event about it
// (or with it as the related object), or one of its instance's cloud
// events.
type Event struct {
	Time time.Time      `json:"time"`
	Age  cloud.Duration `json:"age"`
	// Type is Normal or Warning.
	Type   string `json:"type"`
	Reason string `json:"reason"`
	// From is who reported it: a controller, or the cloud's event source
	// (aws.ec2, ...).
	From string `json:"from"`
	// Object is what the event is about, as Kind/name (an instance's
	// cloud events: Instance/<id>).
	Object  string `json:"object"`
	Message string `json:"message"`
	Count   int32  `json:"count,omitempty"`
}

// DescribeInputs are what a description is made of.
type DescribeInputs struct {
	Node *corev1.Node
	// Instance is the node's (nil: none known), Group the cloud's group of
	// it (nil: none, or gone), Image the image it was launched from (nil:
	// not offered any more).
	Instance *cloud.Instance
	Group    *cloud.Group
	Image    *cloud.Image
	// Pods are the pods bound to the node (finished ones are left out).
	Pods []corev1.Pod
	// Events are the cluster's Events; those of the node are kept.
	Events []corev1.Event
	// CloudEvents are the cloud's; those naming the instance are kept.
	CloudEvents []cloud.Event
	Prices      billing.Prices
	Now         time.Time
}

// Describe describes one node.
func Describe(in DescribeInputs) Description {
	n := in.Node
	pods := PodsByNode(in.Pods)[n.Name]
	d := Description{
		Node:          Summarize(n, in.Instance, pods, in.Prices, in.Now),
		Labels:        n.Labels,
		Taints:        n.Spec.Taints,
		Unschedulable: n.Spec.Unschedulable,
		Capacity:      quantities(n.Status.Capacity),
		Allocatable:   quantities(n.Status.Allocatable),
		Pods:          []Pod{},
		Events:        []Event{},
	}
	for _, c := range n.Status.Conditions {
		d.Conditions = append(d.Conditions, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.UTC()})
	}
	if i := in.Instance; i != nil {
		d.Instance = &Instance{
			ID: i.ID, InstanceType: d.Node.InstanceType, Zone: i.Zone, State: i.State, StateReason: i.StateReason,
			LifecycleState: i.LifecycleState, LaunchTime: i.LaunchTime.UTC(), PrivateIP: i.PrivateIP, ImageID: i.ImageID,
			CapacityType: d.Node.CapacityType, PricePerHour: d.Node.PricePerHour,
			SpotInterruptionTime: i.SpotInterruptionTime, RebalanceRecommended: i.RebalanceRecommended, RetirementTime: i.RetirementTime,
		}
		if i.LaunchTemplate != nil {
			d.Instance.LaunchTemplate = i.LaunchTemplate.String()
		}
		if img := in.Image; img != nil && img.ID == i.ImageID {
			d.Instance.AMIType, d.Instance.ReleaseVersion = img.Type, img.ReleaseVersion
		}
	}
	d.Group = group(d.Node, in.Group)
	for _, p := range pods {
		cpu, mem := requests(&p)
		d.Pods = append(d.Pods, Pod{Namespace: p.Namespace, Name: p.Name, Phase: string(p.Status.Phase), CPU: cpu, Memory: mem,
			CreatedAt: p.CreationTimestamp.Time.UTC(), Age: age(in.Now, p.CreationTimestamp.Time)})
	}
	slices.SortFunc(d.Pods, func(a, b Pod) int { return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name)) })
	for i := range in.Events {
		if e := &in.Events[i]; Concerns(e, n.Name) {
			d.Events = append(d.Events, kubeEvent(e, in.Now))
		}
	}
	if id := d.Node.InstanceID; id != "" {
		for _, e := range in.CloudEvents {
			if NamesInstance(e, id) {
				d.Events = append(d.Events, cloudEvent(e, id, in.Now))
			}
		}
	}
	slices.SortStableFunc(d.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return d
}

// group is the node's group, if it has one.
func group(n Node, asg *cloud.Group) *Group {
	name := n.Group()
	if name == "" {
		return nil
	}
	g := &Group{DataPlane: n.DataPlane, Name: name, AutoScalingGroupName: n.AutoScalingGroupName}
	if asg != nil && asg.Name == n.AutoScalingGroupName {
		g.Size = &GroupSize{Min: asg.MinSize, Max: asg.MaxSize, Desired: asg.DesiredCapacity, InService: asg.InService, Pending: asg.Pending}
		g.CapacityType, g.LaunchTemplate, g.Status = capacityType(asg.CapacityType), asg.LaunchTemplate.String(), asg.Status
	}
	return g
}

// LabelsThatMatter are the labels describe prints: where the node runs
// and whose it is.
var LabelsThatMatter = []string{
	eksv1.LabelNodegroup, eksv1.LabelNodegroupImage, eksv1.LabelCapacityType, eksv1.LabelComputeType,
	eksv1.LabelSourceLaunchTemplateID, eksv1.LabelSourceLaunchTemplateVersion, eksv1.LabelExcludeFromLB,
	corev1.LabelInstanceTypeStable, corev1.LabelTopologyRegion, corev1.LabelTopologyZone, corev1.LabelArchStable, corev1.LabelOSStable,
}

// Concerns says whether a Kubernetes Event is about the node named node,
// or has it as its related object.
func Concerns(e *corev1.Event, node string) bool {
	isNode := func(r corev1.ObjectReference) bool { return r.Kind == "Node" && r.Name == node }
	return isNode(e.InvolvedObject) || e.Related != nil && isNode(*e.Related)
}

// NamesInstance says whether a cloud event is about the instance id: one
// of its resources is the instance's ARN, or its detail names it.
func NamesInstance(e cloud.Event, id string) bool {
	for _, r := range e.Resources {
		if r == id || strings.HasSuffix(r, "/"+id) {
			return true
		}
	}
	return bytes.Contains(e.Detail, []byte(`"`+id+`"`))
}

func kubeEvent(e *corev1.Event, now time.Time) Event {
	t := e.EventTime.Time
	for _, alt := range []time.Time{e.LastTimestamp.Time, e.FirstTimestamp.Time, e.CreationTimestamp.Time} {
		if !t.IsZero() {
			break
		}
		t = alt
	}
	if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
		t = e.Series.LastObservedTime.Time
	}
	from := cmp.Or(e.ReportingController, e.Source.Component)
	count := e.Count
	if e.Series != nil {
		count = e.Series.Count
	}
	return Event{Time: t.UTC(), Age: age(now, t), Type: e.Type, Reason: e.Reason, From: from,
		Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, Message: e.Message, Count: count}
}

// warnings are the cloud events that say something is wrong.
var warnings = map[string]bool{
	cloud.DetailSpotInterruption: true, cloud.DetailRebalance: true, cloud.DetailScheduledMaintenance: true,
	cloud.DetailKubeletFailed: true, cloud.DetailConditionFailed: true, cloud.DetailLaunchUnsuccessful: true,
}

func cloudEvent(e cloud.Event, id string, now time.Time) Event {
	typ := corev1.EventTypeNormal
	if warnings[e.DetailType] {
		typ = corev1.EventTypeWarning
	}
	return Event{Time: e.Time.UTC(), Age: age(now, e.Time), Type: typ, Reason: e.DetailType, From: e.Source,
		Object: "Instance/" + id, Message: cloudMessage(e)}
}

// cloudMessage says what a cloud event's detail says, in a line.
func cloudMessage(e cloud.Event) string {
	switch e.DetailType {
	case cloud.DetailStateChange:
		var d cloud.StateChangeDetail
		if json.Unmarshal(e.Detail, &d) == nil {
			return fmt.Sprintf("instance %s is %s", d.InstanceID, d.State)
		}
	case cloud.DetailSpotInterruption:
		var d cloud.SpotInterruptionDetail
		if json.Unmarshal(e.Detail, &d) == nil {
			return fmt.Sprintf("instance %s is interrupted: %s", d.InstanceID, d.InstanceAction)
		}
	case cloud.DetailLaunchSuccessful, cloud.DetailLaunchUnsuccessful, cloud.DetailTerminateSuccessful:
		var d cloud.ActivityDetail
		if json.Unmarshal(e.Detail, &d) == nil && d.Description != "" {
			msg := d.Description
			if d.StatusMessage != "" {
				msg += ": " + d.StatusMessage
			}
			return msg
		}
	case cloud.DetailLaunchAction, cloud.DetailTerminateAction:
		var d cloud.LifecycleActionDetail
		if json.Unmarshal(e.Detail, &d) == nil {
			return fmt.Sprintf("instance %s waits on lifecycle hook %s of %s", d.EC2InstanceID, d.LifecycleHookName, d.AutoScalingGroupName)
		}
	case cloud.DetailConditionFailed:
		var d cloud.ConditionDetail
		if json.Unmarshal(e.Detail, &d) == nil {
			return fmt.Sprintf("condition %s of instance %s is False: %s", d.Condition, d.InstanceID, d.Reason)
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, e.Detail) != nil {
		return string(e.Detail)
	}
	return b.String()
}

// quantities are resources as strings, as Kubernetes writes them.
func quantities(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	m := make(map[string]string, len(l))
	for name, q := range l {
		m[string(name)] = q.String()
	}
	return m
}

// requests are the sums of a pod's containers' CPU and memory requests.
func requests(p *corev1.Pod) (cpu, memory string) {
	sum := corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := c.Resources.Requests[name]; ok {
				total := sum[name]
				total.Add(q)
				sum[name] = total
			}
		}
	}
	if q, ok := sum[corev1.ResourceCPU]; ok {
		cpu = q.String()
	}
	if q, ok := sum[corev1.ResourceMemory]; ok {
		memory = q.String()
	}
	return cpu, memory
}
