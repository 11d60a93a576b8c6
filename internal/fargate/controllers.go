// Package fargate is kdp's Fargate-style serverless pods, as EKS runs them:
// the FargateProfile resource (api/eks/v1alpha1), the admission webhooks
// that check profiles and route matching pods to the fargate-scheduler,
// and the controllers, each a package of its own. Setup is the table of
// contents.
package fargate

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/admission"
	"github.com/kdp-project/kdp/internal/fargate/audit"
	"github.com/kdp-project/kdp/internal/fargate/profile"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/fargate/scheduler"
	"github.com/kdp-project/kdp/internal/fargate/teardown"
	"github.com/kdp-project/kdp/internal/webhook"
)

type reconciler interface {
	Name() string
	Register(ctrl.Manager) error
}

// Setup registers the Fargate controllers with the manager, and their
// admission webhooks with kdp's webhook server, for pods on the cloud p.
func Setup(ctx context.Context, mgr ctrl.Manager, p cloud.Provider, hooks *webhook.Server, env resources.Env) error {
	kube, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	if env.ClusterVersion == "" {
		version, err := kube.Discovery().ServerVersion()
		if err != nil {
			return fmt.Errorf("reading the cluster's version: %w", err)
		}
		env.ClusterVersion = version.GitVersion
	}
	subnets, err := p.Subnets(ctx)
	if err != nil {
		return fmt.Errorf("reading the cloud's subnets: %w", err)
	}
	images, err := p.Images(ctx)
	if err != nil {
		return fmt.Errorf("reading the cloud's images: %w", err)
	}
	for _, h := range admission.Hooks(mgr.GetScheme(), admission.NewChecker(mgr.GetClient(), subnets)) {
		if err := hooks.Add(h); err != nil {
			return err
		}
	}
	c := mgr.GetClient()
	scheduler.CollectFrom(c)
	for _, r := range []reconciler{
		profile.NewController(c, kube, mgr.GetEventRecorder("fargate-profile"), env, subnets),
		scheduler.NewController(c, kube, p, mgr.GetEventRecorder("fargate-scheduler"), env, images, subnets),
		teardown.NewController(c, p),
		audit.NewController(c, mgr.GetEventRecorder("fargate-audit")),
	} {
		if err := r.Register(mgr); err != nil {
			return fmt.Errorf("registering %s: %w", r.Name(), err)
		}
	}
	return nil
}
