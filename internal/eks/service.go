// Package eks is kdp's EKS API as a library: one Service, EKS-shaped in
// and out (the types of internal/eks/types), over the Kubernetes
// resources that are the only store (NodeGroup, NodeGroupUpdate,
// FargateProfile). The HTTP API (internal/eksapi) and kdp's CLI both call
// it, so that kubectl, the CLI and the EKS API always agree.
//
// Errors are *Error, with EKS's error code, message and context members,
// and the request's members they are about.
package eks

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Cluster is the cluster kdp runs, as DescribeCluster shows it.
type Cluster struct {
	Name string
	// Version is the control plane's Kubernetes minor version, e.g. 1.37.
	Version string
	// PlatformVersion is kdp's own, in EKS's form (eks.N).
	PlatformVersion string
	// Endpoint is the API server's URL, and CertificateAuthority its CA
	// (PEM).
	Endpoint             string
	CertificateAuthority []byte
	ServiceIPv4CIDR      string
	CreatedAt            time.Time
}

// Config is what the Service needs.
type Config struct {
	// Client writes, and reads what must be current (after a write).
	Client client.Client
	// Reader reads (a cache, e.g. the manager's); Client when nil.
	Reader client.Reader
	// Cloud is the cloud kdp's nodes come from: the catalogue of images
	// and subnets.
	Cloud   cloud.Provider
	Account cloud.Account
	Cluster Cluster
	Clock   clock.PassiveClock
}

// Service is the EKS API over the cluster's resources.
type Service struct {
	c      client.Client
	r      client.Reader
	cloud  cloud.Provider
	acct   cloud.Account
	clus   Cluster
	clock  clock.PassiveClock
	fields client.FieldOwner
}

// FieldManager is the field manager of the Service's writes.
const FieldManager = "kdp-eks-api"

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{c: cfg.Client, r: cfg.Reader, cloud: cfg.Cloud, acct: cfg.Account, clus: cfg.Cluster, clock: cfg.Clock, fields: client.FieldOwner(FieldManager)}
	if s.r == nil {
		s.r = s.c
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	return s
}

type principalKey struct{}

// WithPrincipal says who makes the requests of ctx (an IAM-style ARN): it
// is written on what they create and in their audit records.
func WithPrincipal(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, principalKey{}, arn)
}

// Principal is who makes the request of ctx, if known.
func Principal(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}

// AnnotationCreatedBy names who created a resource through the EKS API.
const AnnotationCreatedBy = "eks.kdp.dev/created-by"

// checkCluster answers ResourceNotFoundException for any cluster but
// kdp's.
func (s *Service) checkCluster(name string) *Error {
	if name == s.clus.Name {
		return nil
	}
	if name == "" {
		return invalidParameter("name", "the cluster name is required")
	}
	return &Error{Code: CodeResourceNotFound, ClusterName: name, Message: "No cluster found for name: " + name + "."}
}

// pageOf is one page of names (in their order), after the page token and at most
// max of them (100 when nil), with the token of the next page ("" at the
// end). A token is opaque: the last name of the page before, encoded.
func pageOf(names []string, maxResults *int32, token string) ([]string, string, *Error) {
	limit := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return nil, "", invalidParameter("maxResults", "maxResults must be between 1 and 100, not %d", *maxResults)
		}
		limit = int(*maxResults)
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		after, ok := strings.CutPrefix(string(raw), "kdp1:")
		if err != nil || !ok {
			return nil, "", invalidParameter("nextToken", "nextToken is not a token of this list: pass the nextToken of the previous page as it was")
		}
		if i := slices.Index(names, after); i >= 0 {
			start = i + 1 // a list in an order of its own (updates: oldest first)
		} else {
			for start < len(names) && names[start] <= after {
				start++ // the name is gone: carry on after where it was (sorted lists)
			}
		}
	}
	end := min(start+limit, len(names))
	page := append([]string{}, names[start:end]...) // [] when empty, never null
	next := ""
	if end < len(names) {
		next = base64.RawURLEncoding.EncodeToString([]byte("kdp1:" + names[end-1]))
	}
	return page, next, nil
}
