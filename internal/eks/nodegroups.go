package eks

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// CreateNodegroup creates a NodeGroup: kdp's admission webhook fills in
// EKS's defaults and checks it (its field errors come back as
// InvalidParameterException naming the request's members), and the node
// group controllers make it. The answer is the group as DescribeNodegroup
// then shows it, CREATING.
//
// The same clientRequestToken with the same request answers the group it
// created; with another request, InvalidRequestException. kdp keeps the
// token on the NodeGroup (no second store).
func (s *Service) CreateNodegroup(ctx context.Context, in *types.CreateNodegroupRequest) (*types.CreateNodegroupResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	ectx := Error{ClusterName: in.ClusterName, NodegroupName: in.NodegroupName}
	ng, bad := nodeGroupOf(in)
	if bad != nil {
		bad.ClusterName, bad.NodegroupName = ectx.ClusterName, ectx.NodegroupName
		return nil, bad
	}
	body := *in
	body.ClientRequestToken = ""
	req := request(in.ClientRequestToken, body, s.clock.Now())
	ng.Annotations = req.annotate(ng.Annotations, AnnotationCreateRequest)
	if p := Principal(ctx); p != "" {
		ng.Annotations[AnnotationCreatedBy] = p
	}
	err := s.c.Create(ctx, ng, s.fields)
	if apierrors.IsAlreadyExists(err) {
		existing, gerr := s.getNodegroup(ctx, in.NodegroupName, true)
		if gerr != nil {
			return nil, gerr
		}
		if e := req.replay(existing.Annotations[AnnotationCreateRequest], ectx); e != nil {
			if e.Code == CodeResourceInUse {
				e.Message = fmt.Sprintf("NodeGroup already exists with name %s and cluster name %s", in.NodegroupName, in.ClusterName)
			}
			return nil, e
		}
		return &types.CreateNodegroupResponse{Nodegroup: s.nodegroup(existing)}, nil
	}
	if err != nil {
		return nil, fromKubernetes(err, ectx, "creating node group "+in.NodegroupName)
	}
	return &types.CreateNodegroupResponse{Nodegroup: s.nodegroup(ng)}, nil
}

// DescribeNodegroup answers the group as it is.
func (s *Service) DescribeNodegroup(ctx context.Context, in *types.DescribeNodegroupRequest) (*types.DescribeNodegroupResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	ng, err := s.getNodegroup(ctx, in.NodegroupName, false)
	if err != nil {
		return nil, err
	}
	return &types.DescribeNodegroupResponse{Nodegroup: s.nodegroup(ng)}, nil
}

// ListNodegroups answers the names of the cluster's groups, sorted, a page
// at a time.
func (s *Service) ListNodegroups(ctx context.Context, in *types.ListNodegroupsRequest) (*types.ListNodegroupsResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	list := &eksv1.NodeGroupList{}
	if err := s.c.List(ctx, list); err != nil { // live: a group created just before is in the list
		return nil, serverError(err, "listing node groups")
	}
	names := make([]string, 0, len(list.Items))
	for _, ng := range list.Items {
		names = append(names, ng.Name)
	}
	slices.Sort(names)
	page, next, perr := pageOf(names, in.MaxResults, in.NextToken)
	if perr != nil {
		return nil, perr
	}
	return &types.ListNodegroupsResponse{Nodegroups: page, NextToken: next}, nil
}

// DeleteNodegroup deletes the group: the controllers drain and terminate
// its nodes, then remove it. The answer is the group, DELETING; deleting
// a group already on its way answers the same.
func (s *Service) DeleteNodegroup(ctx context.Context, in *types.DeleteNodegroupRequest) (*types.DeleteNodegroupResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	ng, err := s.getNodegroup(ctx, in.NodegroupName, true)
	if err != nil {
		return nil, err
	}
	if ng.DeletionTimestamp.IsZero() {
		uid := ng.UID
		err := s.c.Delete(ctx, ng, client.Preconditions{UID: &uid})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fromKubernetes(err, Error{ClusterName: in.ClusterName, NodegroupName: in.NodegroupName}, "deleting node group "+ng.Name)
		}
		if got, gerr := s.getNodegroup(ctx, in.NodegroupName, true); gerr == nil {
			ng = got
		}
	}
	out := s.nodegroup(ng)
	out.Status = types.NodegroupStatusDeleting
	return &types.DeleteNodegroupResponse{Nodegroup: out}, nil
}

// getNodegroup reads a group: from the cache, then (if the cache has not
// seen it yet, or live is set) from the API server.
func (s *Service) getNodegroup(ctx context.Context, name string, live bool) (*eksv1.NodeGroup, *Error) {
	if name == "" {
		return nil, invalidParameter("nodegroupName", "nodegroupName is required")
	}
	ng := &eksv1.NodeGroup{}
	var err error
	if live {
		err = s.c.Get(ctx, clientKey(name), ng)
	} else {
		err = s.getFresh(ctx, name, ng)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, &Error{Code: CodeResourceNotFound, ClusterName: s.clus.Name, NodegroupName: name, Message: "No node group found for name: " + name + "."}
	case err != nil:
		return nil, serverError(err, "reading node group "+name)
	}
	return ng, nil
}

// nodeGroupOf is the NodeGroup a CreateNodegroup request asks for.
func nodeGroupOf(in *types.CreateNodegroupRequest) (*eksv1.NodeGroup, *Error) {
	if in.NodegroupName == "" {
		return nil, invalidParameter("nodegroupName", "nodegroupName is required")
	}
	if in.WarmPoolConfig != nil {
		return nil, invalidParameter("warmPoolConfig", "warmPoolConfig is not supported by kdp")
	}
	spec := eksv1.NodeGroupSpec{
		DiskSize: in.DiskSize, Subnets: in.Subnets, InstanceTypes: in.InstanceTypes, AMIType: eksv1.AMIType(in.AmiType),
		NodeRole: in.NodeRole, Labels: in.Labels, Tags: in.Tags, CapacityType: eksv1.CapacityType(in.CapacityType),
		Version: in.Version, ReleaseVersion: in.ReleaseVersion,
		UpdateConfig: updateConfigOf(in.UpdateConfig), NodeRepairConfig: repairConfigOf(in.NodeRepairConfig),
	}
	if c := in.ScalingConfig; c != nil {
		if c.MinSize == nil || c.MaxSize == nil || c.DesiredSize == nil {
			return nil, invalidParameter("scalingConfig", "scalingConfig needs minSize, maxSize and desiredSize when a node group is created (or none of them, for EKS's defaults)")
		}
		spec.ScalingConfig = &eksv1.ScalingConfig{MinSize: *c.MinSize, MaxSize: *c.MaxSize, DesiredSize: *c.DesiredSize}
	}
	for _, t := range in.Taints {
		spec.Taints = append(spec.Taints, eksv1.Taint{Key: t.Key, Value: t.Value, Effect: eksv1.TaintEffect(t.Effect)})
	}
	if r := in.RemoteAccess; r != nil {
		spec.RemoteAccess = &eksv1.RemoteAccessConfig{EC2SshKey: r.Ec2SshKey, SourceSecurityGroups: r.SourceSecurityGroups}
	}
	if lt := in.LaunchTemplate; lt != nil {
		spec.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: lt.Id, Name: lt.Name, Version: lt.Version}
	}
	return &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: in.NodegroupName, Annotations: map[string]string{}}, Spec: spec}, nil
}

func updateConfigOf(c *types.NodegroupUpdateConfig) *eksv1.UpdateConfig {
	if c == nil {
		return nil
	}
	return &eksv1.UpdateConfig{MaxUnavailable: c.MaxUnavailable, MaxUnavailablePercentage: c.MaxUnavailablePercentage, UpdateStrategy: string(c.UpdateStrategy)}
}

func repairConfigOf(c *types.NodeRepairConfig) *eksv1.NodeRepairConfig {
	if c == nil {
		return nil
	}
	out := &eksv1.NodeRepairConfig{
		Enabled:                             c.Enabled,
		MaxUnhealthyNodeThresholdCount:      c.MaxUnhealthyNodeThresholdCount,
		MaxUnhealthyNodeThresholdPercentage: c.MaxUnhealthyNodeThresholdPercentage,
		MaxParallelNodesRepairedCount:       c.MaxParallelNodesRepairedCount,
		MaxParallelNodesRepairedPercentage:  c.MaxParallelNodesRepairedPercentage,
	}
	for _, o := range c.NodeRepairConfigOverrides {
		wait := int32(0)
		if o.MinRepairWaitTimeMins != nil {
			wait = *o.MinRepairWaitTimeMins
		}
		out.NodeRepairConfigOverrides = append(out.NodeRepairConfigOverrides, eksv1.NodeRepairConfigOverride{
			NodeMonitoringCondition: o.NodeMonitoringCondition, NodeUnhealthyReason: o.NodeUnhealthyReason,
			MinRepairWaitTimeMins: wait, RepairAction: string(o.RepairAction),
		})
	}
	return out
}

// nodegroup is the group as the EKS API shows it: the configuration in
// effect once the group has one (an update in progress shows in status
// UPDATING, its target in DescribeUpdate), the spec before; the labels
// and taints set through the API (not the ones EKS adds itself).
func (s *Service) nodegroup(ng *eksv1.NodeGroup) *types.Nodegroup {
	spec, st := &ng.Spec, &ng.Status
	out := &types.Nodegroup{
		NodegroupName: ng.Name, NodegroupArn: resources.ARN(s.acct.Region, s.acct.ID, s.clus.Name, ng), ClusterName: s.clus.Name,
		Version: spec.Version, ReleaseVersion: spec.ReleaseVersion,
		CreatedAt: types.NewTimestamp(ng.CreationTimestamp.Time), Status: types.NodegroupStatus(st.Status),
		CapacityType: types.CapacityTypes(spec.CapacityType), InstanceTypes: spec.InstanceTypes, Subnets: spec.Subnets,
		AmiType: types.AMITypes(spec.AMIType), NodeRole: spec.NodeRole, DiskSize: spec.DiskSize, Tags: spec.Tags,
		Labels: spec.Labels, Taints: taintsOut(spec.Taints),
		ScalingConfig: scalingOut(spec.ScalingConfig), UpdateConfig: updateConfigOut(spec.UpdateConfig), NodeRepairConfig: repairConfigOut(spec.NodeRepairConfig),
	}
	if st.CreatedAt != nil {
		out.CreatedAt = types.NewTimestamp(st.CreatedAt.Time)
	}
	if st.ModifiedAt != nil {
		out.ModifiedAt = types.NewTimestamp(st.ModifiedAt.Time)
	}
	if a := st.Applied; a != nil {
		out.Version, out.ReleaseVersion = a.Version, a.ReleaseVersion
		out.ScalingConfig = scalingOut(&a.ScalingConfig)
		out.Labels, out.Taints = a.Labels, taintsOut(a.Taints)
		out.UpdateConfig, out.NodeRepairConfig = updateConfigOut(a.UpdateConfig), repairConfigOut(a.NodeRepairConfig)
	}
	switch {
	case !ng.DeletionTimestamp.IsZero() && st.Status != eksv1.StatusDeleteFailed:
		out.Status = types.NodegroupStatusDeleting
	case out.Status == "":
		out.Status = types.NodegroupStatusCreating
	}
	if r := spec.RemoteAccess; r != nil {
		out.RemoteAccess = &types.RemoteAccessConfig{Ec2SshKey: r.EC2SshKey, SourceSecurityGroups: r.SourceSecurityGroups}
	}
	if lt := spec.LaunchTemplate; lt != nil {
		out.LaunchTemplate = &types.LaunchTemplateSpecification{Id: lt.ID, Name: lt.Name, Version: lt.Version}
		if in := st.Resources.LaunchTemplate; in != nil {
			out.LaunchTemplate.Id, out.LaunchTemplate.Name = in.ID, in.Name
		}
		if a := st.Applied; a != nil && a.LaunchTemplateVersion != "" {
			out.LaunchTemplate.Version = a.LaunchTemplateVersion
		}
		out.InstanceTypes, out.DiskSize, out.RemoteAccess = nil, nil, nil // as EKS shows a group on a template
	}
	if res := st.Resources; len(res.AutoScalingGroups) > 0 || res.RemoteAccessSecurityGroup != "" {
		out.Resources = &types.NodegroupResources{RemoteAccessSecurityGroup: res.RemoteAccessSecurityGroup}
		for _, g := range res.AutoScalingGroups {
			out.Resources.AutoScalingGroups = append(out.Resources.AutoScalingGroups, types.AutoScalingGroup{Name: g.Name})
		}
	}
	out.Health = &types.NodegroupHealth{}
	for _, i := range st.Health.Issues {
		out.Health.Issues = append(out.Health.Issues, types.Issue{Code: types.NodegroupIssueCode(i.Code), Message: i.Message, ResourceIds: i.ResourceIDs})
	}
	return out
}

func scalingOut(c *eksv1.ScalingConfig) *types.NodegroupScalingConfig {
	if c == nil {
		return nil
	}
	return &types.NodegroupScalingConfig{MinSize: &c.MinSize, MaxSize: &c.MaxSize, DesiredSize: &c.DesiredSize}
}

func taintsOut(ts []eksv1.Taint) []types.Taint {
	var out []types.Taint
	for _, t := range ts {
		out = append(out, types.Taint{Key: t.Key, Value: t.Value, Effect: types.TaintEffect(t.Effect)})
	}
	return out
}

func updateConfigOut(c *eksv1.UpdateConfig) *types.NodegroupUpdateConfig {
	if c == nil {
		return nil
	}
	return &types.NodegroupUpdateConfig{MaxUnavailable: c.MaxUnavailable, MaxUnavailablePercentage: c.MaxUnavailablePercentage, UpdateStrategy: types.NodegroupUpdateStrategies(c.UpdateStrategy)}
}

func repairConfigOut(c *eksv1.NodeRepairConfig) *types.NodeRepairConfig {
	if c == nil {
		return nil
	}
	out := &types.NodeRepairConfig{
		Enabled:                             c.Enabled,
		MaxUnhealthyNodeThresholdCount:      c.MaxUnhealthyNodeThresholdCount,
		MaxUnhealthyNodeThresholdPercentage: c.MaxUnhealthyNodeThresholdPercentage,
		MaxParallelNodesRepairedCount:       c.MaxParallelNodesRepairedCount,
		MaxParallelNodesRepairedPercentage:  c.MaxParallelNodesRepairedPercentage,
	}
	for _, o := range c.NodeRepairConfigOverrides {
		out.NodeRepairConfigOverrides = append(out.NodeRepairConfigOverrides, types.NodeRepairConfigOverrides{
			NodeMonitoringCondition: o.NodeMonitoringCondition, NodeUnhealthyReason: o.NodeUnhealthyReason,
			MinRepairWaitTimeMins: &o.MinRepairWaitTimeMins, RepairAction: types.RepairAction(o.RepairAction),
		})
	}
	return out
}
