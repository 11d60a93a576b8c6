package eks

import (
	"context"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// TODO(stub): replaced by the implementation before this lands.

func (s *Service) DescribeCluster(ctx context.Context, in *types.DescribeClusterRequest) (*types.DescribeClusterResponse, error) {
	return nil, errorf(CodeServer, "DescribeCluster is not implemented yet")
}

func (s *Service) ListClusters(ctx context.Context, in *types.ListClustersRequest) (*types.ListClustersResponse, error) {
	return nil, errorf(CodeServer, "ListClusters is not implemented yet")
}
