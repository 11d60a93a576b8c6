package eks

import (
	"context"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// TODO(stub): replaced by the implementation before this lands.

func (s *Service) TagResource(ctx context.Context, in *types.TagResourceRequest) (*types.TagResourceResponse, error) {
	return nil, errorf(CodeServer, "TagResource is not implemented yet")
}

func (s *Service) UntagResource(ctx context.Context, in *types.UntagResourceRequest) (*types.UntagResourceResponse, error) {
	return nil, errorf(CodeServer, "UntagResource is not implemented yet")
}

func (s *Service) ListTagsForResource(ctx context.Context, in *types.ListTagsForResourceRequest) (*types.ListTagsForResourceResponse, error) {
	return nil, errorf(CodeServer, "ListTagsForResource is not implemented yet")
}
