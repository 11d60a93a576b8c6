package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/iamauth"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/manager"
)

// Where the EKS API's port serves the token authentication webhook of
// the clusters kdp created: their API servers post TokenReviews there.
const tokenReviewPath = "/kdp/authenticate/"

// tokenCacheTTL is how long a created cluster's API server keeps kdp's
// answer about a token.
const tokenCacheTTL = 10 * time.Second

// DefaultMaxClusters sizes --max-clusters to the machine: each cluster is
// a control plane of its own (about 350 MiB and a few percent of a core
// idle, more while it starts), so one per 2 GiB of memory, and at most
// four per core.
func DefaultMaxClusters() int {
	mem := memoryBytes()
	n := int(mem / (2 << 30))
	if cores := runtime.NumCPU() * 4; n > cores {
		n = cores
	}
	return max(n, 1)
}

// memoryBytes is the machine's memory (MemTotal), 4 GiB if unknown.
func memoryBytes() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		var kb uint64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 4 << 30
}

// childClusters runs what kdp runs for each cluster CreateCluster made:
// its control plane (the Registry's child process, whose API server
// authenticates IAM tokens with kdp's webhook) and, once that is ready,
// its controllers in this process (kubelets, node groups, Fargate, their
// admission webhooks), and the Service that answers the EKS API for it.
type childClusters struct {
	f     *upFlags
	cfg   cluster.Config
	cloud *runningCloud
	api   *eks.Clusters
	reg   *clusters.Registry

	// eksURL is where the EKS API serves (the token webhook's base), and
	// caPEM the CA of its certificate with --eks-api-tls.
	eksURL string
	caPEM  []byte

	mu       sync.Mutex
	runtimes map[string]context.CancelFunc
	stopped  map[string]chan struct{}
}

var _ clusters.Hooks = (*childClusters)(nil)

// APIServerArgs point the cluster's API server at kdp's token webhook.
func (cc *childClusters) APIServerArgs(name string, l clusters.Layout) ([]string, error) {
	if err := iamauth.WriteWebhookKubeconfig(l.TokenWebhookConfig(), cc.eksURL+tokenReviewPath+name, cc.caPEM); err != nil {
		return nil, fmt.Errorf("writing the token webhook's kubeconfig: %w", err)
	}
	return []string{
		"--authentication-token-webhook-config-file=" + l.TokenWebhookConfig(),
		"--authentication-token-webhook-version=v1",
		// A deleted access entry or policy takes effect within this
		// (the API server's default keeps an answer 2 minutes).
		"--authentication-token-webhook-cache-ttl=" + tokenCacheTTL.String(),
	}, nil
}

// Ready runs the cluster's controllers until the cluster is deleted or
// kdp stops, retrying while its API server is not there yet.
func (cc *childClusters) Ready(ctx context.Context, name string, l clusters.Layout) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	cc.mu.Lock()
	cc.runtimes[name], cc.stopped[name] = cancel, done
	cc.mu.Unlock()
	defer close(done)
	log := klog.Background().WithName("clusters").WithValues("cluster", name)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := cc.run(ctx, name, l)
		if ctx.Err() != nil {
			return
		}
		log.Error(err, "running the cluster's controllers; retrying", "attempt", attempt)
		cc.api.SetService(name, nil)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
		}
	}
}

// Deleting stops the cluster's controllers, and waits for them.
func (cc *childClusters) Deleting(name string) {
	cc.mu.Lock()
	cancel, done := cc.runtimes[name], cc.stopped[name]
	delete(cc.runtimes, name)
	delete(cc.stopped, name)
	cc.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// run sets the cluster up for kdp's controllers (its CRDs, the RBAC of
// node bootstrap and of the access policies), runs them, and serves the
// cluster's EKS API once its API server calls their webhooks; it returns
// when ctx ends or the manager fails.
func (cc *childClusters) run(ctx context.Context, name string, l clusters.Layout) (err error) {
	// Everything this attempt starts stops with it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cl := l.Cluster()
	if err := bootstrapCluster(ctx, cl.AdminKubeconfig(), true, true); err != nil {
		return err
	}
	if err := bindAccessPolicies(ctx, cl.AdminKubeconfig()); err != nil {
		return err
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", cl.Kubeconfig("kdp-manager"))
	if err != nil {
		return err
	}
	mgr, err := manager.New(restCfg, manager.Options{MetricsAddr: "0", HealthAddr: "0", SkipNameValidation: true})
	if err != nil {
		return err
	}
	provider := cc.cloud.cloud.Provider(name)
	t := cc.cloud.cloud.Timing()
	if err := kubelet.Setup(ctx, mgr, provider, kubelet.Options{Timing: kubelet.Timing{
		Join: t.Join, PodStart: t.PodStart, Heartbeat: t.Heartbeat, Jitter: t.Jitter,
		MicroVMJoin: t.MicroVMJoin, ImagePull: t.ImagePull, ImagePullCached: t.ImagePullCached,
	}}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ccfg := cc.cfg
	ccfg.ClusterName, ccfg.WebhookHost = name, ""
	child := &runningCloud{cloud: cc.cloud.cloud, provider: provider}
	hooks, err := setupNodeGroups(ctx, mgr, restCfg, cc.f, ccfg, cluster.Layout{Root: l.Dir}, child, ln)
	if err != nil {
		ln.Close()
		return err
	}
	started := false
	defer func() {
		if !started {
			ln.Close() // the webhook server, which owns it once running, never ran
		}
	}()
	account, err := provider.Account(ctx)
	if err != nil {
		return err
	}
	facts, err := clusterFacts(ctx, restCfg, name)
	if err != nil {
		return err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return err
	}
	svc := eks.New(eks.Config{Client: direct, Reader: mgr.GetClient(), Cloud: provider, Account: account, Cluster: facts})
	errc, stopped := make(chan error, 1), make(chan struct{})
	started = true
	go func() {
		defer close(stopped)
		errc <- mgr.Start(ctx)
	}()
	if err := waitAdmission(ctx, restCfg, hooks, errc); err != nil {
		cancel()
		<-stopped // the manager of this attempt, and its controllers, are gone
		return err
	}
	cc.api.SetService(name, svc)
	klog.InfoS("running the cluster's controllers", "cluster", name, "webhooks", hooks.URL("/"))
	err = <-errc
	cc.api.SetService(name, nil)
	if err == nil {
		err = fmt.Errorf("the manager stopped")
	}
	return err
}

// bindAccessPolicies binds each access policy's group to its Kubernetes
// role: the token webhook puts a principal in the groups of the policies
// associated with it.
func bindAccessPolicies(ctx context.Context, adminKubeconfig string) error {
	_, kube, err := clientsetFor(adminKubeconfig)
	if err != nil {
		return err
	}
	for _, p := range eks.AccessPolicies {
		b := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "kdp:access-policy:" + p.Name, Labels: map[string]string{"app.kubernetes.io/managed-by": "kdp"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: p.ClusterRole},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: p.Group()}},
		}
		if _, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("binding access policy %s: %w", p.Name, err)
		}
	}
	return nil
}

// mapper maps IAM identities through the access entries of the
// created clusters, as EKS names them in Kubernetes.
type mapper struct{ api *eks.Clusters }

func (m mapper) Map(cluster string, id iamauth.Identity) (authnv1.UserInfo, bool) {
	who, ok := m.api.MapPrincipal(cluster, id.CanonicalARN, id.SessionName)
	if !ok {
		return authnv1.UserInfo{}, false
	}
	return authnv1.UserInfo{Username: who.Username, UID: "aws-iam-authenticator:" + id.AccountID + ":" + id.UserID, Groups: who.Groups}, true
}
