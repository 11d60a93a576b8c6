package eks_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/testenv"
)

const (
	creator     = "arn:aws:iam::123456789012:user/alice"
	clusterRole = "arn:aws:iam::123456789012:role/EKSClusterRole"
)

// account is a Clusters over kdp's own cluster and a registry of created
// ones, whose control planes are real child processes.
type account struct {
	*kdp
	api *eks.Clusters
	reg *clusters.Registry
}

func newAccount(t *testing.T, maxClusters int) *account {
	t.Helper()
	k := start(t, "")
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := clusters.Open(clusters.Options{Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reg.Start(ctx)
	t.Cleanup(func() { cancel(); reg.Stop() })
	acct, err := k.Provider.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := eks.NewClusters(eks.ClustersConfig{
		Own: k.svc, Registry: reg, Cloud: k.Provider, Account: acct, Versions: []string{describeCluster(t, k).Version},
		PlatformVersion: "eks.1", ServiceIPv4CIDR: cluster.ServiceCIDR, MaxClusters: maxClusters,
	})
	return &account{kdp: k, api: api, reg: reg}
}

func (a *account) create(t *testing.T, name string, mod ...func(*types.CreateClusterRequest)) *types.Cluster {
	t.Helper()
	in := &types.CreateClusterRequest{Name: name, RoleArn: clusterRole, ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: privateSubnets(t, a.kdp)}}
	for _, m := range mod {
		m(in)
	}
	out, err := a.api.CreateCluster(eks.WithPrincipal(context.Background(), creator), in)
	if err != nil {
		t.Fatalf("CreateCluster %s: %v", name, err)
	}
	return out.Cluster
}

func (a *account) describe(t testing.TB, name string) *types.Cluster {
	t.Helper()
	out, err := a.api.DescribeCluster(context.Background(), &types.DescribeClusterRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return out.Cluster
}

func (a *account) waitActive(t *testing.T, name string) *types.Cluster {
	t.Helper()
	var c *types.Cluster
	testenv.EventuallyEvery(t, 60*time.Second, 50*time.Millisecond, func() error {
		c = a.describe(t, name)
		if c.Status != types.ClusterStatusActive {
			return fmt.Errorf("cluster %s is %s", name, c.Status)
		}
		return nil
	})
	return c
}

// A created cluster: CREATING with EKS's defaults, then ACTIVE with an
// endpoint and CA of its own control plane; listed with kdp's; its
// creator has cluster admin access; refused node groups while CREATING;
// deleted (its record and data gone).
func TestIntegration_CreateDescribeListDeleteCluster(t *testing.T) {
	a := newAccount(t, 3)
	ctx := context.Background()
	c := a.create(t, "dev", func(in *types.CreateClusterRequest) {
		in.Tags = map[string]string{"team": "web"}
		in.ClientRequestToken = "token-1"
	})
	acct := accountID(t, a.kdp)
	if c.Status != types.ClusterStatusCreating || c.Arn != "arn:aws:eks:us-east-1:"+acct+":cluster/dev" || c.Version != describeCluster(t, a.kdp).Version ||
		c.RoleArn != clusterRole || c.PlatformVersion != "eks.1" || c.Tags["team"] != "web" || c.Endpoint != "" {
		t.Errorf("a new cluster: %+v", c)
	}
	if c.Identity == nil || !strings.HasPrefix(c.Identity.Oidc.Issuer, "https://oidc.eks.us-east-1.amazonaws.com/id/") {
		t.Errorf("identity %+v", c.Identity)
	}
	if c.AccessConfig.AuthenticationMode != types.AuthenticationModeApiAndConfigMap || !*c.AccessConfig.BootstrapClusterCreatorAdminPermissions {
		t.Errorf("access config %+v", c.AccessConfig)
	}
	if c.KubernetesNetworkConfig.ServiceIpv4Cidr != cluster.ServiceCIDR || !c.ResourcesVpcConfig.EndpointPublicAccess || !strings.HasPrefix(c.ResourcesVpcConfig.VpcId, "vpc-") {
		t.Errorf("network %+v, vpc %+v", c.KubernetesNetworkConfig, c.ResourcesVpcConfig)
	}
	if l := c.Logging.ClusterLogging; len(l) != 1 || *l[0].Enabled || len(l[0].Types) != 5 {
		t.Errorf("logging %+v", c.Logging)
	}
	// While CREATING: no node groups, and none to list.
	_, err := a.api.CreateNodegroup(ctx, &types.CreateNodegroupRequest{ClusterName: "dev", NodegroupName: "ng", NodeRole: nodeRole, Subnets: privateSubnets(t, a.kdp)})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: "dev", Message: "Cluster 'dev' is not in ACTIVE status"})
	if l, err := a.api.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: "dev"}); err != nil || len(l.Nodegroups) != 0 {
		t.Errorf("ListNodegroups of a CREATING cluster: %+v, %v", l, err)
	}
	// The same request again, same token: the same cluster; a new token:
	// in use.
	again := a.create(t, "dev", func(in *types.CreateClusterRequest) {
		in.Tags = map[string]string{"team": "web"}
		in.ClientRequestToken = "token-1"
	})
	if again.Arn != c.Arn || !again.CreatedAt.Equal(c.CreatedAt.Time) {
		t.Errorf("a replay: %+v", again)
	}
	_, err = a.api.CreateCluster(ctx, &types.CreateClusterRequest{Name: "dev", RoleArn: clusterRole, ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: privateSubnets(t, a.kdp)}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: "dev", Message: "Cluster already exists with name: dev"})
	_, err = a.api.CreateCluster(ctx, &types.CreateClusterRequest{Name: clusterName, RoleArn: clusterRole, ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: privateSubnets(t, a.kdp)}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: clusterName})

	active := a.waitActive(t, "dev")
	if !strings.HasPrefix(active.Endpoint, "https://127.0.0.1:") || active.CertificateAuthority == nil || active.CertificateAuthority.Data == "" {
		t.Errorf("an ACTIVE cluster: endpoint %q, CA %+v", active.Endpoint, active.CertificateAuthority)
	}
	if active.Endpoint == describeCluster(t, a.kdp).Endpoint {
		t.Errorf("the created cluster has kdp's endpoint %s", active.Endpoint)
	}
	list, err := a.api.ListClusters(ctx, &types.ListClustersRequest{})
	if err != nil || !reflect.DeepEqual(list.Clusters, []string{"dev", clusterName}) {
		t.Errorf("ListClusters: %+v, %v", list, err)
	}
	page, err := a.api.ListClusters(ctx, &types.ListClustersRequest{MaxResults: ptr.To[int32](1)})
	if err != nil || !reflect.DeepEqual(page.Clusters, []string{"dev"}) || page.NextToken == "" {
		t.Fatalf("ListClusters page 1: %+v, %v", page, err)
	}
	page, err = a.api.ListClusters(ctx, &types.ListClustersRequest{MaxResults: ptr.To[int32](1), NextToken: page.NextToken})
	if err != nil || !reflect.DeepEqual(page.Clusters, []string{clusterName}) || page.NextToken != "" {
		t.Errorf("ListClusters page 2: %+v, %v", page, err)
	}

	// The creator's access entry, with the cluster admin policy.
	entries, err := a.api.ListAccessEntries(ctx, &types.ListAccessEntriesRequest{ClusterName: "dev"})
	if err != nil || !reflect.DeepEqual(entries.AccessEntries, []string{creator}) {
		t.Errorf("access entries %+v, %v", entries, err)
	}
	id, ok := a.api.MapPrincipal("dev", creator, "")
	if !ok || id.Username != creator || !slices.Contains(id.Groups, "kdp:access-policy:AmazonEKSClusterAdminPolicy") {
		t.Errorf("the creator maps to %+v (%v)", id, ok)
	}

	// kdp's own cluster is not deleted; dev is.
	_, err = a.api.DeleteCluster(ctx, &types.DeleteClusterRequest{Name: clusterName})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: clusterName})
	del, err := a.api.DeleteCluster(ctx, &types.DeleteClusterRequest{Name: "dev"})
	if err != nil || del.Cluster.Status != types.ClusterStatusDeleting {
		t.Fatalf("DeleteCluster: %+v, %v", del, err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		_, err := a.api.DescribeCluster(ctx, &types.DescribeClusterRequest{Name: "dev"})
		if !eks.IsNotFound(err) {
			return fmt.Errorf("DescribeCluster of a deleted cluster: %v", err)
		}
		return nil
	})
	_, err = a.api.DeleteCluster(ctx, &types.DeleteClusterRequest{Name: "dev"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceNotFound, ClusterName: "dev", Message: "No cluster found for name: dev."})
}

// CreateCluster's validation: every problem at once, naming its member;
// nothing is created. The limit of clusters is ResourceLimitExceeded.
func TestIntegration_CreateClusterInvalid(t *testing.T) {
	a := newAccount(t, 1)
	ctx := context.Background()
	subnets := privateSubnets(t, a.kdp)
	_, err := a.api.CreateCluster(ctx, &types.CreateClusterRequest{
		Name: "-bad", Version: "1.20", RoleArn: "not-an-arn",
		ResourcesVpcConfig:      &types.VpcConfigRequest{SubnetIds: []string{subnets[0], "subnet-nope"}, SecurityGroupIds: []string{"sg-x"}},
		KubernetesNetworkConfig: &types.KubernetesNetworkConfigRequest{ServiceIpv4Cidr: "172.20.0.0/16"},
		Tags:                    map[string]string{"aws:x": "y"},
		AccessConfig:            &types.CreateAccessConfigRequest{AuthenticationMode: "CONFIG_MAP"},
	})
	e := assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "-bad", Fields: []string{
		"name", "version", "roleArn", "resourcesVpcConfig.subnetIds[1]", "resourcesVpcConfig.subnetIds", "resourcesVpcConfig.securityGroupIds[0]",
		"kubernetesNetworkConfig.serviceIpv4Cidr", "accessConfig.authenticationMode", "tags",
	}})
	if e != nil && !strings.Contains(e.Message, "unsupported Kubernetes version 1.20: kdp runs "+describeCluster(t, a.kdp).Version) {
		t.Errorf("message %q", e.Message)
	}
	_, err = a.api.CreateCluster(ctx, &types.CreateClusterRequest{Name: "novpc", RoleArn: clusterRole})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "novpc", Fields: []string{"resourcesVpcConfig.subnetIds"}})
	if n := a.reg.Len(); n != 0 {
		t.Errorf("%d clusters after refused requests", n)
	}
	a.create(t, "one")
	_, err = a.api.CreateCluster(ctx, &types.CreateClusterRequest{Name: "two", RoleArn: clusterRole, ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: subnets}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceLimitExceeded, ClusterName: "two"})
}

// Access entries and policies, cluster updates and tags of a created
// cluster.
func TestIntegration_AccessEntriesUpdatesAndTags(t *testing.T) {
	a := newAccount(t, 2)
	ctx := context.Background()
	c := a.create(t, "team", func(in *types.CreateClusterRequest) {
		in.AccessConfig = &types.CreateAccessConfigRequest{BootstrapClusterCreatorAdminPermissions: ptr.To(false)}
	})
	if _, ok := a.api.MapPrincipal("team", creator, ""); ok {
		t.Errorf("the creator has access though bootstrapClusterCreatorAdminPermissions is false")
	}
	bob := "arn:aws:iam::123456789012:user/bob"
	role := "arn:aws:iam::123456789012:role/Deployer"
	out, err := a.api.CreateAccessEntry(ctx, &types.CreateAccessEntryRequest{ClusterName: "team", PrincipalArn: bob, KubernetesGroups: []string{"devs"}})
	if err != nil || out.AccessEntry.Username != bob || out.AccessEntry.Type != "STANDARD" || !strings.Contains(out.AccessEntry.AccessEntryArn, ":access-entry/team/user/123456789012/bob/") {
		t.Fatalf("CreateAccessEntry: %+v, %v", out, err)
	}
	_, err = a.api.CreateAccessEntry(ctx, &types.CreateAccessEntryRequest{ClusterName: "team", PrincipalArn: bob})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: "team"})
	r, err := a.api.CreateAccessEntry(ctx, &types.CreateAccessEntryRequest{ClusterName: "team", PrincipalArn: role})
	if err != nil || r.AccessEntry.Username != "arn:aws:sts::123456789012:assumed-role/Deployer/{{SessionName}}" {
		t.Errorf("a role's entry: %+v, %v", r, err)
	}
	_, err = a.api.CreateAccessEntry(ctx, &types.CreateAccessEntryRequest{ClusterName: "team", PrincipalArn: "bob", Type: "NODE", KubernetesGroups: []string{"system:masters"}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "team", Fields: []string{"principalArn", "type", "kubernetesGroups", "kubernetesGroups[0]"}})
	_, err = a.api.CreateAccessEntry(ctx, &types.CreateAccessEntryRequest{ClusterName: clusterName, PrincipalArn: bob})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: clusterName})

	view := "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
	as, err := a.api.AssociateAccessPolicy(ctx, &types.AssociateAccessPolicyRequest{ClusterName: "team", PrincipalArn: bob, PolicyArn: view, AccessScope: &types.AccessScope{Type: types.AccessScopeTypeCluster}})
	if err != nil || as.AssociatedAccessPolicy.PolicyArn != view {
		t.Fatalf("AssociateAccessPolicy: %+v, %v", as, err)
	}
	_, err = a.api.AssociateAccessPolicy(ctx, &types.AssociateAccessPolicyRequest{ClusterName: "team", PrincipalArn: bob, PolicyArn: "arn:aws:eks::aws:cluster-access-policy/Nope", AccessScope: &types.AccessScope{Type: types.AccessScopeTypeNamespace, Namespaces: []string{"a"}}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "team", Fields: []string{"policyArn", "accessScope.type"}})
	id, ok := a.api.MapPrincipal("team", bob, "")
	if !ok || id.Username != bob || !reflect.DeepEqual(id.Groups, []string{"devs", "kdp:access-policy:AmazonEKSViewPolicy"}) {
		t.Errorf("bob maps to %+v (%v)", id, ok)
	}
	if id, ok := a.api.MapPrincipal("team", role, "ci-run-7"); !ok || id.Username != "arn:aws:sts::123456789012:assumed-role/Deployer/ci-run-7" {
		t.Errorf("the role maps to %+v (%v)", id, ok)
	}
	listed, err := a.api.ListAssociatedAccessPolicies(ctx, &types.ListAssociatedAccessPoliciesRequest{ClusterName: "team", PrincipalArn: bob})
	if err != nil || len(listed.AssociatedAccessPolicies) != 1 {
		t.Errorf("ListAssociatedAccessPolicies: %+v, %v", listed, err)
	}
	byPolicy, err := a.api.ListAccessEntries(ctx, &types.ListAccessEntriesRequest{ClusterName: "team", AssociatedPolicyArn: view})
	if err != nil || !reflect.DeepEqual(byPolicy.AccessEntries, []string{bob}) {
		t.Errorf("entries with the view policy: %+v, %v", byPolicy, err)
	}
	if _, err := a.api.DisassociateAccessPolicy(ctx, &types.DisassociateAccessPolicyRequest{ClusterName: "team", PrincipalArn: bob, PolicyArn: view}); err != nil {
		t.Error(err)
	}
	if _, err := a.api.DeleteAccessEntry(ctx, &types.DeleteAccessEntryRequest{ClusterName: "team", PrincipalArn: bob}); err != nil {
		t.Error(err)
	}
	if _, ok := a.api.MapPrincipal("team", bob, ""); ok {
		t.Errorf("bob maps after his entry's deletion")
	}
	_, err = a.api.DescribeAccessEntry(ctx, &types.DescribeAccessEntryRequest{ClusterName: "team", PrincipalArn: bob})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceNotFound, ClusterName: "team"})
	policies, err := a.api.ListAccessPolicies(ctx, &types.ListAccessPoliciesRequest{})
	if err != nil || len(policies.AccessPolicies) != len(eks.AccessPolicies) {
		t.Errorf("ListAccessPolicies: %+v, %v", policies, err)
	}

	// UpdateClusterConfig: refused until ACTIVE; then logging, access
	// config and deletion protection, recorded as updates; the rest
	// refused.
	_, err = a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", DeletionProtection: ptr.To(true)})
	if st := a.describe(t, "team").Status; st == types.ClusterStatusCreating {
		assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: "team"})
	}
	a.waitActive(t, "team")
	if _, err := a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", DeletionProtection: ptr.To(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.api.DeleteCluster(ctx, &types.DeleteClusterRequest{Name: "team"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: "team"})
	if _, err := a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", DeletionProtection: ptr.To(false)}); err != nil {
		t.Fatal(err)
	}
	up, err := a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", Logging: &types.Logging{ClusterLogging: []types.LogSetup{{Types: []types.LogType{types.LogTypeApi, types.LogTypeAudit}, Enabled: ptr.To(true)}}}})
	if err != nil || up.Update.Status != types.UpdateStatusSuccessful || up.Update.Type != types.UpdateTypeLoggingUpdate {
		t.Fatalf("UpdateClusterConfig: %+v, %v", up, err)
	}
	got := a.describe(t, "team").Logging.ClusterLogging
	if len(got) != 2 || !*got[0].Enabled || !reflect.DeepEqual(got[0].Types, []types.LogType{types.LogTypeApi, types.LogTypeAudit}) {
		t.Errorf("logging after the update: %+v", got)
	}
	du, err := a.api.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: "team", UpdateId: up.Update.Id})
	if err != nil || du.Update.Id != up.Update.Id {
		t.Errorf("DescribeUpdate: %+v, %v", du, err)
	}
	lu, err := a.api.ListUpdates(ctx, &types.ListUpdatesRequest{Name: "team"})
	if err != nil || len(lu.UpdateIds) != 3 || lu.UpdateIds[2] != up.Update.Id {
		t.Errorf("ListUpdates: %+v, %v", lu, err)
	}
	if _, err := a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", AccessConfig: &types.UpdateAccessConfigRequest{AuthenticationMode: types.AuthenticationModeApi}}); err != nil {
		t.Error(err)
	}
	_, err = a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", AccessConfig: &types.UpdateAccessConfigRequest{AuthenticationMode: types.AuthenticationModeApiAndConfigMap}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "team", Fields: []string{"accessConfig.authenticationMode"}})
	_, err = a.api.UpdateClusterConfig(ctx, &types.UpdateClusterConfigRequest{Name: "team", ResourcesVpcConfig: &types.VpcConfigRequest{}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "team"})

	// Tags on the created cluster's ARN.
	if _, err := a.api.TagResource(ctx, &types.TagResourceRequest{ResourceArn: c.Arn, Tags: map[string]string{"env": "prod", "cost": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.api.UntagResource(ctx, &types.UntagResourceRequest{ResourceArn: c.Arn, TagKeys: []string{"cost"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := a.api.ListTagsForResource(ctx, &types.ListTagsForResourceRequest{ResourceArn: c.Arn})
	if err != nil || !reflect.DeepEqual(tags.Tags, map[string]string{"env": "prod"}) {
		t.Errorf("tags %+v, %v", tags, err)
	}
	_, err = a.api.TagResource(ctx, &types.TagResourceRequest{ResourceArn: c.Arn, Tags: map[string]string{"aws:no": "x"}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest})
	_, err = a.api.ListTagsForResource(ctx, &types.ListTagsForResourceRequest{ResourceArn: strings.Replace(c.Arn, "/team", "/gone", 1)})
	assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
	if d := a.describe(t, "team"); !reflect.DeepEqual(d.Tags, map[string]string{"env": "prod"}) {
		t.Errorf("DescribeCluster's tags %+v", d.Tags)
	}
}
