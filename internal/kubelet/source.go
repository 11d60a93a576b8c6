package kubelet

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/watch"
)

// instanceEvents is a source of reconcile requests from the cloud's events:
// each event about an instance that relevant accepts becomes the requests
// of requests(instance id). On start, and whenever the subscription ends
// before ctx (the subscriber fell behind the events the cloud keeps), it
// lists the cloud's instances in states afresh instead, so that nothing is
// missed.
func instanceEvents(p cloud.Provider, states []string, relevant func(cloud.Event) bool, requests func(ctx context.Context, id string) []reconcile.Request) source.Source {
	return watch.Source(p,
		func(ctx context.Context, e cloud.Event) []reconcile.Request {
			if id := watch.Instance(e); id != "" && relevant(e) {
				return requests(ctx, id)
			}
			return nil
		},
		func(ctx context.Context) []reconcile.Request {
			is, _, err := p.ListInstances(ctx, cloud.InstanceFilter{States: states}, cloud.Page{})
			if err != nil {
				log.FromContext(ctx).Error(err, "listing the cloud's instances")
			}
			var out []reconcile.Request
			for _, i := range is {
				out = append(out, requests(ctx, i.ID)...)
			}
			return out
		})
}

// stateChange reports the state an instance state-change event announces.
func stateChange(e cloud.Event) string { return watch.StateChange(e) }

// byInstance is the request of an instance's own id.
func byInstance(_ context.Context, id string) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: id}}}
}
