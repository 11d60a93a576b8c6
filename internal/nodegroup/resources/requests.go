package resources

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/watch"
)

// The requests of the controllers that reconcile node groups by name.

// ByNodeLabel is the request of the group a Node says it is of; a
// reconcile itself only counts Nodes of the group's instances.
func ByNodeLabel(_ context.Context, o client.Object) []reconcile.Request {
	if name := o.GetLabels()[eksv1.LabelNodegroup]; name != "" {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
	}
	return nil
}

// ByGroupEvent is the request of the group an Auto Scaling event is of.
func ByGroupEvent(_ context.Context, e cloud.Event) []reconcile.Request {
	if name, ok := NodegroupOfASG(watch.Group(e)); ok {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
	}
	return nil
}

// AllGroups returns the requests of every group, to catch up on events
// missed while not subscribed.
func AllGroups(c client.Reader) func(context.Context) []reconcile.Request {
	return func(ctx context.Context) []reconcile.Request {
		groups := &eksv1.NodeGroupList{}
		if err := c.List(ctx, groups); err != nil {
			log.FromContext(ctx).Error(err, "listing node groups")
			return nil
		}
		out := make([]reconcile.Request, 0, len(groups.Items))
		for _, g := range groups.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
		}
		return out
	}
}
