package kubelet

import (
	"context"
	"encoding/json"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kdp-project/kdp/internal/cloud"
)

// instanceEvents is a source of reconcile requests from the cloud's events:
// each event about an instance that relevant accepts becomes the requests
// of requests(instance id). On start, and whenever the subscription ends
// before ctx (the subscriber fell behind the events the cloud keeps), it
// lists the cloud's instances in states afresh instead, so that nothing is
// missed.
func instanceEvents(p cloud.Provider, states []string, relevant func(cloud.Event) bool, requests func(ctx context.Context, id string) []reconcile.Request) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for ctx.Err() == nil {
				events, err := p.Subscribe(ctx, cloud.FromNow) // before the list: nothing falls in between
				if err != nil {
					log.FromContext(ctx).Error(err, "subscribing to the cloud's events; trying again in a second")
					select { // the cloud stopped, or is not there yet
					case <-time.After(time.Second):
					case <-ctx.Done():
					}
					continue
				}
				is, _, err := p.ListInstances(ctx, cloud.InstanceFilter{States: states}, cloud.Page{})
				if err != nil {
					log.FromContext(ctx).Error(err, "listing the cloud's instances")
				}
				for _, i := range is {
					for _, r := range requests(ctx, i.ID) {
						q.Add(r)
					}
				}
				for e := range events {
					if id := eventInstance(e); id != "" && relevant(e) {
						for _, r := range requests(ctx, id) {
							q.Add(r)
						}
					}
				}
			}
		}()
		return nil
	})
}

// eventInstance is the instance an event is about.
func eventInstance(e cloud.Event) string {
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

// stateChange reports the state an instance state-change event announces.
func stateChange(e cloud.Event) string {
	if e.DetailType != cloud.DetailStateChange {
		return ""
	}
	var d cloud.StateChangeDetail
	_ = json.Unmarshal(e.Detail, &d)
	return d.State
}

// byInstance is the request of an instance's own id.
func byInstance(_ context.Context, id string) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: id}}}
}
