package eks

import (
	"context"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// TODO(stub): replaced by the implementation before this lands.

func (s *Service) CreateNodegroup(ctx context.Context, in *types.CreateNodegroupRequest) (*types.CreateNodegroupResponse, error) {
	return nil, errorf(CodeServer, "CreateNodegroup is not implemented yet")
}

func (s *Service) DescribeNodegroup(ctx context.Context, in *types.DescribeNodegroupRequest) (*types.DescribeNodegroupResponse, error) {
	return nil, errorf(CodeServer, "DescribeNodegroup is not implemented yet")
}

func (s *Service) ListNodegroups(ctx context.Context, in *types.ListNodegroupsRequest) (*types.ListNodegroupsResponse, error) {
	return nil, errorf(CodeServer, "ListNodegroups is not implemented yet")
}

func (s *Service) UpdateNodegroupConfig(ctx context.Context, in *types.UpdateNodegroupConfigRequest) (*types.UpdateNodegroupConfigResponse, error) {
	return nil, errorf(CodeServer, "UpdateNodegroupConfig is not implemented yet")
}

func (s *Service) UpdateNodegroupVersion(ctx context.Context, in *types.UpdateNodegroupVersionRequest) (*types.UpdateNodegroupVersionResponse, error) {
	return nil, errorf(CodeServer, "UpdateNodegroupVersion is not implemented yet")
}

func (s *Service) DeleteNodegroup(ctx context.Context, in *types.DeleteNodegroupRequest) (*types.DeleteNodegroupResponse, error) {
	return nil, errorf(CodeServer, "DeleteNodegroup is not implemented yet")
}

func (s *Service) DescribeUpdate(ctx context.Context, in *types.DescribeUpdateRequest) (*types.DescribeUpdateResponse, error) {
	return nil, errorf(CodeServer, "DescribeUpdate is not implemented yet")
}

func (s *Service) ListUpdates(ctx context.Context, in *types.ListUpdatesRequest) (*types.ListUpdatesResponse, error) {
	return nil, errorf(CodeServer, "ListUpdates is not implemented yet")
}
