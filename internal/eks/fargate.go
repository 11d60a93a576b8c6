package eks

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// CreateFargateProfile creates the FargateProfile of the request. kdp's
// webhook checks it against every rule of EKS's (each problem an
// InvalidParameterException member: selectors[0].namespace), the quota
// of 10 profiles (ResourceLimitExceededException) and no creation while a
// profile is DELETING (ResourceInUseException, as EKS answers). A
// clientRequestToken used before answers the profile it made, if the
// request is the same, and InvalidRequestException if not. The answer is
// the new profile, CREATING, as DescribeFargateProfile then shows it.
func (s *Service) CreateFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest) (*types.CreateFargateProfileResponse, error) {
	if e := s.checkCluster(in.ClusterName); e != nil {
		return nil, e
	}
	if in.FargateProfileName == "" {
		e := invalidParameter("fargateProfileName", "fargateProfileName is required: the name of the Fargate profile to create")
		e.ClusterName = in.ClusterName
		return nil, e
	}
	fp := newFargateProfile(ctx, in)
	if in.ClientRequestToken != "" {
		prior, err := s.fargateProfileOfToken(ctx, in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		if prior != nil {
			return s.replayCreateFargateProfile(ctx, in, fp, prior)
		}
	}
	err := s.c.Create(ctx, fp, s.fields)
	if apierrors.IsAlreadyExists(err) {
		return s.createdFargateProfileExists(ctx, in, fp)
	}
	if err != nil {
		return nil, s.createFargateProfileError(err, in)
	}
	view, err := s.fargateProfileView(ctx, fp)
	if err != nil {
		return nil, err
	}
	return &types.CreateFargateProfileResponse{FargateProfile: view}, nil
}

// fargateProfileOfToken is the profile a token created, if one has it.
// A cluster has at most ten profiles: the list is short, and read from
// the API server, so that a retry right after the first try finds it.
func (s *Service) fargateProfileOfToken(ctx context.Context, token string) (*eksv1.FargateProfile, error) {
	list := &eksv1.FargateProfileList{}
	if err := s.c.List(ctx, list); err != nil {
		return nil, serverError(err, "listing Fargate profiles")
	}
	for i := range list.Items {
		if list.Items[i].Annotations[AnnotationClientRequestToken] == token {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// replayCreateFargateProfile answers a request whose token made prior:
// prior as it is now if the request is the one that made it, and
// InvalidRequestException if it is another.
func (s *Service) replayCreateFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest, want, prior *eksv1.FargateProfile) (*types.CreateFargateProfileResponse, error) {
	if prior.Annotations[AnnotationRequestHash] != want.Annotations[AnnotationRequestHash] {
		return nil, &Error{
			Code: CodeInvalidRequest, ClusterName: in.ClusterName, FargateProfileName: in.FargateProfileName, Fields: []string{"clientRequestToken"},
			Message: fmt.Sprintf("The clientRequestToken %s was used with a different request (it created Fargate Profile %s): use a new token for a new request", in.ClientRequestToken, prior.Name),
		}
	}
	view, err := s.fargateProfileView(ctx, prior)
	if err != nil {
		return nil, err
	}
	return &types.CreateFargateProfileResponse{FargateProfile: view}, nil
}

// createdFargateProfileExists answers a Create whose name is taken: a
// retry of the request that took it (another client's, that won a race
// to the same token) gets that profile; anything else is in use.
func (s *Service) createdFargateProfileExists(ctx context.Context, in *types.CreateFargateProfileRequest, want *eksv1.FargateProfile) (*types.CreateFargateProfileResponse, error) {
	existing := &eksv1.FargateProfile{}
	err := s.c.Get(ctx, clientKey(in.FargateProfileName), existing)
	if err == nil && in.ClientRequestToken != "" && existing.Annotations[AnnotationClientRequestToken] == in.ClientRequestToken {
		return s.replayCreateFargateProfile(ctx, in, want, existing)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, serverError(err, "reading Fargate profile "+in.FargateProfileName)
	}
	return nil, &Error{
		Code: CodeResourceInUse, ClusterName: in.ClusterName, FargateProfileName: in.FargateProfileName, Fields: []string{"fargateProfileName"},
		Message: "A Fargate Profile already exists with this name in this cluster.",
	}
}

// deletingPattern finds, in kdp's webhook's answer, the profile being
// deleted that stops another's creation or deletion.
var deletingPattern = regexp.MustCompile(`Fargate profile "([^"]+)" is being deleted`)

// createFargateProfileError is the EKS error of a refused create: the
// webhook's field errors with the members as EKS names them, and EKS's
// own words for the two rules about the other profiles.
func (s *Service) createFargateProfileError(err error, in *types.CreateFargateProfileRequest) error {
	e := fromKubernetes(err, Error{ClusterName: in.ClusterName, FargateProfileName: in.FargateProfileName}, "creating Fargate profile "+in.FargateProfileName)
	if (e.Code == CodeResourceInUse || e.Code == CodeResourceLimitExceeded) && hasOwnProblems(err) {
		// The request's own problems come first: the cluster's state
		// matters once the request is right.
		e.Code = CodeInvalidParameter
		return e
	}
	switch e.Code {
	case CodeResourceInUse:
		if m := deletingPattern.FindStringSubmatch(err.Error()); m != nil {
			e.Message = fmt.Sprintf("Cannot create Fargate Profile %s because cluster %s currently has Fargate profile %s in status DELETING", in.FargateProfileName, in.ClusterName, m[1])
		}
	case CodeResourceLimitExceeded:
		e.Message = fmt.Sprintf("Cannot create Fargate Profile %s because cluster %s already has %d Fargate profiles, the most a cluster may have: delete one first", in.FargateProfileName, in.ClusterName, maxFargateProfiles)
	}
	return e
}

// hasOwnProblems reports whether a refusal has causes, problems of the
// request, besides the two rules about the cluster's other profiles.
func hasOwnProblems(err error) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if !strings.Contains(c.Message, "ResourceLimitExceeded") && !deletingPattern.MatchString(c.Message) {
			return true
		}
	}
	return false
}

// maxFargateProfiles is EKS's quota of Fargate profiles per cluster
// (kdp's webhook holds it; this is for the message).
const maxFargateProfiles = 10

// DescribeFargateProfile answers a profile as EKS describes it.
func (s *Service) DescribeFargateProfile(ctx context.Context, in *types.DescribeFargateProfileRequest) (*types.DescribeFargateProfileResponse, error) {
	fp, err := s.getFargateProfile(ctx, in.ClusterName, in.FargateProfileName)
	if err != nil {
		return nil, err
	}
	view, err := s.fargateProfileView(ctx, fp)
	if err != nil {
		return nil, err
	}
	return &types.DescribeFargateProfileResponse{FargateProfile: view}, nil
}

// getFargateProfile reads a profile of kdp's cluster: ResourceNotFound,
// in EKS's words, if there is none of the name.
func (s *Service) getFargateProfile(ctx context.Context, cluster, name string) (*eksv1.FargateProfile, error) {
	if e := s.checkCluster(cluster); e != nil {
		return nil, e
	}
	if name == "" {
		e := invalidParameter("fargateProfileName", "fargateProfileName is required")
		e.ClusterName = cluster
		return nil, e
	}
	fp := &eksv1.FargateProfile{}
	err := s.getFresh(ctx, name, fp)
	if apierrors.IsNotFound(err) {
		return nil, fargateProfileNotFound(cluster, name)
	}
	if err != nil {
		return nil, serverError(err, "reading Fargate profile "+name)
	}
	return fp, nil
}

func fargateProfileNotFound(cluster, name string) *Error {
	return &Error{Code: CodeResourceNotFound, ClusterName: cluster, FargateProfileName: name, Message: "No Fargate Profile found with name: " + name + "."}
}

// ListFargateProfiles lists the profiles' names, sorted, a page at a
// time. It reads from the API server, not the cache: a list right after
// a create shows it (a cluster has at most ten).
func (s *Service) ListFargateProfiles(ctx context.Context, in *types.ListFargateProfilesRequest) (*types.ListFargateProfilesResponse, error) {
	if e := s.checkCluster(in.ClusterName); e != nil {
		return nil, e
	}
	list := &eksv1.FargateProfileList{}
	if err := s.c.List(ctx, list); err != nil {
		return nil, serverError(err, "listing Fargate profiles")
	}
	names := make([]string, 0, len(list.Items))
	for _, fp := range list.Items {
		names = append(names, fp.Name)
	}
	slices.Sort(names)
	page, next, e := pageOf(names, in.MaxResults, in.NextToken)
	if e != nil {
		e.ClusterName = in.ClusterName
		return nil, e
	}
	return &types.ListFargateProfilesResponse{FargateProfileNames: page, NextToken: next}, nil
}

// DeleteFargateProfile deletes a profile: it is DELETING while its pods
// go, then gone. Deleting one that is being deleted answers it again;
// while another is DELETING it is ResourceInUseException, as on EKS (one
// deletion at a time).
func (s *Service) DeleteFargateProfile(ctx context.Context, in *types.DeleteFargateProfileRequest) (*types.DeleteFargateProfileResponse, error) {
	fp, err := s.getFargateProfile(ctx, in.ClusterName, in.FargateProfileName)
	if err != nil {
		return nil, err
	}
	if fp.DeletionTimestamp == nil {
		if err := s.c.Delete(ctx, fp); err != nil {
			return nil, s.deleteFargateProfileError(err, in)
		}
		now := metav1.NewTime(s.clock.Now())
		fp.DeletionTimestamp = &now
	}
	view, err := s.fargateProfileView(ctx, fp)
	if err != nil {
		return nil, err
	}
	return &types.DeleteFargateProfileResponse{FargateProfile: view}, nil
}

// deleteFargateProfileError is the EKS error of a refused delete, in
// EKS's words when another profile is being deleted.
func (s *Service) deleteFargateProfileError(err error, in *types.DeleteFargateProfileRequest) error {
	if apierrors.IsNotFound(err) {
		return fargateProfileNotFound(in.ClusterName, in.FargateProfileName)
	}
	e := fromKubernetes(err, Error{ClusterName: in.ClusterName, FargateProfileName: in.FargateProfileName}, "deleting Fargate profile "+in.FargateProfileName)
	if m := deletingPattern.FindStringSubmatch(err.Error()); e.Code == CodeResourceInUse && m != nil {
		e.Message = fmt.Sprintf("Cannot Delete Fargate Profile %s because cluster %s currently has Fargate profile %s in status DELETING", in.FargateProfileName, in.ClusterName, m[1])
	}
	return e
}
