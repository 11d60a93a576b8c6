package eks

import (
	"context"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// TODO(stub): replaced by the implementation before this lands.

func (s *Service) CreateFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest) (*types.CreateFargateProfileResponse, error) {
	return nil, errorf(CodeServer, "CreateFargateProfile is not implemented yet")
}

func (s *Service) DescribeFargateProfile(ctx context.Context, in *types.DescribeFargateProfileRequest) (*types.DescribeFargateProfileResponse, error) {
	return nil, errorf(CodeServer, "DescribeFargateProfile is not implemented yet")
}

func (s *Service) ListFargateProfiles(ctx context.Context, in *types.ListFargateProfilesRequest) (*types.ListFargateProfilesResponse, error) {
	return nil, errorf(CodeServer, "ListFargateProfiles is not implemented yet")
}

func (s *Service) DeleteFargateProfile(ctx context.Context, in *types.DeleteFargateProfileRequest) (*types.DeleteFargateProfileResponse, error) {
	return nil, errorf(CodeServer, "DeleteFargateProfile is not implemented yet")
}
