package resources

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

// ProviderIDIndex indexes Nodes by spec.providerID, so that the Node of an
// instance is found without listing every Node.
const ProviderIDIndex = "spec.providerID"

// IndexNodes registers ProviderIDIndex with the manager's cache; it must
// run before the cache starts.
func IndexNodes(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Node{}, ProviderIDIndex, func(o client.Object) []string {
		if id := o.(*corev1.Node).Spec.ProviderID; id != "" {
			return []string{id}
		}
		return nil
	})
}

// Member is one of a group's instances and its Node, if it has
// registered one.
type Member struct {
	Instance cloud.Instance
	Node     *corev1.Node
}

// Members lists the group's instances that have not terminated, each with
// its Node. Only a Node whose providerID names one of the group's
// instances is a member: a label says nothing (anyone can set one), so kdp
// never touches a Node it did not launch.
func Members(ctx context.Context, c client.Reader, p cloud.Instances, ng *eksv1.NodeGroup) ([]Member, error) {
	var instances []cloud.Instance
	page := cloud.Page{}
	for {
		is, next, err := p.ListInstances(ctx, cloud.InstanceFilter{
			Group:  ASGName(ng),
			States: []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown},
		}, page)
		if err != nil {
			return nil, fmt.Errorf("listing the instances of %s: %w", ASGName(ng), err)
		}
		instances = append(instances, is...)
		if next == "" {
			break
		}
		page.NextToken = next
	}
	out := make([]Member, 0, len(instances))
	for _, i := range instances {
		node, err := NodeOf(ctx, c, i)
		if err != nil {
			return nil, err
		}
		out = append(out, Member{Instance: i, Node: node})
	}
	return out, nil
}

// NodeOf returns the Node of an instance, or nil if it has none.
func NodeOf(ctx context.Context, c client.Reader, i cloud.Instance) (*corev1.Node, error) {
	nodes := &corev1.NodeList{}
	if err := c.List(ctx, nodes, client.MatchingFields{ProviderIDIndex: cloud.ProviderID(i.Zone, i.ID)}); err != nil {
		return nil, fmt.Errorf("finding the node of %s: %w", i.ID, err)
	}
	for k := range nodes.Items {
		if nodes.Items[k].DeletionTimestamp.IsZero() {
			return &nodes.Items[k], nil
		}
	}
	return nil, nil
}

// Ready reports whether a Node's Ready condition is True.
func Ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
