package eks_test

import (
	"context"
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// DescribeCluster shows kdp's cluster as EKS shows one; ListClusters
// lists it alone.
func TestIntegration_DescribeAndListClusters(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	c := describeCluster(t, k)
	want := &types.Cluster{
		Name:                 clusterName,
		Arn:                  "arn:aws:eks:us-east-1:" + accountID(t, k) + ":cluster/" + clusterName,
		CreatedAt:            types.NewTimestamp(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
		Version:              c.Version,
		Endpoint:             k.Join.Server,
		Status:               types.ClusterStatusActive,
		PlatformVersion:      "eks.1",
		CertificateAuthority: &types.Certificate{Data: base64.StdEncoding.EncodeToString(k.Join.CA)},
		KubernetesNetworkConfig: &types.KubernetesNetworkConfigResponse{
			ServiceIpv4Cidr: cluster.ServiceCIDR, IpFamily: types.IpFamilyIpv4,
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("cluster\n %+v, want\n %+v", c, want)
	}
	if c.Version == "" || len(k.Join.CA) == 0 || c.Endpoint == "" {
		t.Errorf("version %q, endpoint %q, CA of %d bytes", c.Version, c.Endpoint, len(k.Join.CA))
	}
	if _, err := base64.StdEncoding.DecodeString(c.CertificateAuthority.Data); err != nil {
		t.Errorf("certificateAuthority.data: %v", err)
	}
	_, err := k.svc.DescribeCluster(ctx, &types.DescribeClusterRequest{Name: "other"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceNotFound, ClusterName: "other", Message: "No cluster found for name: other."})

	for _, req := range []*types.ListClustersRequest{{}, {MaxResults: ptr.To[int32](1)}, {Include: []string{"all"}}} {
		list, err := k.svc.ListClusters(ctx, req)
		if err != nil || !reflect.DeepEqual(list, &types.ListClustersResponse{Clusters: []string{clusterName}}) {
			t.Errorf("ListClusters(%+v) = %+v, %v", req, list, err)
		}
	}
	_, err = k.svc.ListClusters(ctx, &types.ListClustersRequest{MaxResults: ptr.To[int32](101)})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, Fields: []string{"maxResults"}})
	_, err = k.svc.ListClusters(ctx, &types.ListClustersRequest{NextToken: "garbage"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, Fields: []string{"nextToken"}})
}

func describeCluster(t testing.TB, k *kdp) *types.Cluster {
	t.Helper()
	out, err := k.svc.DescribeCluster(context.Background(), &types.DescribeClusterRequest{Name: clusterName})
	if err != nil {
		t.Fatal(err)
	}
	return out.Cluster
}
