package eks

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// What follows is kdp's own, beyond the EKS API: how far a long operation
// has got, for kdp's CLI to show while it waits (`--wait`). EKS answers a
// status word; kdp also knows the phase, the nodes replaced and what
// blocks a drain.

// NodegroupProgress is a node group with its nodes counted.
type NodegroupProgress struct {
	Nodegroup *types.Nodegroup
	// ReadyNodes are the group's Ready nodes, Nodes all its registered
	// ones, Instances its instances in service or on their way in.
	ReadyNodes, Nodes, Instances int32
}

// DescribeNodegroupProgress is DescribeNodegroup with the group's nodes
// counted.
func (s *Service) DescribeNodegroupProgress(ctx context.Context, clusterName, nodegroupName string) (*NodegroupProgress, error) {
	if err := s.checkCluster(clusterName); err != nil {
		return nil, err
	}
	ng, err := s.getNodegroup(ctx, nodegroupName, false)
	if err != nil {
		return nil, err
	}
	return &NodegroupProgress{
		Nodegroup:  s.nodegroup(ng),
		ReadyNodes: ng.Status.Nodes.Ready, Nodes: ng.Status.Nodes.Total, Instances: ng.Status.Nodes.Instances,
	}, nil
}

// UpdateProgress is an update with, for a version update, where its
// rollout is.
type UpdateProgress struct {
	Update *types.Update
	// Phase is a version update's phase (Setup, ScaleUp, Upgrade,
	// ScaleDown: EKS's four), "" before the first; PhaseStartedAt when it
	// began.
	Phase          string
	PhaseStartedAt time.Time
	// NodesToReplace is how many old nodes the update replaces,
	// NodesReplaced how many of them are gone, PodsEvicted how many
	// evictions their drains made.
	NodesToReplace, NodesReplaced, PodsEvicted int32
	// EvictionTimeout is how long a node's pods have to leave (EKS's 15
	// minutes, compressed by kdp's --time-scale).
	EvictionTimeout time.Duration
	// Draining are the old nodes being drained now.
	Draining []DrainingNode
}

// DrainingNode is an old node a version update is draining.
type DrainingNode struct {
	NodeName, InstanceID string
	StartedAt            time.Time
	// Drained says its pods are gone: its instance is terminated a minute
	// later.
	Drained bool
	// BlockedBy are the pods that have not left and why, e.g.
	// "shop/web-7c9: PodDisruptionBudget shop/web (0 disruptions allowed)".
	BlockedBy []string
}

// DescribeUpdateProgress is DescribeUpdate with the rollout's progress.
func (s *Service) DescribeUpdateProgress(ctx context.Context, clusterName, nodegroupName, updateID string) (*UpdateProgress, error) {
	u, err := s.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: clusterName, NodegroupName: nodegroupName, UpdateId: updateID})
	if err != nil {
		return nil, err
	}
	p := &UpdateProgress{Update: u.Update, EvictionTimeout: resources.EvictionTimeout}
	record := &eksv1.NodeGroupUpdate{}
	if err := s.r.Get(ctx, client.ObjectKey{Name: updateID}, record); err != nil {
		if apierrors.IsNotFound(err) {
			return p, nil // asked for, not recorded yet
		}
		return nil, serverError(err, "reading update "+updateID)
	}
	st := record.Status
	p.Phase = string(st.Phase)
	if st.PhaseStartedAt != nil {
		p.PhaseStartedAt = st.PhaseStartedAt.Time
	}
	if r := st.Rollout; r != nil {
		p.NodesToReplace, p.NodesReplaced, p.PodsEvicted = r.NodesToReplace, r.NodesReplaced, r.PodsEvicted
		if r.EvictionTimeout != nil {
			p.EvictionTimeout = r.EvictionTimeout.Duration
		}
		for _, d := range r.Draining {
			p.Draining = append(p.Draining, DrainingNode{
				NodeName: d.NodeName, InstanceID: d.InstanceID, StartedAt: d.StartedAt.Time,
				Drained: d.DrainedAt != nil, BlockedBy: d.BlockedBy,
			})
		}
	}
	return p, nil
}
