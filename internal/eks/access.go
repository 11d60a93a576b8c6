package eks

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/tags"
)

// Access entries map IAM principals to Kubernetes identities in the
// clusters CreateCluster made (kdp's own cluster uses its certificates).
// kdp's token authenticator (internal/iamauth) answers a principal's
// token with the entry's username and groups, and one group per access
// policy associated at cluster scope, which each cluster binds to the
// policy's Kubernetes role (PolicyBindings).

const policyARNPrefix = "arn:aws:eks::aws:cluster-access-policy/"

// AccessPolicy is an EKS access policy kdp grants, and the Kubernetes
// ClusterRole that grants it in a cluster.
type AccessPolicy struct {
	Name        string
	ClusterRole string
}

// AccessPolicies are the access policies kdp knows, as ListAccessPolicies
// lists them. AmazonEKSAdminViewPolicy is granted as view (which does not
// read Secrets): kdp has no role of its own for it.
var AccessPolicies = []AccessPolicy{
	{Name: "AmazonEKSAdminPolicy", ClusterRole: "admin"},
	{Name: "AmazonEKSAdminViewPolicy", ClusterRole: "view"},
	{Name: "AmazonEKSClusterAdminPolicy", ClusterRole: "cluster-admin"},
	{Name: "AmazonEKSEditPolicy", ClusterRole: "edit"},
	{Name: "AmazonEKSViewPolicy", ClusterRole: "view"},
}

// PolicyARN is an access policy's ARN.
func (p AccessPolicy) PolicyARN() string { return policyARNPrefix + p.Name }

// Group is the Kubernetes group of the principals the policy is
// associated with at cluster scope.
func (p AccessPolicy) Group() string { return "kdp:access-policy:" + p.Name }

// policyOf is the access policy of an ARN.
func policyOf(arn string) (AccessPolicy, bool) {
	i := slices.IndexFunc(AccessPolicies, func(p AccessPolicy) bool { return p.PolicyARN() == arn })
	if i < 0 {
		return AccessPolicy{}, false
	}
	return AccessPolicies[i], true
}

// The access entry types EKS has; kdp's token authenticator maps STANDARD
// ones (the EC2 and Fargate kinds are for nodes, which join with kdp's
// bootstrap tokens).
var accessEntryTypes = []string{"STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"}

// principalPattern is an IAM user's or role's ARN.
var principalPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):(user|role)/([A-Za-z0-9+=,.@_/-]{1,512})$`)

// newAccessEntry is an access entry, with EKS's default username: the ARN
// for a user, the assumed role's session ARN for a role, a node's name
// for a node's role.
func (c *Clusters) newAccessEntry(cluster, principal, kind, username string, groups []string, tagMap map[string]string) types.AccessEntry {
	m := principalPattern.FindStringSubmatch(principal)
	if username == "" {
		switch {
		case kind == "EC2_LINUX" || kind == "EC2_WINDOWS" || kind == "EC2" || kind == "HYBRID_LINUX":
			username = "system:node:{{EC2PrivateDNSName}}"
		case kind == "FARGATE_LINUX":
			username = "system:node:{{SessionName}}"
		case m != nil && m[2] == "role":
			username = "arn:aws:sts::" + m[1] + ":assumed-role/" + lastSegment(m[3]) + "/{{SessionName}}"
		default:
			username = principal
		}
	}
	now := types.NewTimestamp(c.cfg.Clock.Now())
	arn := "arn:aws:eks:" + c.cfg.Account.Region + ":" + c.cfg.Account.ID + ":access-entry/" + cluster
	if m != nil {
		arn += "/" + m[2] + "/" + m[1] + "/" + lastSegment(m[3]) + "/" + newUUID(cluster+"/"+principal+"/"+now.String())
	}
	return types.AccessEntry{
		AccessEntryArn: arn, ClusterName: cluster, PrincipalArn: principal, Type: kind, Username: username,
		KubernetesGroups: slices.Clone(groups), Tags: maps.Clone(tagMap), CreatedAt: now, ModifiedAt: now,
	}
}

func lastSegment(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// accessCluster is the created cluster of an access-entry operation:
// kdp's own cluster has none.
func (c *Clusters) accessCluster(name string) *Error {
	if c.own(name) {
		return &Error{Code: CodeInvalidRequest, ClusterName: name, Message: "Cluster " + name + " is the one kdp runs: its users authenticate with kdp's certificates (kdp credentials), not access entries"}
	}
	if name == "" {
		return invalidParameter("name", "the cluster name is required")
	}
	if c.cfg.Registry == nil {
		return clusterNotFound(name)
	}
	if _, _, ok := c.cfg.Registry.Get(name); !ok {
		return clusterNotFound(name)
	}
	return nil
}

// entry is a copy of the principal's access entry in a created cluster.
func (c *Clusters) entry(cluster, principal string) (*clusters.AccessEntry, *Error) {
	if e := c.accessCluster(cluster); e != nil {
		return nil, e
	}
	rec, _, _ := c.cfg.Registry.Get(cluster)
	a, ok := rec.Entry(principal)
	if !ok {
		return nil, accessEntryNotFound(cluster, principal)
	}
	return a, nil
}

func accessEntryNotFound(cluster, principal string) *Error {
	return &Error{Code: CodeResourceNotFound, ClusterName: cluster, Message: "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'. (" + principal + ")"}
}

// CreateAccessEntry gives an IAM principal an identity in the cluster.
func (c *Clusters) CreateAccessEntry(_ context.Context, in *types.CreateAccessEntryRequest) (*types.CreateAccessEntryResponse, error) {
	if e := c.accessCluster(in.ClusterName); e != nil {
		return nil, e
	}
	kind := in.Type
	if kind == "" {
		kind = "STANDARD"
	}
	var ps problems
	if !principalPattern.MatchString(in.PrincipalArn) {
		ps.add("principalArn", "principalArn %q is not an IAM user's or role's ARN: arn:aws:iam::<account>:user/<name> or :role/<name>", in.PrincipalArn)
	}
	if !slices.Contains(accessEntryTypes, kind) {
		ps.add("type", "type %q must be one of %s", kind, strings.Join(accessEntryTypes, ", "))
	}
	if kind != "STANDARD" && (len(in.KubernetesGroups) > 0 || in.Username != "") {
		ps.add("kubernetesGroups", "The kubernetesGroups and username parameters are only allowed for access entries of type STANDARD")
	}
	for i, g := range in.KubernetesGroups {
		if g == "" || strings.HasPrefix(g, "system:") || strings.HasPrefix(g, "kdp:") {
			ps.add(fmt.Sprintf("kubernetesGroups[%d]", i), "kubernetesGroups %q: a group must not be empty nor begin with system: or kdp:", g)
		}
	}
	if strings.HasPrefix(in.Username, "system:") || strings.HasPrefix(in.Username, "eks:") || strings.HasPrefix(in.Username, "aws:") || strings.HasPrefix(in.Username, "amazon:") {
		ps.add("username", "username %q must not begin with system:, eks:, aws: or amazon:", in.Username)
	}
	if in.Tags != nil {
		for _, fe := range tags.Validate(in.Tags, field.NewPath("tags")) {
			ps.add("tags", "%s", fe.Error())
		}
	}
	if e := ps.err(in.ClusterName); e != nil {
		return nil, e
	}
	entry := c.newAccessEntry(in.ClusterName, in.PrincipalArn, kind, in.Username, in.KubernetesGroups, in.Tags)
	var inUse bool
	ue := c.updateRecord(in.ClusterName, "recording the change", func(r *clusters.Record) error {
		if _, ok := r.Entry(in.PrincipalArn); ok {
			inUse = true
			return nil
		}
		r.AccessEntries = append(r.AccessEntries, clusters.AccessEntry{Entry: entry})
		return nil
	})
	if ue != nil {
		return nil, ue
	}
	if inUse {
		return nil, &Error{Code: CodeResourceInUse, ClusterName: in.ClusterName, Message: "The specified access entry resource is already in use on this cluster."}
	}
	return &types.CreateAccessEntryResponse{AccessEntry: &entry}, nil
}

// DescribeAccessEntry describes a principal's access entry.
func (c *Clusters) DescribeAccessEntry(_ context.Context, in *types.DescribeAccessEntryRequest) (*types.DescribeAccessEntryResponse, error) {
	a, e := c.entry(in.ClusterName, in.PrincipalArn)
	if e != nil {
		return nil, e
	}
	return &types.DescribeAccessEntryResponse{AccessEntry: &a.Entry}, nil
}

// ListAccessEntries lists the principals with access entries, sorted,
// those with the associated policy only if one is given.
func (c *Clusters) ListAccessEntries(_ context.Context, in *types.ListAccessEntriesRequest) (*types.ListAccessEntriesResponse, error) {
	if e := c.accessCluster(in.ClusterName); e != nil {
		return nil, e
	}
	rec, _, _ := c.cfg.Registry.Get(in.ClusterName)
	var names []string
	for _, a := range rec.AccessEntries {
		if in.AssociatedPolicyArn == "" || slices.ContainsFunc(a.Policies, func(p types.AssociatedAccessPolicy) bool { return p.PolicyArn == in.AssociatedPolicyArn }) {
			names = append(names, a.Entry.PrincipalArn)
		}
	}
	slices.Sort(names)
	page, next, e := pageOf(names, in.MaxResults, in.NextToken)
	if e != nil {
		return nil, e
	}
	return &types.ListAccessEntriesResponse{AccessEntries: page, NextToken: next}, nil
}

// DeleteAccessEntry removes a principal's access entry and its policies:
// the principal's tokens are refused once the cluster's API server's cache
// of kdp's answers (10 s) has passed.
func (c *Clusters) DeleteAccessEntry(_ context.Context, in *types.DeleteAccessEntryRequest) (*types.DeleteAccessEntryResponse, error) {
	if e := c.accessCluster(in.ClusterName); e != nil {
		return nil, e
	}
	found := false
	ue := c.updateRecord(in.ClusterName, "recording the change", func(r *clusters.Record) error {
		n := len(r.AccessEntries)
		r.AccessEntries = slices.DeleteFunc(r.AccessEntries, func(a clusters.AccessEntry) bool { return a.Entry.PrincipalArn == in.PrincipalArn })
		found = len(r.AccessEntries) < n
		return nil
	})
	if ue != nil {
		return nil, ue
	}
	if !found {
		return nil, accessEntryNotFound(in.ClusterName, in.PrincipalArn)
	}
	return &types.DeleteAccessEntryResponse{}, nil
}

// AssociateAccessPolicy grants a principal with an access entry an access
// policy at cluster scope (again: its scope is replaced).
func (c *Clusters) AssociateAccessPolicy(_ context.Context, in *types.AssociateAccessPolicyRequest) (*types.AssociateAccessPolicyResponse, error) {
	if e := c.accessCluster(in.ClusterName); e != nil {
		return nil, e
	}
	var ps problems
	if _, ok := policyOf(in.PolicyArn); !ok {
		names := make([]string, 0, len(AccessPolicies))
		for _, p := range AccessPolicies {
			names = append(names, p.PolicyARN())
		}
		ps.add("policyArn", "policyArn %q is not an access policy kdp grants: %s", in.PolicyArn, strings.Join(names, ", "))
	}
	switch {
	case in.AccessScope == nil || in.AccessScope.Type == "":
		ps.add("accessScope.type", "accessScope is required: {type: cluster}")
	case in.AccessScope.Type == types.AccessScopeTypeNamespace:
		ps.add("accessScope.type", "kdp grants access policies at cluster scope only: accessScope type namespace is not supported")
	case in.AccessScope.Type != types.AccessScopeTypeCluster:
		ps.add("accessScope.type", "accessScope type %q must be cluster or namespace", in.AccessScope.Type)
	case len(in.AccessScope.Namespaces) > 0:
		ps.add("accessScope.namespaces", "namespaces are given with accessScope type namespace only")
	}
	if e := ps.err(in.ClusterName); e != nil {
		return nil, e
	}
	now := types.NewTimestamp(c.cfg.Clock.Now())
	var out types.AssociatedAccessPolicy
	found := false
	ue := c.updateRecord(in.ClusterName, "recording the change", func(r *clusters.Record) error {
		a, ok := r.Entry(in.PrincipalArn)
		if !ok {
			return nil
		}
		found = true
		scope := &types.AccessScope{Type: in.AccessScope.Type}
		if i := slices.IndexFunc(a.Policies, func(p types.AssociatedAccessPolicy) bool { return p.PolicyArn == in.PolicyArn }); i >= 0 {
			a.Policies[i].AccessScope, a.Policies[i].ModifiedAt = scope, now
			out = a.Policies[i]
			return nil
		}
		out = types.AssociatedAccessPolicy{PolicyArn: in.PolicyArn, AccessScope: scope, AssociatedAt: now, ModifiedAt: now}
		a.Policies = append(a.Policies, out)
		return nil
	})
	if ue != nil {
		return nil, ue
	}
	if !found {
		return nil, accessEntryNotFound(in.ClusterName, in.PrincipalArn)
	}
	return &types.AssociateAccessPolicyResponse{ClusterName: in.ClusterName, PrincipalArn: in.PrincipalArn, AssociatedAccessPolicy: &out}, nil
}

// DisassociateAccessPolicy takes an access policy from a principal.
func (c *Clusters) DisassociateAccessPolicy(_ context.Context, in *types.DisassociateAccessPolicyRequest) (*types.DisassociateAccessPolicyResponse, error) {
	if e := c.accessCluster(in.ClusterName); e != nil {
		return nil, e
	}
	entry, found := false, false
	ue := c.updateRecord(in.ClusterName, "recording the change", func(r *clusters.Record) error {
		a, ok := r.Entry(in.PrincipalArn)
		if !ok {
			return nil
		}
		entry = true
		n := len(a.Policies)
		a.Policies = slices.DeleteFunc(a.Policies, func(p types.AssociatedAccessPolicy) bool { return p.PolicyArn == in.PolicyArn })
		found = len(a.Policies) < n
		return nil
	})
	switch {
	case ue != nil:
		return nil, ue
	case !entry:
		return nil, accessEntryNotFound(in.ClusterName, in.PrincipalArn)
	case !found:
		return nil, &Error{Code: CodeResourceNotFound, ClusterName: in.ClusterName, Message: "The access policy " + in.PolicyArn + " is not associated with " + in.PrincipalArn + "."}
	}
	return &types.DisassociateAccessPolicyResponse{}, nil
}

// ListAssociatedAccessPolicies lists a principal's access policies.
func (c *Clusters) ListAssociatedAccessPolicies(_ context.Context, in *types.ListAssociatedAccessPoliciesRequest) (*types.ListAssociatedAccessPoliciesResponse, error) {
	a, e := c.entry(in.ClusterName, in.PrincipalArn)
	if e != nil {
		return nil, e
	}
	byARN := map[string]types.AssociatedAccessPolicy{}
	var arns []string
	for _, p := range a.Policies {
		byARN[p.PolicyArn] = p
		arns = append(arns, p.PolicyArn)
	}
	slices.Sort(arns)
	page, next, e := pageOf(arns, in.MaxResults, in.NextToken)
	if e != nil {
		return nil, e
	}
	out := &types.ListAssociatedAccessPoliciesResponse{ClusterName: in.ClusterName, PrincipalArn: in.PrincipalArn, NextToken: next, AssociatedAccessPolicies: []types.AssociatedAccessPolicy{}}
	for _, arn := range page {
		out.AssociatedAccessPolicies = append(out.AssociatedAccessPolicies, byARN[arn])
	}
	return out, nil
}

// ListAccessPolicies lists the access policies kdp grants.
func (c *Clusters) ListAccessPolicies(_ context.Context, in *types.ListAccessPoliciesRequest) (*types.ListAccessPoliciesResponse, error) {
	names := make([]string, 0, len(AccessPolicies))
	for _, p := range AccessPolicies {
		names = append(names, p.Name)
	}
	page, next, e := pageOf(names, in.MaxResults, in.NextToken)
	if e != nil {
		return nil, e
	}
	out := &types.ListAccessPoliciesResponse{AccessPolicies: []types.AccessPolicy{}, NextToken: next}
	for _, n := range page {
		out.AccessPolicies = append(out.AccessPolicies, types.AccessPolicy{Name: n, Arn: policyARNPrefix + n})
	}
	return out, nil
}

// Identity is who an IAM principal is in a cluster, by its access entry.
type Identity struct {
	Username string
	Groups   []string
}

// MapPrincipal is the Kubernetes identity of an IAM principal (its
// canonical ARN: a role's, not its session's) in a created cluster: its
// access entry's username (with {{SessionName}} and {{AccountID}} filled
// in) and groups, and the group of each access policy associated with it.
// ok is false when it has no STANDARD access entry there.
func (c *Clusters) MapPrincipal(cluster, principalARN, sessionName string) (Identity, bool) {
	if c.cfg.Registry == nil {
		return Identity{}, false
	}
	rec, _, ok := c.cfg.Registry.Get(cluster)
	if !ok {
		return Identity{}, false
	}
	a, ok := rec.Entry(principalARN)
	if !ok || a.Entry.Type != "STANDARD" {
		return Identity{}, false
	}
	user := strings.ReplaceAll(a.Entry.Username, "{{SessionName}}", sessionName)
	user = strings.ReplaceAll(user, "{{AccountID}}", c.cfg.Account.ID)
	id := Identity{Username: user, Groups: slices.Clone(a.Entry.KubernetesGroups)}
	for _, p := range a.Policies {
		if pol, ok := policyOf(p.PolicyArn); ok && p.AccessScope != nil && p.AccessScope.Type == types.AccessScopeTypeCluster {
			id.Groups = append(id.Groups, pol.Group())
		}
	}
	return id, true
}
