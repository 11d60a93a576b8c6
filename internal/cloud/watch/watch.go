// Package watch turns a cloud's events into reconcile requests for
// controller-runtime controllers: a source that subscribes to the events
// (cloud.Events) and, whenever the subscription starts or is lost (the
// consumer fell behind what the cloud keeps, or the cloud restarted),
// resynchronises from a list instead, so that a controller misses nothing.
package watch

import (
	"context"
	"encoding/json"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Source is a source of the requests mapEvent makes of each event, and of
// those resync makes when the subscription (re)starts: resync must return
// every request an event missed meanwhile could have made.
func Source(p cloud.Events, mapEvent func(context.Context, cloud.Event) []reconcile.Request, resync func(context.Context) []reconcile.Request) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for ctx.Err() == nil {
				events, err := p.Subscribe(ctx, cloud.FromNow) // before the resync: nothing falls in between
				if err != nil {
					if ctx.Err() != nil {
						return // shutting down: the cloud may have stopped first
					}
					log.FromContext(ctx).Error(err, "subscribing to the cloud's events; trying again in a second")
					select { // the cloud stopped, or is not there yet
					case <-time.After(time.Second):
					case <-ctx.Done():
					}
					continue
				}
				for _, r := range resync(ctx) {
					q.Add(r)
				}
				for e := range events {
					for _, r := range mapEvent(ctx, e) {
						q.Add(r)
					}
				}
			}
		}()
		return nil
	})
}

// Instance is the instance an event is about, or "".
func Instance(e cloud.Event) string {
	var d struct {
		InstanceID    string `json:"instance-id"`
		EC2InstanceID string `json:"EC2InstanceId"`
	}
	if json.Unmarshal(e.Detail, &d) != nil {
		return ""
	}
	if d.InstanceID != "" {
		return d.InstanceID
	}
	return d.EC2InstanceID
}

// Group is the Auto Scaling group an event is about (its launches,
// terminations and lifecycle actions), or "".
func Group(e cloud.Event) string {
	var d struct {
		AutoScalingGroupName string `json:"AutoScalingGroupName"`
	}
	if json.Unmarshal(e.Detail, &d) != nil {
		return ""
	}
	return d.AutoScalingGroupName
}

// StateChange is the state an instance state-change event announces, or "".
func StateChange(e cloud.Event) string {
	if e.DetailType != cloud.DetailStateChange {
		return ""
	}
	var d cloud.StateChangeDetail
	_ = json.Unmarshal(e.Detail, &d)
	return d.State
}
