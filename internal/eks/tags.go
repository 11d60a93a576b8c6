package eks

import (
	"context"
	"encoding/json"
	"maps"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apitypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
	fargateresources "github.com/kdp-project/kdp/internal/fargate/resources"
	ngresources "github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/tags"
)

// The tag operations answer only BadRequestException (a malformed ARN,
// tags that break EKS's rules) and NotFoundException (no such resource),
// as EKS's model declares; neither has context members.

// TagResource adds tags to (or changes them on) kdp's cluster, a node
// group or a Fargate profile, by ARN. The resource's tags, those it has
// and these, must keep EKS's rules (at most 50, keys 1-128 characters
// not beginning with aws:, values up to 256).
func (s *Service) TagResource(ctx context.Context, in *types.TagResourceRequest) (*types.TagResourceResponse, error) {
	if len(in.Tags) == 0 {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"tags"}, Message: "tags is required: give 1-50 tags to add"}
	}
	t, e := s.tagTarget(ctx, in.ResourceArn)
	if e != nil {
		return nil, e
	}
	merged := maps.Clone(t.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, in.Tags)
	if errs := tags.Validate(merged, field.NewPath("tags")); len(errs) > 0 {
		return nil, badTags(errs)
	}
	patch := map[string]*string{}
	for k, v := range in.Tags {
		patch[k] = &v
	}
	if err := t.write(ctx, patch); err != nil {
		return nil, tagWriteError(err, in.ResourceArn)
	}
	return &types.TagResourceResponse{}, nil
}

// UntagResource removes tags by key; keys the resource does not have are
// no error.
func (s *Service) UntagResource(ctx context.Context, in *types.UntagResourceRequest) (*types.UntagResourceResponse, error) {
	if len(in.TagKeys) == 0 {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"tagKeys"}, Message: "tagKeys is required: give 1-50 keys of tags to remove"}
	}
	if len(in.TagKeys) > tags.Max {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"tagKeys"}, Message: "tagKeys: at most 50 keys may be given"}
	}
	t, e := s.tagTarget(ctx, in.ResourceArn)
	if e != nil {
		return nil, e
	}
	patch := map[string]*string{}
	for _, k := range in.TagKeys {
		if _, ok := t.tags[k]; ok {
			patch[k] = nil
		}
	}
	if len(patch) == 0 {
		return &types.UntagResourceResponse{}, nil
	}
	if err := t.write(ctx, patch); err != nil {
		return nil, tagWriteError(err, in.ResourceArn)
	}
	return &types.UntagResourceResponse{}, nil
}

// ListTagsForResource answers a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *types.ListTagsForResourceRequest) (*types.ListTagsForResourceResponse, error) {
	t, e := s.tagTarget(ctx, in.ResourceArn)
	if e != nil {
		return nil, e
	}
	out := &types.ListTagsForResourceResponse{Tags: map[string]string{}}
	maps.Copy(out.Tags, t.tags)
	return out, nil
}

// tagged is a resource found by its ARN: its tags, and how to change
// them (a value sets a tag, nil removes it).
type tagged struct {
	tags  map[string]string
	write func(ctx context.Context, patch map[string]*string) error
}

// tagTarget finds the resource of an ARN: BadRequestException if it is
// not an ARN of EKS's, NotFoundException if kdp has no such resource
// (another cluster, region or account, or a node group or profile of the
// name that is not the one the ARN was of: one deleted and made again
// has a new ARN).
func (s *Service) tagTarget(ctx context.Context, arn string) (*tagged, *Error) {
	a, err := ParseARN(arn)
	if err != nil {
		return nil, &Error{Code: CodeBadRequest, Fields: []string{"resourceArn"}, Message: err.Error()}
	}
	if a.Partition != "aws" || a.Region != s.acct.Region || a.Account != s.acct.ID || a.Cluster != s.clus.Name {
		return nil, tagNotFound(arn)
	}
	switch a.Kind {
	case KindCluster:
		current, err := s.clusterTags(ctx)
		if err != nil {
			return nil, serverError(err, "reading the cluster's tags")
		}
		return &tagged{tags: current, write: s.patchClusterTags}, nil
	case KindNodegroup:
		ng := &eksv1.NodeGroup{}
		if e := s.getTagged(ctx, a.Name, ng, arn); e != nil {
			return nil, e
		}
		if ngARN(s, ng) != arn {
			return nil, tagNotFound(arn)
		}
		return &tagged{tags: ng.Spec.Tags, write: s.patchSpecTags(ng)}, nil
	case KindFargateProfile:
		fp := &eksv1.FargateProfile{}
		if e := s.getTagged(ctx, a.Name, fp, arn); e != nil {
			return nil, e
		}
		if fpARN(s, fp) != arn {
			return nil, tagNotFound(arn)
		}
		return &tagged{tags: fp.Spec.Tags, write: s.patchSpecTags(fp)}, nil
	}
	return nil, tagNotFound(arn)
}

// ngARN and fpARN are a node group's and a profile's ARNs: the status's,
// or, before the controller has written it, what it will write.
func ngARN(s *Service, ng *eksv1.NodeGroup) string {
	if ng.Status.NodegroupArn != "" {
		return ng.Status.NodegroupArn
	}
	return ngresources.ARN(s.acct.Region, s.acct.ID, s.clus.Name, ng)
}

func fpARN(s *Service, fp *eksv1.FargateProfile) string {
	if fp.Status.FargateProfileArn != "" {
		return fp.Status.FargateProfileArn
	}
	return fargateresources.ARN(s.acct, s.clus.Name, fp)
}

// getTagged reads the object an ARN names, from the API server: a
// cache a moment behind would answer tags just changed as they were, and
// count the limit of 50 on them.
func (s *Service) getTagged(ctx context.Context, name string, obj client.Object, arn string) *Error {
	err := s.c.Get(ctx, clientKey(name), obj)
	if apierrors.IsNotFound(err) {
		return tagNotFound(arn)
	}
	if err != nil {
		return serverError(err, "reading "+name)
	}
	return nil
}

// patchSpecTags changes an object's spec.tags with a merge patch (other
// writers' changes stay). A node group's tags are not an update: its
// controller puts them on the Auto Scaling group. A profile's tags are
// the one thing of its spec that may change.
func (s *Service) patchSpecTags(obj client.Object) func(context.Context, map[string]*string) error {
	return func(ctx context.Context, patch map[string]*string) error {
		body, err := json.Marshal(map[string]any{"spec": map[string]any{"tags": patch}})
		if err != nil {
			return err
		}
		return s.c.Patch(ctx, obj, client.RawPatch(apitypes.MergePatchType, body), s.fields)
	}
}

func tagNotFound(arn string) *Error {
	return &Error{Code: CodeNotFound, Message: "No resource found with ARN " + arn + " (kdp tags its cluster, its node groups and its Fargate profiles)"}
}

// badTags is the BadRequestException of tags that break EKS's rules,
// each problem naming its tag and rule.
func badTags(errs field.ErrorList) *Error {
	e := &Error{Code: CodeBadRequest, Fields: []string{"tags"}}
	msgs := make([]string, 0, len(errs))
	for _, fe := range errs {
		msgs = append(msgs, fe.Error())
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

// tagWriteError is the error of a refused write: the resource went
// meanwhile, or the API server refused the tags (its own rules are
// EKS's), or a fault.
func tagWriteError(err error, arn string) *Error {
	switch {
	case apierrors.IsNotFound(err):
		return tagNotFound(arn)
	case apierrors.IsInvalid(err):
		e := fromKubernetes(err, Error{}, "tagging "+arn)
		e.Code = CodeBadRequest
		return e
	}
	return serverError(err, "tagging "+arn)
}
