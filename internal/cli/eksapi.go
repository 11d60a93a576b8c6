package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eksapi"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
	"github.com/kdp-project/kdp/internal/iamauth"
	"github.com/kdp-project/kdp/internal/nodegroup/validation"
	"github.com/kdp-project/kdp/internal/pki"
	"github.com/kdp-project/kdp/internal/version"
)

// PlatformVersion is the platform version DescribeCluster reports, in
// EKS's form: kdp's own, which changes when what the EKS API serves does.
const PlatformVersion = "eks.1"

// defaultCredential is the name of the credential kdp up issues at first
// start.
const defaultCredential = "admin"

// setupEKSAPI adds kdp's EKS API to mgr, on ln (the port kdp reserved,
// which it owns): the Service over the cluster's resources and the cloud
// c, authenticated with the data dir's credentials (an admin one issued at
// first start), audited to DATA_DIR/eks-api/audit.log, over HTTPS with a
// certificate of kdp's CA if --eks-api-tls. It writes where it serves to
// the data dir's endpoint file, and returns it. The server runs with the
// manager, once its caches have synced, and stops with it, gracefully.
func setupEKSAPI(ctx context.Context, mgr ctrl.Manager, restCfg *rest.Config, f *upFlags, cfg cluster.Config, layout cluster.Layout, c *runningCloud, ln net.Listener) (_ eksapi.Endpoint, _ *clusters.Registry, err error) {
	var audit *os.File
	defer func() {
		if err != nil {
			ln.Close()
			if audit != nil {
				audit.Close()
			}
		}
	}()
	account, err := c.provider.Account(ctx)
	if err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("reading the cloud's account: %w", err)
	}
	store, err := auth.Open(layout.EKSCredentials(), auth.Settings{Account: account.ID, Region: account.Region})
	if err != nil {
		return eksapi.Endpoint{}, nil, err
	}
	if created, err := store.EnsureDefault(defaultCredential); err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("issuing the EKS API's %s credential: %w", defaultCredential, err)
	} else if created {
		klog.InfoS("issued the EKS API's credential", "name", defaultCredential, "file", layout.EKSCredentials())
	}

	clus, err := clusterFacts(ctx, restCfg, cfg.ClusterName)
	if err != nil {
		return eksapi.Endpoint{}, nil, err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return eksapi.Endpoint{}, nil, err
	}
	svc := eks.New(eks.Config{Client: direct, Reader: mgr.GetClient(), Cloud: c.provider, Account: account, Cluster: clus})

	if audit, err = os.OpenFile(layout.EKSAuditLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("opening the EKS API's audit log: %w", err)
	}
	endpoint := eksapi.Endpoint{URL: cfg.EKSAPIURL(f.eksAPITLS)}
	var tlsConfig *tls.Config
	if f.eksAPITLS {
		if tlsConfig, endpoint.CABundle, err = eksAPICertificate(layout, cfg); err != nil {
			return eksapi.Endpoint{}, nil, err
		}
	}
	// The clusters CreateCluster makes: their control planes, their
	// controllers, and the token webhook their API servers call.
	exe, err := os.Executable()
	if err != nil {
		return eksapi.Endpoint{}, nil, err
	}
	var caPEM []byte
	if endpoint.CABundle != "" {
		if caPEM, err = os.ReadFile(endpoint.CABundle); err != nil {
			return eksapi.Endpoint{}, nil, err
		}
	}
	children := &childClusters{f: f, cfg: cfg, cloud: c, eksURL: endpoint.URL, caPEM: caPEM,
		runtimes: map[string]context.CancelFunc{}, stopped: map[string]chan struct{}{}}
	reg, err := clusters.Open(clusters.Options{Dir: layout.ClustersDir(), Binary: exe, Hooks: children, Log: klog.Background().WithName("clusters")})
	if err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("reading the clusters of %s: %w", layout.ClustersDir(), err)
	}
	if err := ctrlmetrics.Registry.Register(reg); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return eksapi.Endpoint{}, nil, err
	}
	api := eks.NewClusters(eks.ClustersConfig{
		Own: svc, Registry: reg, Cloud: c.provider, Account: account,
		Versions: []string{validation.Minor(version.Kubernetes())}, PlatformVersion: PlatformVersion, ServiceIPv4CIDR: cluster.ServiceCIDR,
		MaxClusters: f.maxClusters, Controllers: true,
	})
	children.api, children.reg = api, reg
	// Tokens name kdp's STS: the endpoint kdp env exports, or localhost.
	stsHost := strings.TrimPrefix(strings.TrimPrefix(endpoint.URL, "https://"), "http://")
	hosts := []string{stsHost}
	if _, port, err := net.SplitHostPort(stsHost); err == nil {
		hosts = append(hosts, "localhost:"+port, "127.0.0.1:"+port)
	}
	tokens := &iamauth.TokenVerifier{Keys: store, Region: account.Region, Hosts: hosts}
	sts := iamauth.NewSTS(iamauth.STSOptions{Keys: store, Region: account.Region})
	review := iamauth.NewTokenReviewHandler(tokens, mapper{api}, klog.Background().WithName("token-review"))
	eksHandler := eksapi.New(eksapi.Options{API: api, Keys: store, Region: account.Region, Audit: audit, Log: klog.Background().WithName("eks-api")})
	mux := http.NewServeMux()
	mux.Handle("POST "+tokenReviewPath+"{cluster}", review)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case iamauth.IsSTSRequest(r):
			sts.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, tokenReviewPath):
			mux.ServeHTTP(w, r)
		default:
			eksHandler.ServeHTTP(w, r)
		}
	})
	if err := eksapi.WriteEndpoint(layout.EKSEndpoint(), endpoint); err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("writing the EKS API's endpoint: %w", err)
	}
	run := eksAPIRunnable(func(ctx context.Context) error {
		defer audit.Close()
		// The clusters' control planes run while the EKS API serves; kdp
		// up stops them (Registry.Stop) before its manager.
		reg.Start(ctx)
		klog.InfoS("serving the EKS API", "url", endpoint.URL, "account", account.ID, "region", account.Region)
		if err := eksapi.Serve(ctx, ln, handler, tlsConfig); err != nil {
			return fmt.Errorf("serving the EKS API: %w", err)
		}
		return nil
	})
	if err := mgr.Add(run); err != nil {
		return eksapi.Endpoint{}, nil, fmt.Errorf("adding the EKS API to the manager: %w", err)
	}
	return endpoint, reg, nil
}

// eksAPIRunnable serves on every kdp, leader or not: the Service only
// writes resources, which the leader's controllers act on.
type eksAPIRunnable func(ctx context.Context) error

func (r eksAPIRunnable) Start(ctx context.Context) error { return r(ctx) }
func (eksAPIRunnable) NeedLeaderElection() bool          { return false }

// clusterFacts is the cluster as DescribeCluster shows it: its minor
// version, API server URL and CA, and when it was created (its kube-system
// namespace's creation).
func clusterFacts(ctx context.Context, restCfg *rest.Config, name string) (eks.Cluster, error) {
	withCA := rest.CopyConfig(restCfg)
	if err := rest.LoadTLSFiles(withCA); err != nil {
		return eks.Cluster{}, fmt.Errorf("reading the cluster's certificate authority: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(restCfg)
	if err != nil {
		return eks.Cluster{}, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return eks.Cluster{}, fmt.Errorf("reading the cluster's version: %w", err)
	}
	c, err := client.New(restCfg, client.Options{})
	if err != nil {
		return eks.Cluster{}, err
	}
	var ns corev1.Namespace
	if err := c.Get(ctx, client.ObjectKey{Name: "kube-system"}, &ns); err != nil {
		return eks.Cluster{}, fmt.Errorf("reading the kube-system namespace: %w", err)
	}
	return eks.Cluster{
		Name: name, Version: validation.Minor(v.GitVersion), PlatformVersion: PlatformVersion,
		Endpoint: withCA.Host, CertificateAuthority: withCA.CAData, ServiceIPv4CIDR: cluster.ServiceCIDR,
		CreatedAt: ns.CreationTimestamp.Time,
	}, nil
}

// eksAPICertificate is the EKS API's serving certificate, signed by kdp's
// cluster CA (DATA_DIR/pki/ca.crt: clients trust it with AWS_CA_BUNDLE)
// for loopback and the bind address, kept in the PKI directory and
// renewed as the others are.
func eksAPICertificate(layout cluster.Layout, cfg cluster.Config) (*tls.Config, string, error) {
	ca, err := pki.LoadOrCreateCA(layout.PKIDir(), "ca", "kdp-ca")
	if err != nil {
		return nil, "", err
	}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	if bind := net.ParseIP(cfg.BindAddress); !bind.IsUnspecified() && !bind.Equal(ips[0]) {
		ips = append(ips, bind)
	}
	leaf, err := ca.LoadOrIssue(layout.PKIDir(), "eks-api", pki.LeafSpec{CommonName: "kdp-eks-api", Server: true, IPs: ips, DNSNames: []string{"localhost"}})
	if err != nil {
		return nil, "", fmt.Errorf("issuing the EKS API's serving certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ca.CertFile, nil
}
