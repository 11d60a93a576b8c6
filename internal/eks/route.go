package eks

import (
	"context"
	"errors"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/tags"
)

// The operations on a cluster's node groups, Fargate profiles and updates
// go to the Service of the cluster they name.

func (c *Clusters) CreateNodegroup(ctx context.Context, in *types.CreateNodegroupRequest) (*types.CreateNodegroupResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.CreateNodegroup(ctx, in)
}

func (c *Clusters) DescribeNodegroup(ctx context.Context, in *types.DescribeNodegroupRequest) (*types.DescribeNodegroupResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.DescribeNodegroup(ctx, in)
}

func (c *Clusters) ListNodegroups(ctx context.Context, in *types.ListNodegroupsRequest) (*types.ListNodegroupsResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		if c.notActive(e) {
			return &types.ListNodegroupsResponse{Nodegroups: []string{}}, nil
		}
		return nil, e
	}
	return s.ListNodegroups(ctx, in)
}

func (c *Clusters) UpdateNodegroupConfig(ctx context.Context, in *types.UpdateNodegroupConfigRequest) (*types.UpdateNodegroupConfigResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.UpdateNodegroupConfig(ctx, in)
}

func (c *Clusters) UpdateNodegroupVersion(ctx context.Context, in *types.UpdateNodegroupVersionRequest) (*types.UpdateNodegroupVersionResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.UpdateNodegroupVersion(ctx, in)
}

func (c *Clusters) DeleteNodegroup(ctx context.Context, in *types.DeleteNodegroupRequest) (*types.DeleteNodegroupResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.DeleteNodegroup(ctx, in)
}

// DescribeUpdate finds a node group's update in its cluster, or, without
// a node group, a created cluster's own update (UpdateClusterConfig).
func (c *Clusters) DescribeUpdate(ctx context.Context, in *types.DescribeUpdateRequest) (*types.DescribeUpdateResponse, error) {
	if in.NodegroupName == "" && in.AddonName == "" && in.CapabilityName == "" && !c.own(in.Name) {
		rec, _, ok := c.registryGet(in.Name)
		if !ok {
			return nil, clusterNotFound(in.Name)
		}
		for _, u := range rec.Updates {
			if u.Id == in.UpdateId {
				return &types.DescribeUpdateResponse{Update: &u}, nil
			}
		}
		return nil, &Error{Code: CodeResourceNotFound, ClusterName: in.Name, Message: "No update found for ID: " + in.UpdateId + "."}
	}
	s, e := c.service(in.Name)
	if e != nil {
		return nil, e
	}
	return s.DescribeUpdate(ctx, in)
}

// ListUpdates lists a node group's updates, or a created cluster's own.
func (c *Clusters) ListUpdates(ctx context.Context, in *types.ListUpdatesRequest) (*types.ListUpdatesResponse, error) {
	if in.NodegroupName == "" && in.AddonName == "" && in.CapabilityName == "" && !c.own(in.Name) {
		rec, _, ok := c.registryGet(in.Name)
		if !ok {
			return nil, clusterNotFound(in.Name)
		}
		ids := make([]string, 0, len(rec.Updates))
		for _, u := range rec.Updates {
			ids = append(ids, u.Id)
		}
		page, next, e := pageOf(ids, in.MaxResults, in.NextToken)
		if e != nil {
			return nil, e
		}
		return &types.ListUpdatesResponse{UpdateIds: page, NextToken: next}, nil
	}
	s, e := c.service(in.Name)
	if e != nil {
		return nil, e
	}
	return s.ListUpdates(ctx, in)
}

func (c *Clusters) CreateFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest) (*types.CreateFargateProfileResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.CreateFargateProfile(ctx, in)
}

func (c *Clusters) DescribeFargateProfile(ctx context.Context, in *types.DescribeFargateProfileRequest) (*types.DescribeFargateProfileResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.DescribeFargateProfile(ctx, in)
}

func (c *Clusters) ListFargateProfiles(ctx context.Context, in *types.ListFargateProfilesRequest) (*types.ListFargateProfilesResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		if c.notActive(e) {
			return &types.ListFargateProfilesResponse{FargateProfileNames: []string{}}, nil
		}
		return nil, e
	}
	return s.ListFargateProfiles(ctx, in)
}

func (c *Clusters) DeleteFargateProfile(ctx context.Context, in *types.DeleteFargateProfileRequest) (*types.DeleteFargateProfileResponse, error) {
	s, e := c.service(in.ClusterName)
	if e != nil {
		return nil, e
	}
	return s.DeleteFargateProfile(ctx, in)
}

// notActive reports whether e is service's refusal of a cluster that is
// not ACTIVE: such a cluster has no node groups or profiles to list.
func (c *Clusters) notActive(e *Error) bool { return e.Code == CodeInvalidRequest }

func (c *Clusters) registryGet(name string) (clusters.Record, clusters.Status, bool) {
	if c.cfg.Registry == nil {
		return clusters.Record{}, clusters.Status{}, false
	}
	return c.cfg.Registry.Get(name)
}

// TagResource tags a cluster, node group or profile of any of the
// account's clusters, by ARN.
func (c *Clusters) TagResource(ctx context.Context, in *types.TagResourceRequest) (*types.TagResourceResponse, error) {
	s, name, e := c.tagRoute(in.ResourceArn)
	if e != nil {
		return nil, e
	}
	if s != nil {
		return s.TagResource(ctx, in)
	}
	if len(in.Tags) == 0 {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"tags"}, Message: "tags is required: give 1-50 tags to add"}
	}
	var bad field.ErrorList
	err := c.cfg.Registry.Update(name, func(r *clusters.Record) error {
		merged := maps.Clone(r.Cluster.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, in.Tags)
		if bad = tags.Validate(merged, field.NewPath("tags")); len(bad) > 0 {
			return errBadTags
		}
		r.Cluster.Tags = merged
		return nil
	})
	switch {
	case len(bad) > 0:
		return nil, badTags(bad)
	case err != nil:
		return nil, recordTagError(err, in.ResourceArn)
	}
	return &types.TagResourceResponse{}, nil
}

// UntagResource removes tags by key from a resource of any cluster.
func (c *Clusters) UntagResource(ctx context.Context, in *types.UntagResourceRequest) (*types.UntagResourceResponse, error) {
	s, name, e := c.tagRoute(in.ResourceArn)
	if e != nil {
		return nil, e
	}
	if s != nil {
		return s.UntagResource(ctx, in)
	}
	if len(in.TagKeys) == 0 {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"tagKeys"}, Message: "tagKeys is required: give 1-50 keys of tags to remove"}
	}
	err := c.cfg.Registry.Update(name, func(r *clusters.Record) error {
		for _, k := range in.TagKeys {
			delete(r.Cluster.Tags, k)
		}
		if len(r.Cluster.Tags) == 0 {
			r.Cluster.Tags = nil
		}
		return nil
	})
	if err != nil {
		return nil, recordTagError(err, in.ResourceArn)
	}
	return &types.UntagResourceResponse{}, nil
}

// ListTagsForResource answers the tags of a resource of any cluster.
func (c *Clusters) ListTagsForResource(ctx context.Context, in *types.ListTagsForResourceRequest) (*types.ListTagsForResourceResponse, error) {
	s, name, e := c.tagRoute(in.ResourceArn)
	if e != nil {
		return nil, e
	}
	if s != nil {
		return s.ListTagsForResource(ctx, in)
	}
	rec, _, _ := c.cfg.Registry.Get(name)
	out := &types.ListTagsForResourceResponse{Tags: map[string]string{}}
	maps.Copy(out.Tags, rec.Cluster.Tags)
	return out, nil
}

// tagRoute finds who answers for an ARN's tags: the Service of kdp's own
// cluster or of a created one (for its node groups and profiles), or the
// registry (a created cluster's own tags: name is set, s nil).
func (c *Clusters) tagRoute(arn string) (s *Service, name string, e *Error) {
	a, err := ParseARN(arn)
	if err != nil {
		return nil, "", &Error{Code: CodeBadRequest, Fields: []string{"resourceArn"}, Message: err.Error()}
	}
	if c.own(a.Cluster) {
		return c.cfg.Own, "", nil
	}
	rec, _, ok := c.registryGet(a.Cluster)
	if !ok || a.Partition != "aws" || a.Region != c.cfg.Account.Region || a.Account != c.cfg.Account.ID {
		return nil, "", tagNotFound(arn)
	}
	if a.Kind == KindCluster {
		if rec.Cluster.Arn != arn {
			return nil, "", tagNotFound(arn)
		}
		return nil, a.Cluster, nil
	}
	if !slices.Contains([]string{KindNodegroup, KindFargateProfile}, a.Kind) {
		return nil, "", tagNotFound(arn)
	}
	svc, se := c.service(a.Cluster)
	if se != nil {
		return nil, "", tagNotFound(arn)
	}
	return svc, "", nil
}

// errBadTags aborts a record's update on tags that break EKS's rules.
var errBadTags = errors.New("tags break EKS's rules")

// recordTagError is the error of a created cluster's tags not written:
// the cluster is gone, or being deleted, or a fault.
func recordTagError(err error, arn string) *Error {
	switch {
	case errors.Is(err, clusters.ErrNotFound):
		return tagNotFound(arn)
	case errors.Is(err, clusters.ErrDeleting):
		return &Error{Code: CodeBadRequest, Message: "The cluster of " + arn + " is being deleted"}
	}
	return serverError(err, "tagging "+arn)
}
