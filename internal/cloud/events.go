package cloud

import (
	"encoding/json"
	"time"
)

// Event is a cloud event in EventBridge's envelope, as EC2 and EC2 Auto
// Scaling send them, so that an SQS-style queue can carry them unchanged.
type Event struct {
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

	DetailSpotInterruption     = "EC2 Spot Instance Interruption Warning"
	DetailRebalance            = "EC2 Instance Rebalance Recommendation"
	DetailStateChange          = "EC2 Instance State-change Notification"
	DetailTerminateAction      = "EC2 Instance-terminate Lifecycle Action"
	DetailLaunchAction         = "EC2 Instance-launch Lifecycle Action"
	DetailScheduledMaintenance = "AWS Health Event"
)

// SpotInterruptionDetail is the detail of a spot interruption warning.
type SpotInterruptionDetail struct {
	InstanceID     string `json:"instance-id"`
	InstanceAction string `json:"instance-action"`
}

// InstanceDetail is the detail of a rebalance recommendation.
type InstanceDetail struct {
	InstanceID string `json:"instance-id"`
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
