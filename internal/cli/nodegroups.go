package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/fargate"
	fargateresources "github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/nodegroup"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/webhook"
)

// admissionTimeout bounds how long kdp up waits for the API server to call
// its admission webhooks.
const admissionTimeout = 30 * time.Second

// setupNodeGroups adds the managed node groups to mgr: their controllers,
// on the cloud c, and kdp's admission-webhook server with their hooks, on
// ln (the port kdp reserved). The API server dials the server at
// cfg.WebhookHost, else at the listener's address; the server keeps its
// certificates in the data dir. Nodes of a group join the API server of
// restCfg, trusting its CA.
func setupNodeGroups(ctx context.Context, mgr ctrl.Manager, restCfg *rest.Config, f *upFlags, cfg cluster.Config, layout cluster.Layout, c *runningCloud, ln net.Listener) (*webhook.Server, error) {
	hooks, err := webhook.New(mgr.GetConfig(), webhook.Options{Dir: layout.WebhookDir(), Listener: ln, URLHost: cfg.WebhookHost})
	if err != nil {
		return nil, err
	}
	account, err := c.provider.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's account: %w", err)
	}
	// The kubeconfig may name its CA by file: nodes need the data.
	joinCfg := rest.CopyConfig(restCfg)
	if err := rest.LoadTLSFiles(joinCfg); err != nil {
		return nil, fmt.Errorf("reading the cluster's certificate authority: %w", err)
	}
	if len(joinCfg.CAData) == 0 {
		klog.InfoS("Warning: the kubeconfig names no certificate authority; nodes of node groups will not be able to trust the API server, and will not join", "server", joinCfg.Host)
	}
	env := resources.Env{
		Cluster: cfg.ClusterName, Account: account, Clock: clock.RealClock{}, Scale: f.simOptions.Scale,
		Join: join.Options{Server: joinCfg.Host, CA: joinCfg.CAData, ServiceCIDR: cluster.ServiceCIDR},
	}
	if err := nodegroup.Setup(ctx, mgr, c.provider, hooks, env); err != nil {
		return nil, fmt.Errorf("setting up the node group controllers: %w", err)
	}
	fargateEnv := fargateresources.Env{Cluster: env.Cluster, Account: env.Account, Join: env.Join, Clock: env.Clock, Scale: env.Scale}
	if err := fargate.Setup(ctx, mgr, c.provider, hooks, fargateEnv); err != nil {
		return nil, fmt.Errorf("setting up the Fargate controllers: %w", err)
	}
	if err := hooks.AddToManager(mgr); err != nil {
		return nil, err
	}
	if err := registerCost(ctx, c.provider, account.Region, f.simOptions.Zones); err != nil {
		return nil, err
	}
	return hooks, nil
}

// registerCost exports the cluster's hourly cost, computed from the
// cloud's instances at each scrape, as kdp_cost_dollars_per_hour.
func registerCost(ctx context.Context, p cloud.Provider, region string, zones int) error {
	types, err := p.InstanceTypes(ctx)
	if err != nil {
		return fmt.Errorf("reading the cloud's instance types: %w", err)
	}
	cat, err := catalog.New(region, max(zones, 1))
	if err != nil {
		return err
	}
	err = ctrlmetrics.Registry.Register(billing.NewCollector(p, billing.NewPrices(types, cat.FargatePrices())))
	if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return nil // a second kdp in one process (tests)
	}
	return err
}

// waitAdmission waits until the API server calls kdp's admission webhooks,
// so that a NodeGroup applied once kdp says it is up gets EKS's defaults
// and checks: a dry-run NodeGroup with an empty spec comes back with them
// filled in. It returns early with the error of a manager that stopped
// (done), and with nil when ctx ends (kdp is stopping).
func waitAdmission(ctx context.Context, restCfg *rest.Config, hooks *webhook.Server, done <-chan error) error {
	c, err := client.New(restCfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return err
	}
	// A dry-run apply rather than a create: the API server holds every
	// create of a custom resource for 2 s while its CRD is new (so that
	// other API servers see it established), not a patch.
	probe := func() error {
		ng := &eksv1.NodeGroup{
			TypeMeta:   metav1.TypeMeta{APIVersion: eksv1.GroupVersion.String(), Kind: "NodeGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: "kdp-admission-probe"},
		}
		err := c.Patch(ctx, ng, client.Apply, client.DryRunAll, client.FieldOwner("kdp-admission-probe"))
		switch {
		case err != nil && strings.Contains(err.Error(), "denied the request"):
			return nil // a hook answered (a cluster at its quota of node groups, say)
		case err != nil:
			return err
		case len(ng.Spec.InstanceTypes) == 0:
			return errors.New("the API server does not call the webhooks yet")
		}
		return nil
	}
	start := time.Now()
	deadline := time.NewTimer(admissionTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := probe()
		if err == nil {
			klog.InfoS("the API server calls kdp's admission webhooks", "url", hooks.URL("/"), "elapsed", time.Since(start))
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		klog.V(2).InfoS("waiting for the API server to call kdp's admission webhooks", "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			return fmt.Errorf("manager failed: %w", err)
		case <-deadline.C:
			if strings.Contains(err.Error(), "failed calling webhook") {
				return fmt.Errorf("the API server cannot call kdp's admission webhooks at %s (%w): set --webhook-host to an address of this machine that the API server can reach, and --bind-address to one kdp listens on", hooks.URL("/"), err)
			}
			return fmt.Errorf("kdp's admission webhooks (%s) not in effect after %s: %w", hooks.URL("/"), admissionTimeout, err)
		case <-tick.C:
		}
	}
}
