package cloud

import (
	"encoding/json"
	"time"
)

// Event is a cloud event in EventBridge's envelope, as EC2, EC2 Auto Scaling
// and AWS Health send them, so that an SQS-style queue can carry them
// unchanged. Sequence is the provider's cursor (Subscribe), not part of the
// envelope.
type Event struct {
	Sequence   uint64          `json:"-"`
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Detail types and sources of the events a provider publishes.
const (
	SourceEC2         = "aws.ec2"
	SourceAutoScaling = "aws.autoscaling"
	SourceHealth      = "aws.health"
	// SourceSimulation is a simulated cloud's own: what happens on its
	// simulated machines (a kubelet dies), which no real cloud reports.
	SourceSimulation = "kdp.sim"

	DetailSpotInterruption     = "EC2 Spot Instance Interruption Warning"
	DetailRebalance            = "EC2 Instance Rebalance Recommendation"
	DetailStateChange          = "EC2 Instance State-change Notification"
	DetailTerminateAction      = "EC2 Instance-terminate Lifecycle Action"
	DetailLaunchAction         = "EC2 Instance-launch Lifecycle Action"
	DetailLaunchSuccessful     = "EC2 Instance Launch Successful"
	DetailLaunchUnsuccessful   = "EC2 Instance Launch Unsuccessful"
	DetailTerminateSuccessful  = "EC2 Instance Terminate Successful"
	DetailScheduledMaintenance = "AWS Health Event"
	DetailKubeletFailed        = "Simulated Kubelet Failure"
	DetailConditionFailed      = "Simulated Node Condition Failure"
)

// SpotInterruptionDetail is the detail of a spot interruption warning.
type SpotInterruptionDetail struct {
	InstanceID     string `json:"instance-id"`
	InstanceAction string `json:"instance-action"`
}

// InstanceDetail is the detail of a rebalance recommendation and of a
// simulated kubelet failure.
type InstanceDetail struct {
	InstanceID string `json:"instance-id"`
}

// ConditionDetail is the detail of a simulated node condition failure:
// the node monitoring condition that is now False, and why.
type ConditionDetail struct {
	InstanceID string `json:"instance-id"`
	Condition  string `json:"condition"`
	Reason     string `json:"reason"`
}

// StateChangeDetail is the detail of an instance state change.
type StateChangeDetail struct {
	InstanceID string `json:"instance-id"`
	State      string `json:"state"`
}

// HealthDetail is the detail of an AWS Health scheduled-change event.
type HealthDetail struct {
	EventArn          string           `json:"eventArn"`
	Service           string           `json:"service"`
	EventTypeCode     string           `json:"eventTypeCode"`
	EventTypeCategory string           `json:"eventTypeCategory"`
	StartTime         string           `json:"startTime"`
	AffectedEntities  []AffectedEntity `json:"affectedEntities"`
}

// AffectedEntity names what a Health event is about.
type AffectedEntity struct {
	EntityValue string `json:"entityValue"`
}

// LifecycleActionDetail is the detail of a lifecycle action.
type LifecycleActionDetail struct {
	LifecycleActionToken string `json:"LifecycleActionToken"`
	AutoScalingGroupName string `json:"AutoScalingGroupName"`
	LifecycleHookName    string `json:"LifecycleHookName"`
	EC2InstanceID        string `json:"EC2InstanceId"`
	LifecycleTransition  string `json:"LifecycleTransition"`
}

// ActivityDetail is the detail of an Auto Scaling launch or termination
// (successful or not), as EC2 Auto Scaling sends it.
type ActivityDetail struct {
	StatusCode           string `json:"StatusCode"`
	AutoScalingGroupName string `json:"AutoScalingGroupName"`
	ActivityID           string `json:"ActivityId"`
	EC2InstanceID        string `json:"EC2InstanceId"`
	Cause                string `json:"Cause"`
	Description          string `json:"Description"`
	StatusMessage        string `json:"StatusMessage,omitempty"`
	StartTime            string `json:"StartTime"`
	EndTime              string `json:"EndTime"`
}
