package eks

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/tags"
)

// ClustersConfig is what Clusters needs.
type ClustersConfig struct {
	// Own is the Service of the cluster kdp runs; nil when kdp runs none
	// (tests of the cluster operations alone).
	Own *Service
	// Registry keeps the clusters CreateCluster made.
	Registry *clusters.Registry
	// Cloud is the account's cloud (its subnets); Account its account.
	Cloud   cloud.Provider
	Account cloud.Account
	// Versions are the Kubernetes minor versions a new cluster may have,
	// the default (the newest) first.
	Versions []string
	// PlatformVersion is kdp's platform version (eks.N).
	PlatformVersion string
	// ServiceIPv4CIDR is the service range of every cluster kdp runs.
	ServiceIPv4CIDR string
	// MaxClusters bounds the clusters CreateCluster makes (kdp's own not
	// counted); 0 allows none.
	MaxClusters int
	// Controllers says kdp runs controllers for each created cluster: a
	// cluster is then ACTIVE once they serve it (SetService), not as soon
	// as its API server is ready, so that CreateNodegroup is accepted
	// whenever DescribeCluster says ACTIVE.
	Controllers bool
	Clock       clock.PassiveClock
}

// Clusters is the EKS API of an account's clusters: the cluster kdp runs
// (Own), and those CreateCluster made, each a control plane of its own
// whose node groups and Fargate profiles a Service of its own serves
// once it is ACTIVE. Cluster and access-entry operations are its own;
// the others go to the Service of the cluster they name.
type Clusters struct {
	cfg ClustersConfig

	mu       sync.RWMutex
	services map[string]*Service
	// served are the clusters whose controllers have served since kdp
	// started (their Service was set once).
	served map[string]bool
}

var _ types.API = (*Clusters)(nil)

// NewClusters returns a Clusters.
func NewClusters(cfg ClustersConfig) *Clusters {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Clusters{cfg: cfg, services: map[string]*Service{}, served: map[string]bool{}}
}

// SetService makes svc the Service of the created cluster name (once its
// controllers run); nil removes it.
func (c *Clusters) SetService(name string, svc *Service) {
	if svc != nil {
		// Controllers that came up as their cluster was being deleted
		// serve nothing.
		if _, st, ok := c.registryGet(name); !ok || st.Phase == types.ClusterStatusDeleting {
			return
		}
	}
	if svc != nil {
		if err := c.cfg.Registry.Update(name, func(r *clusters.Record) error { r.WasActive = true; return nil }); err != nil {
			return // deleted meanwhile
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if svc == nil {
		delete(c.services, name)
	} else {
		c.services[name] = svc
		c.served[name] = true
	}
}

// own reports whether name is the cluster kdp runs.
func (c *Clusters) own(name string) bool { return c.cfg.Own != nil && name == c.cfg.Own.clus.Name }

// service is the Service of the cluster name, for an operation on its
// node groups, profiles or updates: ResourceNotFoundException if there is
// no such cluster, InvalidRequestException if it is not ACTIVE (as EKS
// refuses CreateNodegroup on a cluster being created).
func (c *Clusters) service(name string) (*Service, *Error) {
	if name == "" {
		return nil, invalidParameter("name", "the cluster name is required")
	}
	if c.own(name) {
		return c.cfg.Own, nil
	}
	rec, st, ok := c.registryGet(name)
	if !ok {
		return nil, clusterNotFound(name)
	}
	c.mu.RLock()
	svc := c.services[name]
	c.mu.RUnlock()
	phase := c.phase(name, rec, st)
	if phase == types.ClusterStatusUpdating || (phase == types.ClusterStatusActive && svc == nil) {
		// Its node groups are there, their controllers not yet: the
		// SDKs and the aws CLI retry this.
		return nil, &Error{Code: CodeServiceUnavailable, ClusterName: name, Message: "kdp is starting cluster " + name + "'s control plane and controllers: try again in a few seconds"}
	}
	if phase != types.ClusterStatusActive {
		return nil, &Error{Code: CodeInvalidRequest, ClusterName: name, Message: fmt.Sprintf("Cluster '%s' is not in ACTIVE status", name)}
	}
	return svc, nil
}

// phase is a created cluster's status: the registry's, but CREATING
// until its controllers first serve it, when kdp runs them.
//
// A cluster that was ACTIVE before (kdp restarted, or its controllers are
// starting again) is UPDATING meanwhile: it has what it had, and comes
// back.
func (c *Clusters) phase(name string, rec clusters.Record, st clusters.Status) types.ClusterStatus {
	if !c.cfg.Controllers || (st.Phase != types.ClusterStatusActive && st.Phase != types.ClusterStatusCreating) {
		return st.Phase
	}
	c.mu.RLock()
	served := c.served[name]
	c.mu.RUnlock()
	switch {
	case st.Phase == types.ClusterStatusActive && served:
		return types.ClusterStatusActive
	case rec.WasActive:
		return types.ClusterStatusUpdating
	}
	return types.ClusterStatusCreating
}

func clusterNotFound(name string) *Error {
	return &Error{Code: CodeResourceNotFound, ClusterName: name, Message: "No cluster found for name: " + name + "."}
}

// clusterARN is the ARN of the cluster name in the account.
func (c *Clusters) clusterARN(name string) string {
	return "arn:aws:eks:" + c.cfg.Account.Region + ":" + c.cfg.Account.ID + ":cluster/" + name
}

// The IAM role ARN form, and a security group's id.
var (
	iamRolePattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	securityGroupID = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
)

// logTypes are the control plane's log types, in EKS's order.
var logTypes = []types.LogType{types.LogTypeApi, types.LogTypeAudit, types.LogTypeAuthenticator, types.LogTypeControllerManager, types.LogTypeScheduler}

// CreateCluster validates the request as EKS does, records the cluster and
// starts its control plane; the cluster is CREATING until its API server
// is ready, then ACTIVE. A request with the clientRequestToken of one that
// created a cluster answers that cluster.
func (c *Clusters) CreateCluster(ctx context.Context, in *types.CreateClusterRequest) (*types.CreateClusterResponse, error) {
	if c.cfg.Registry == nil {
		return nil, &Error{Code: CodeInvalidRequest, ClusterName: in.Name, Message: "This kdp creates no clusters: it runs its controllers against a cluster of its own (kdp up --kubeconfig)"}
	}
	req := *in
	req.ClientRequestToken = ""
	sum := digest(&req)
	if in.Name != "" {
		if rec, _, ok := c.cfg.Registry.Get(in.Name); ok || c.own(in.Name) {
			if ok && in.ClientRequestToken != "" && rec.Cluster.ClientRequestToken == in.ClientRequestToken {
				if rec.RequestDigest != sum {
					return nil, &Error{Code: CodeInvalidRequest, ClusterName: in.Name, Message: "The clientRequestToken was used by a different CreateCluster request: send this request with a new token"}
				}
				d, e := c.describe(ctx, in.Name)
				if e != nil {
					return nil, e
				}
				return &types.CreateClusterResponse{Cluster: d}, nil
			}
			return nil, &Error{Code: CodeResourceInUse, ClusterName: in.Name, Message: "Cluster already exists with name: " + in.Name}
		}
	}
	subnets, err := c.cfg.Cloud.Subnets(ctx)
	if err != nil {
		return nil, serverError(err, "reading the cloud's subnets")
	}
	if e := c.validateCreate(in, subnets); e != nil {
		return nil, e
	}
	rec := c.newRecord(ctx, in, sum)
	if err := c.cfg.Registry.Create(rec, c.cfg.MaxClusters); errors.Is(err, clusters.ErrExists) {
		return nil, &Error{Code: CodeResourceInUse, ClusterName: in.Name, Message: "Cluster already exists with name: " + in.Name}
	} else if errors.Is(err, clusters.ErrLimit) {
		return nil, &Error{Code: CodeResourceLimitExceeded, ClusterName: in.Name, Message: fmt.Sprintf(
			"kdp runs at most %d clusters beside its own (--max-clusters, sized to this machine: each is a control plane of its own); delete one first", c.cfg.MaxClusters)}
	} else if err != nil {
		return nil, serverError(err, "recording the cluster")
	}
	d, e := c.describe(ctx, in.Name)
	if e != nil {
		return nil, e
	}
	return &types.CreateClusterResponse{Cluster: d}, nil
}

// validateCreate checks a CreateCluster request, every problem at once.
func (c *Clusters) validateCreate(in *types.CreateClusterRequest, subnets []cloud.Subnet) *Error {
	var ps problems
	switch msg := cluster.NameError(in.Name); {
	case in.Name == "":
		ps.add("name", "name %s", msg)
	case msg != "":
		ps.add("name", "name %q %s", in.Name, msg)
	}
	if in.Version != "" && !slices.Contains(c.cfg.Versions, in.Version) {
		ps.add("version", "unsupported Kubernetes version %s: kdp runs %s", in.Version, strings.Join(c.cfg.Versions, ", "))
	}
	switch {
	case in.RoleArn == "":
		ps.add("roleArn", "roleArn is required: the cluster's IAM role, arn:aws:iam::<account>:role/<name>")
	case !iamRolePattern.MatchString(in.RoleArn):
		ps.add("roleArn", "roleArn %q is not an IAM role's ARN: arn:aws:iam::<12-digit account>:role/<name>", in.RoleArn)
	}
	vpc := in.ResourcesVpcConfig
	if vpc == nil || len(vpc.SubnetIds) == 0 {
		ps.add("resourcesVpcConfig.subnetIds", "resourcesVpcConfig.subnetIds is required: subnets in at least two availability zones")
	} else {
		zones := map[string]bool{}
		for i, id := range vpc.SubnetIds {
			k := slices.IndexFunc(subnets, func(s cloud.Subnet) bool { return s.ID == id })
			if k < 0 {
				ps.add(fmt.Sprintf("resourcesVpcConfig.subnetIds[%d]", i), "The subnet ID '%s' does not exist (the cloud's are %s)", id, subnetIDs(subnets))
				continue
			}
			zones[subnets[k].Zone] = true
		}
		if len(zones) == 1 {
			ps.add("resourcesVpcConfig.subnetIds", "Subnets specified must be in at least two different AZs")
		}
		for i, id := range vpc.SecurityGroupIds {
			if !securityGroupID.MatchString(id) {
				ps.add(fmt.Sprintf("resourcesVpcConfig.securityGroupIds[%d]", i), "%q is not a security group id (sg- and 8 or 17 hexadecimal digits)", id)
			}
		}
		if len(vpc.SecurityGroupIds) > 5 {
			ps.add("resourcesVpcConfig.securityGroupIds", "at most 5 security groups, not %d", len(vpc.SecurityGroupIds))
		}
		if vpc.EndpointPublicAccess != nil && vpc.EndpointPrivateAccess != nil && !*vpc.EndpointPublicAccess && !*vpc.EndpointPrivateAccess {
			ps.add("resourcesVpcConfig", "the cluster's endpoint must be public or private access, or both")
		}
	}
	if n := in.KubernetesNetworkConfig; n != nil {
		if n.ServiceIpv4Cidr != "" && n.ServiceIpv4Cidr != c.cfg.ServiceIPv4CIDR {
			ps.add("kubernetesNetworkConfig.serviceIpv4Cidr", "kdp's clusters have the service range %s, not %s: leave it out, or give that one", c.cfg.ServiceIPv4CIDR, n.ServiceIpv4Cidr)
		}
		if n.IpFamily != "" && n.IpFamily != types.IpFamilyIpv4 {
			ps.add("kubernetesNetworkConfig.ipFamily", "kdp's clusters are ipv4 only, not %s", n.IpFamily)
		}
	}
	if in.Logging != nil {
		validateLogging(in.Logging, "logging", &ps)
	}
	if a := in.AccessConfig; a != nil {
		switch a.AuthenticationMode {
		case "", types.AuthenticationModeApi, types.AuthenticationModeApiAndConfigMap:
		case types.AuthenticationModeConfigMap:
			ps.add("accessConfig.authenticationMode", "kdp maps IAM identities with access entries: authenticationMode must be API or API_AND_CONFIG_MAP (kdp does not read the aws-auth ConfigMap)")
		default:
			ps.add("accessConfig.authenticationMode", "authenticationMode %q must be API, API_AND_CONFIG_MAP or CONFIG_MAP", a.AuthenticationMode)
		}
	}
	if in.Tags != nil {
		for _, fe := range tags.Validate(in.Tags, field.NewPath("tags")) {
			ps.add("tags", "%s", fe.Error())
		}
	}
	if len(in.EncryptionConfig) > 0 {
		ps.add("encryptionConfig", "kdp does not encrypt secrets with KMS keys: leave encryptionConfig out")
	}
	if in.OutpostConfig != nil || in.RemoteNetworkConfig != nil || in.ComputeConfig != nil || in.StorageConfig != nil || in.ControlPlaneScalingConfig != nil {
		ps.add("", "kdp's clusters have no Outposts, remote networks, EKS Auto Mode compute or storage, or control plane tiers: leave outpostConfig, remoteNetworkConfig, computeConfig, storageConfig and controlPlaneScalingConfig out")
	}
	if u := in.UpgradePolicy; u != nil && u.SupportType != "" && u.SupportType != types.SupportTypeStandard && u.SupportType != types.SupportTypeExtended {
		ps.add("upgradePolicy.supportType", "supportType %q must be STANDARD or EXTENDED", u.SupportType)
	}
	return ps.err(in.Name)
}

// validateLogging checks a logging config's types.
func validateLogging(l *types.Logging, member string, ps *problems) {
	for i, setup := range l.ClusterLogging {
		for j, t := range setup.Types {
			if !slices.Contains(logTypes, t) {
				ps.add(fmt.Sprintf("%s.clusterLogging[%d].types[%d]", member, i, j), "log type %q must be one of api, audit, authenticator, controllerManager, scheduler", t)
			}
		}
	}
}

func subnetIDs(subnets []cloud.Subnet) string {
	ids := make([]string, 0, len(subnets))
	for _, s := range subnets {
		ids = append(ids, s.ID)
	}
	return strings.Join(ids, ", ")
}

// newRecord is the record of a valid CreateCluster request, with EKS's
// defaults filled in.
func (c *Clusters) newRecord(ctx context.Context, in *types.CreateClusterRequest, digest string) *clusters.Record {
	version := in.Version
	if version == "" {
		version = c.cfg.Versions[0]
	}
	arn := c.clusterARN(in.Name)
	vpc := &types.VpcConfigResponse{
		SubnetIds: slices.Clone(in.ResourcesVpcConfig.SubnetIds), SecurityGroupIds: slices.Clone(in.ResourcesVpcConfig.SecurityGroupIds),
		PublicAccessCidrs: slices.Clone(in.ResourcesVpcConfig.PublicAccessCidrs),
		VpcId:             "vpc-" + shortHash(c.cfg.Account.ID+"/"+c.cfg.Account.Region, 17),
		// The security group EKS makes for each cluster.
		ClusterSecurityGroupId: "sg-" + shortHash(arn, 17),
		EndpointPublicAccess:   true,
	}
	if p := in.ResourcesVpcConfig.EndpointPublicAccess; p != nil {
		vpc.EndpointPublicAccess = *p
	}
	if p := in.ResourcesVpcConfig.EndpointPrivateAccess; p != nil {
		vpc.EndpointPrivateAccess = *p
	}
	if vpc.EndpointPublicAccess && len(vpc.PublicAccessCidrs) == 0 {
		vpc.PublicAccessCidrs = []string{"0.0.0.0/0"}
	}
	access := &types.AccessConfigResponse{AuthenticationMode: types.AuthenticationModeApiAndConfigMap, BootstrapClusterCreatorAdminPermissions: ptrTo(true)}
	if a := in.AccessConfig; a != nil {
		if a.AuthenticationMode != "" {
			access.AuthenticationMode = a.AuthenticationMode
		}
		if a.BootstrapClusterCreatorAdminPermissions != nil {
			access.BootstrapClusterCreatorAdminPermissions = ptrTo(*a.BootstrapClusterCreatorAdminPermissions)
		}
	}
	now := c.cfg.Clock.Now()
	rec := &clusters.Record{
		Cluster: types.Cluster{
			Name: in.Name, Arn: arn, CreatedAt: types.NewTimestamp(now), Version: version, RoleArn: in.RoleArn,
			ResourcesVpcConfig: vpc,
			KubernetesNetworkConfig: &types.KubernetesNetworkConfigResponse{
				ServiceIpv4Cidr: c.cfg.ServiceIPv4CIDR, IpFamily: types.IpFamilyIpv4,
			},
			Logging: mergeLogging(defaultLogging(), in.Logging),
			Identity: &types.Identity{Oidc: &types.OIDC{
				Issuer: "https://oidc.eks." + c.cfg.Account.Region + ".amazonaws.com/id/" + strings.ToUpper(shortHash(arn, 32)),
			}},
			PlatformVersion:    c.cfg.PlatformVersion,
			DeletionProtection: ptrTo(in.DeletionProtection != nil && *in.DeletionProtection),
			UpgradePolicy:      &types.UpgradePolicyResponse{SupportType: types.SupportTypeExtended},
			Tags:               maps.Clone(in.Tags),
			AccessConfig:       access,
			ClientRequestToken: in.ClientRequestToken,
		},
		RequestDigest: digest,
		CreatedBy:     Principal(ctx),
	}
	if u := in.UpgradePolicy; u != nil && u.SupportType != "" {
		rec.Cluster.UpgradePolicy.SupportType = u.SupportType
	}
	if z := in.ZonalShiftConfig; z != nil && z.Enabled != nil {
		rec.Cluster.ZonalShiftConfig = &types.ZonalShiftConfigResponse{Enabled: ptrTo(*z.Enabled)}
	}
	if principal := Principal(ctx); principal != "" && *access.BootstrapClusterCreatorAdminPermissions {
		// EKS gives the cluster's creator an access entry with cluster
		// admin permissions, unless asked not to.
		entry := c.newAccessEntry(in.Name, principal, "STANDARD", "", nil, nil)
		rec.AccessEntries = append(rec.AccessEntries, clusters.AccessEntry{Entry: entry, Policies: []types.AssociatedAccessPolicy{{
			PolicyArn: policyARNPrefix + "AmazonEKSClusterAdminPolicy", AccessScope: &types.AccessScope{Type: types.AccessScopeTypeCluster},
			AssociatedAt: types.NewTimestamp(now), ModifiedAt: types.NewTimestamp(now),
		}}})
	}
	return rec
}

// defaultLogging is EKS's: every log type, disabled.
func defaultLogging() *types.Logging {
	return &types.Logging{ClusterLogging: []types.LogSetup{{Types: slices.Clone(logTypes), Enabled: ptrTo(false)}}}
}

// mergeLogging is the logging config cur with the change of req: the
// types req enables or disables move to an enabled or a disabled entry,
// as EKS answers them (one entry each, enabled first).
func mergeLogging(cur, req *types.Logging) *types.Logging {
	enabled := map[types.LogType]bool{}
	for _, s := range cur.ClusterLogging {
		for _, t := range s.Types {
			enabled[t] = s.Enabled != nil && *s.Enabled
		}
	}
	if req != nil {
		for _, s := range req.ClusterLogging {
			for _, t := range s.Types {
				enabled[t] = s.Enabled != nil && *s.Enabled
			}
		}
	}
	var on, off []types.LogType
	for _, t := range logTypes {
		if enabled[t] {
			on = append(on, t)
		} else {
			off = append(off, t)
		}
	}
	out := &types.Logging{}
	if len(on) > 0 {
		out.ClusterLogging = append(out.ClusterLogging, types.LogSetup{Types: on, Enabled: ptrTo(true)})
	}
	if len(off) > 0 {
		out.ClusterLogging = append(out.ClusterLogging, types.LogSetup{Types: off, Enabled: ptrTo(false)})
	}
	return out
}

// DescribeCluster describes a cluster: kdp's own, or one CreateCluster
// made, with its status, endpoint and certificate authority once its API
// server is ready, and its health (a control plane kdp restarted).
func (c *Clusters) DescribeCluster(ctx context.Context, in *types.DescribeClusterRequest) (*types.DescribeClusterResponse, error) {
	if c.own(in.Name) {
		return c.cfg.Own.DescribeCluster(ctx, in)
	}
	if in.Name == "" {
		return nil, invalidParameter("name", "the cluster name is required")
	}
	d, e := c.describe(ctx, in.Name)
	if e != nil {
		return nil, e
	}
	return &types.DescribeClusterResponse{Cluster: d}, nil
}

// describe is a created cluster as DescribeCluster answers it.
func (c *Clusters) describe(_ context.Context, name string) (*types.Cluster, *Error) {
	rec, st, ok := c.registryGet(name)
	if !ok {
		return nil, clusterNotFound(name)
	}
	out := rec.Cluster
	out.ClientRequestToken = ""
	out.Status = c.phase(name, rec, st)
	if st.Endpoint != "" {
		out.Endpoint = st.Endpoint
		out.CertificateAuthority = &types.Certificate{Data: base64.StdEncoding.EncodeToString(st.CA)}
	}
	var issues []types.ClusterIssue
	if out.Status == types.ClusterStatusUpdating {
		issues = append(issues, types.ClusterIssue{Code: types.ClusterIssueCodeClusterUnreachable, Message: "kdp is starting the cluster's control plane and its controllers"})
	}
	if st.Failure != "" {
		issues = append(issues, types.ClusterIssue{Code: types.ClusterIssueCodeInternalFailure, Message: st.Failure})
	}
	if st.Down && st.Phase == types.ClusterStatusActive {
		issues = append(issues, types.ClusterIssue{Code: types.ClusterIssueCodeClusterUnreachable, Message: fmt.Sprintf(
			"The control plane stopped (%s) at %s; kdp is restarting it", st.LastExit, st.LastExitAt.UTC().Format(rfc3339))})
	} else if st.Restarts > 0 {
		issues = append(issues, types.ClusterIssue{Code: types.ClusterIssueCodeOther, Message: fmt.Sprintf(
			"kdp restarted the control plane %d time(s) since it started; the last stopped (%s) at %s", st.Restarts, st.LastExit, st.LastExitAt.UTC().Format(rfc3339))})
	}
	out.Health = &types.ClusterHealth{Issues: issues}
	if len(issues) == 0 {
		out.Health = &types.ClusterHealth{Issues: []types.ClusterIssue{}}
	}
	return &out, nil
}

const rfc3339 = "2006-01-02T15:04:05Z07:00"

// ListClusters lists kdp's cluster and those CreateCluster made, sorted
// by name, a page at a time.
func (c *Clusters) ListClusters(_ context.Context, in *types.ListClustersRequest) (*types.ListClustersResponse, error) {
	var names []string
	if c.cfg.Registry != nil {
		names = c.cfg.Registry.Names()
	}
	if c.cfg.Own != nil {
		names = append(names, c.cfg.Own.clus.Name)
		slices.Sort(names)
	}
	page, next, e := pageOf(names, in.MaxResults, in.NextToken)
	if e != nil {
		return nil, e
	}
	return &types.ListClustersResponse{Clusters: page, NextToken: next}, nil
}

// DeleteCluster deletes a cluster CreateCluster made: refused while it has
// node groups or Fargate profiles (ResourceInUseException, as EKS), then
// DELETING while its controllers and control plane stop and its data is
// removed. kdp's own cluster is not deleted through the API.
func (c *Clusters) DeleteCluster(ctx context.Context, in *types.DeleteClusterRequest) (*types.DeleteClusterResponse, error) {
	if c.own(in.Name) {
		return nil, &Error{Code: CodeInvalidRequest, ClusterName: in.Name, Message: "Cluster " + in.Name + " is the one kdp runs: it is not deleted through the API (stop kdp, and remove its data dir)"}
	}
	if in.Name == "" {
		return nil, invalidParameter("name", "the cluster name is required")
	}
	rec, st, ok := c.registryGet(in.Name)
	if !ok {
		return nil, clusterNotFound(in.Name)
	}
	if st.Phase == types.ClusterStatusDeleting {
		d, e := c.describe(ctx, in.Name)
		if e != nil {
			return nil, e
		}
		return &types.DeleteClusterResponse{Cluster: d}, nil
	}
	if aws := rec.Cluster.DeletionProtection; aws != nil && *aws {
		return nil, &Error{Code: CodeInvalidRequest, ClusterName: in.Name, Message: "Cluster " + in.Name + " has deletion protection enabled: turn it off first (update-cluster-config --no-deletion-protection)"}
	}
	if rec.WasActive {
		// It may have node groups or profiles: only its Service knows.
		svc, e := c.service(in.Name)
		if e != nil {
			return nil, e
		}
		{
			ngs, err := svc.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: in.Name, MaxResults: ptrTo[int32](1)})
			if err != nil {
				return nil, err
			}
			if len(ngs.Nodegroups) > 0 {
				return nil, &Error{Code: CodeResourceInUse, ClusterName: in.Name, Message: "Cluster has nodegroups attached"}
			}
			fps, err := svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: in.Name, MaxResults: ptrTo[int32](1)})
			if err != nil {
				return nil, err
			}
			if len(fps.FargateProfileNames) > 0 {
				return nil, &Error{Code: CodeResourceInUse, ClusterName: in.Name, Message: "Cluster has fargate profiles attached"}
			}
		}
	}
	// The registry marks it DELETING, stops its controllers (its
	// Deleting hook), then its control plane.
	if _, err := c.cfg.Registry.Delete(in.Name); errors.Is(err, clusters.ErrNotFound) {
		return nil, clusterNotFound(in.Name)
	} else if err != nil {
		return nil, serverError(err, "deleting the cluster")
	}
	c.mu.Lock()
	delete(c.services, in.Name)
	delete(c.served, in.Name)
	c.mu.Unlock()
	d, e := c.describe(ctx, in.Name)
	if e != nil {
		return nil, e
	}
	d.Status = types.ClusterStatusDeleting
	return &types.DeleteClusterResponse{Cluster: d}, nil
}

// UpdateClusterConfig changes what kdp can change of a created cluster:
// its logging and its access config (authenticationMode from
// API_AND_CONFIG_MAP to API, as EKS allows). The update is Successful at
// once, and DescribeUpdate finds it.
func (c *Clusters) UpdateClusterConfig(ctx context.Context, in *types.UpdateClusterConfigRequest) (*types.UpdateClusterConfigResponse, error) {
	if c.own(in.Name) {
		return nil, &Error{Code: CodeInvalidRequest, ClusterName: in.Name, Message: "Cluster " + in.Name + " is the one kdp runs: its configuration is kdp's flags"}
	}
	rec, st, ok := c.registryGet(in.Name)
	if !ok {
		return nil, clusterNotFound(in.Name)
	}
	if phase := c.phase(in.Name, rec, st); phase != types.ClusterStatusActive {
		return nil, &Error{Code: CodeResourceInUse, ClusterName: in.Name, Message: fmt.Sprintf("Cluster %s is %s: its configuration changes once it is ACTIVE", in.Name, phase)}
	}
	var ps problems
	var params []types.UpdateParam
	var kind types.UpdateType
	one := func(k types.UpdateType) {
		if kind != "" {
			ps.add("", "give one of logging, accessConfig and deletionProtection per update")
		}
		kind = k
	}
	if in.Logging != nil {
		validateLogging(in.Logging, "logging", &ps)
		one(types.UpdateTypeLoggingUpdate)
		params = append(params, types.UpdateParam{Type: types.UpdateParamTypeClusterLogging, Value: jsonString(in.Logging)})
	}
	if a := in.AccessConfig; a != nil && a.AuthenticationMode != "" {
		cur := rec.Cluster.AccessConfig.AuthenticationMode
		switch {
		case a.AuthenticationMode == cur:
			ps.add("accessConfig.authenticationMode", "the cluster's authenticationMode is %s already", cur)
		case a.AuthenticationMode == types.AuthenticationModeApi && cur == types.AuthenticationModeApiAndConfigMap:
		default:
			ps.add("accessConfig.authenticationMode", "authenticationMode can change from API_AND_CONFIG_MAP to API only, not from %s to %s", cur, a.AuthenticationMode)
		}
		one(types.UpdateTypeAccessConfigUpdate)
		params = append(params, types.UpdateParam{Type: types.UpdateParamTypeAuthenticationMode, Value: string(a.AuthenticationMode)})
	}
	if in.DeletionProtection != nil {
		one(types.UpdateTypeDeletionProtectionUpdate)
		params = append(params, types.UpdateParam{Type: types.UpdateParamTypeDeletionProtection, Value: fmt.Sprint(*in.DeletionProtection)})
	}
	if in.ResourcesVpcConfig != nil || in.KubernetesNetworkConfig != nil || in.ComputeConfig != nil || in.StorageConfig != nil ||
		in.UpgradePolicy != nil || in.ZonalShiftConfig != nil || in.RemoteNetworkConfig != nil || in.ControlPlaneScalingConfig != nil {
		ps.add("", "kdp changes a cluster's logging, accessConfig and deletionProtection (and its tags, with TagResource); the rest of its configuration is fixed")
	}
	if kind == "" && len(ps) == 0 {
		ps.add("", "the request changes nothing: give logging, accessConfig or deletionProtection")
	}
	if e := ps.err(in.Name); e != nil {
		return nil, e
	}
	now := c.cfg.Clock.Now()
	u := types.Update{Id: newUUID(in.Name + "/" + in.ClientRequestToken + "/" + now.String()), Status: types.UpdateStatusSuccessful, Type: kind, Params: params, CreatedAt: types.NewTimestamp(now), Errors: []types.ErrorDetail{}}
	if in.ClientRequestToken != "" {
		if i := slices.IndexFunc(rec.Updates, func(x types.Update) bool { return x.Id == newUUID(in.Name+"/"+in.ClientRequestToken) }); i >= 0 {
			return &types.UpdateClusterConfigResponse{Update: &rec.Updates[i]}, nil
		}
		u.Id = newUUID(in.Name + "/" + in.ClientRequestToken)
	}
	e := c.updateRecord(in.Name, "recording the update", func(r *clusters.Record) error {
		switch kind {
		case types.UpdateTypeLoggingUpdate:
			r.Cluster.Logging = mergeLogging(r.Cluster.Logging, in.Logging)
		case types.UpdateTypeAccessConfigUpdate:
			r.Cluster.AccessConfig.AuthenticationMode = in.AccessConfig.AuthenticationMode
		case types.UpdateTypeDeletionProtectionUpdate:
			r.Cluster.DeletionProtection = ptrTo(*in.DeletionProtection)
		}
		r.Updates = append(r.Updates, u)
		return nil
	})
	if e != nil {
		return nil, e
	}
	return &types.UpdateClusterConfigResponse{Update: &u}, nil
}

// updateRecord changes a created cluster's record: ResourceNotFound if it
// is gone, ResourceInUse while it is being deleted.
func (c *Clusters) updateRecord(name, doing string, change func(*clusters.Record) error) *Error {
	err := c.cfg.Registry.Update(name, change)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, clusters.ErrNotFound):
		return clusterNotFound(name)
	case errors.Is(err, clusters.ErrDeleting):
		return &Error{Code: CodeResourceInUse, ClusterName: name, Message: "Cluster " + name + " is being deleted"}
	}
	if e, ok := AsError(err); ok {
		return e
	}
	return serverError(err, doing)
}

// problems are an InvalidParameterException's, gathered.
type problems []Problem

func (ps *problems) add(member, format string, args ...any) {
	*ps = append(*ps, Problem{Field: member, Message: fmt.Sprintf(format, args...)})
}

// err is the InvalidParameterException of the problems, nil if none.
func (ps problems) err(cluster string) *Error {
	if len(ps) == 0 {
		return nil
	}
	e := &Error{Code: CodeInvalidParameter, ClusterName: cluster, Problems: ps}
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		msgs = append(msgs, p.Message)
		if p.Field != "" && !slices.Contains(e.Fields, p.Field) {
			e.Fields = append(e.Fields, p.Field)
		}
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

// shortHash is n hexadecimal digits of s's SHA-256.
func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// newUUID is a UUID-formed id derived from s.
func newUUID(s string) string {
	h := shortHash(s, 32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func ptrTo[T any](v T) *T { return &v }

// jsonString is v as JSON (an update's param value).
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
