package eks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// The cluster's tags are kept in a ConfigMap (kdp's cluster is no
// resource of its own), as JSON under one key: tag keys may hold
// characters a ConfigMap's keys may not (spaces, ':', '/', '@').
const (
	ClusterTagsNamespace = "kube-system"
	ClusterTagsName      = "kdp-eks-cluster"
	clusterTagsKey       = "tags.json"
)

// DescribeCluster describes kdp's cluster as EKS does. kdp's cluster has
// no IAM role, so roleArn is left out; its health has no issues, so it is
// left out too.
func (s *Service) DescribeCluster(ctx context.Context, in *types.DescribeClusterRequest) (*types.DescribeClusterResponse, error) {
	if e := s.checkCluster(in.Name); e != nil {
		return nil, e
	}
	tags, err := s.clusterTags(ctx)
	if err != nil {
		return nil, serverError(err, "reading the cluster's tags")
	}
	c := &types.Cluster{
		Name:            s.clus.Name,
		Arn:             s.clusterARN(),
		CreatedAt:       types.NewTimestamp(s.clus.CreatedAt),
		Version:         s.clus.Version,
		Endpoint:        s.clus.Endpoint,
		Status:          types.ClusterStatusActive,
		PlatformVersion: s.clus.PlatformVersion,
		KubernetesNetworkConfig: &types.KubernetesNetworkConfigResponse{
			ServiceIpv4Cidr: s.clus.ServiceIPv4CIDR,
			IpFamily:        types.IpFamilyIpv4,
		},
	}
	if len(s.clus.CertificateAuthority) > 0 {
		c.CertificateAuthority = &types.Certificate{Data: base64.StdEncoding.EncodeToString(s.clus.CertificateAuthority)}
	}
	if len(tags) > 0 {
		c.Tags = tags
	}
	return &types.DescribeClusterResponse{Cluster: c}, nil
}

// ListClusters lists kdp's one cluster (the include parameter, which
// asks for connected clusters too, changes nothing: kdp has none).
func (s *Service) ListClusters(ctx context.Context, in *types.ListClustersRequest) (*types.ListClustersResponse, error) {
	page, next, e := pageOf([]string{s.clus.Name}, in.MaxResults, in.NextToken)
	if e != nil {
		return nil, e
	}
	return &types.ListClustersResponse{Clusters: page, NextToken: next}, nil
}

// clusterTags reads the cluster's tags from the API server (not a cache:
// caching ConfigMaps would cache every ConfigMap of the cluster).
func (s *Service) clusterTags(ctx context.Context) (map[string]string, error) {
	cm := &corev1.ConfigMap{}
	err := s.c.Get(ctx, client.ObjectKey{Namespace: ClusterTagsNamespace, Name: ClusterTagsName}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeClusterTags(cm)
}

func decodeClusterTags(cm *corev1.ConfigMap) (map[string]string, error) {
	raw := cm.Data[clusterTagsKey]
	if raw == "" {
		return nil, nil
	}
	tags := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &tags); err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %s is not a JSON object of tags: %w", ClusterTagsNamespace, ClusterTagsName, clusterTagsKey, err)
	}
	return tags, nil
}

// patchClusterTags sets (a value) and removes (nil) the cluster's tags,
// creating their ConfigMap with the first; a write that raced another is
// done again on what that one wrote.
func (s *Service) patchClusterTags(ctx context.Context, patch map[string]*string) error {
	return retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		cm := &corev1.ConfigMap{}
		err := s.c.Get(ctx, client.ObjectKey{Namespace: ClusterTagsNamespace, Name: ClusterTagsName}, cm)
		create := apierrors.IsNotFound(err)
		if err != nil && !create {
			return err
		}
		tags, err := decodeClusterTags(cm)
		if err != nil {
			return err
		}
		tags = applyTagPatch(tags, patch)
		raw, err := json.Marshal(tags)
		if err != nil {
			return err
		}
		if create {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ClusterTagsNamespace, Name: ClusterTagsName,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "kdp"}}}
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[clusterTagsKey] = string(raw)
		if create {
			return s.c.Create(ctx, cm, s.fields)
		}
		return s.c.Update(ctx, cm, s.fields)
	})
}

// applyTagPatch is tags with patch's values set and its nils removed.
func applyTagPatch(tags map[string]string, patch map[string]*string) map[string]string {
	out := maps.Clone(tags)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}
