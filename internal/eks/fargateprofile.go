package eks

import (
	"context"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
	fargateresources "github.com/kdp-project/kdp/internal/fargate/resources"
)

// Annotations of a FargateProfile created through the EKS API: the
// request's clientRequestToken and a hash of the request, so that the
// same request again (a client's retry) gets the same answer and the
// same token with another request an error, with no store but the
// profile itself.
const (
	AnnotationClientRequestToken = "eks.kdp.dev/client-request-token"
	AnnotationRequestHash        = "eks.kdp.dev/request-hash"
)

// newFargateProfile is the FargateProfile a CreateFargateProfile request
// asks for, carrying its token and hash, and who asked.
func newFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest) *eksv1.FargateProfile {
	fp := &eksv1.FargateProfile{
		ObjectMeta: metav1.ObjectMeta{Name: in.FargateProfileName},
		Spec: eksv1.FargateProfileSpec{
			PodExecutionRoleArn: in.PodExecutionRoleArn,
			Subnets:             slices.Clone(in.Subnets),
			Tags:                maps.Clone(in.Tags),
		},
	}
	for _, sel := range in.Selectors {
		fp.Spec.Selectors = append(fp.Spec.Selectors, eksv1.FargateProfileSelector{Namespace: sel.Namespace, Labels: maps.Clone(sel.Labels)})
	}
	ann := map[string]string{AnnotationRequestHash: fargateRequestHash(in)}
	if in.ClientRequestToken != "" {
		ann[AnnotationClientRequestToken] = in.ClientRequestToken
	}
	if p := Principal(ctx); p != "" {
		ann[AnnotationCreatedBy] = p
	}
	fp.Annotations = ann
	return fp
}

// fargateRequestHash identifies a CreateFargateProfile request by what it
// asks for, its token aside.
func fargateRequestHash(in *types.CreateFargateProfileRequest) string {
	req := *in
	req.ClientRequestToken = ""
	return digest(struct {
		Cluster string
		Request types.CreateFargateProfileRequest
	}{in.ClusterName, req})
}

// fargateProfileView is a FargateProfile as DescribeFargateProfile shows
// it. What the profile controller has not yet written in the status (a
// profile just created) is what it will write, so that Create answers
// what Describe then shows: its ARN, creation time, cluster and subnets
// (the spec's, or every private subnet of the cloud). A profile being
// deleted is DELETING from the moment it is asked to go.
func (s *Service) fargateProfileView(ctx context.Context, fp *eksv1.FargateProfile) (*types.FargateProfile, error) {
	st := &fp.Status
	out := &types.FargateProfile{
		FargateProfileName:  fp.Name,
		FargateProfileArn:   st.FargateProfileArn,
		ClusterName:         st.ClusterName,
		PodExecutionRoleArn: fp.Spec.PodExecutionRoleArn,
		Subnets:             slices.Clone(st.Subnets),
		Status:              fargateStatus(fp),
	}
	if out.FargateProfileArn == "" {
		out.FargateProfileArn = fargateresources.ARN(s.acct, s.clus.Name, fp)
	}
	if out.ClusterName == "" {
		out.ClusterName = s.clus.Name
	}
	created := fp.CreationTimestamp
	if st.CreatedAt != nil {
		created = *st.CreatedAt
	}
	out.CreatedAt = types.NewTimestamp(created.Time)
	if len(out.Subnets) == 0 {
		subnets, err := s.fargateSubnets(ctx, fp)
		if err != nil {
			return nil, err
		}
		out.Subnets = subnets
	}
	for _, sel := range fp.Spec.Selectors {
		out.Selectors = append(out.Selectors, types.FargateProfileSelector{Namespace: sel.Namespace, Labels: maps.Clone(sel.Labels)})
	}
	if len(fp.Spec.Tags) > 0 {
		out.Tags = maps.Clone(fp.Spec.Tags)
	}
	if issues := st.Health.Issues; len(issues) > 0 {
		out.Health = &types.FargateProfileHealth{}
		for _, i := range issues {
			out.Health.Issues = append(out.Health.Issues, types.FargateProfileIssue{
				Code: types.FargateProfileIssueCode(i.Code), Message: i.Message, ResourceIds: slices.Clone(i.ResourceIDs),
			})
		}
	}
	return out, nil
}

// fargateStatus is a profile's EKS status: CREATING before the controller
// has written one, DELETING once it is asked to go (DELETE_FAILED while a
// step of its deletion fails).
func fargateStatus(fp *eksv1.FargateProfile) types.FargateProfileStatus {
	st := fp.Status.Status
	switch {
	case fp.DeletionTimestamp != nil && st != eksv1.FargateDeleteFailed:
		return types.FargateProfileStatusDeleting
	case st == "":
		return types.FargateProfileStatusCreating
	}
	return types.FargateProfileStatus(st)
}

// fargateSubnets are the subnets a profile uses: its spec's, or, when it
// names none, every private subnet of the cloud (as the profile
// controller records them).
func (s *Service) fargateSubnets(ctx context.Context, fp *eksv1.FargateProfile) ([]string, error) {
	if len(fp.Spec.Subnets) > 0 {
		return slices.Clone(fp.Spec.Subnets), nil
	}
	subnets, err := s.cloud.Subnets(ctx)
	if err != nil {
		return nil, serverError(err, "reading the cloud's subnets")
	}
	var private []string
	for _, sn := range subnets {
		if !sn.Public {
			private = append(private, sn.ID)
		}
	}
	return private, nil
}
