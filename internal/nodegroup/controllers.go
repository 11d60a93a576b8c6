// Package nodegroup is kdp's managed node groups, as EKS runs them: the
// NodeGroup resource (api/eks/v1alpha1), its admission webhooks and its
// controllers, each a package of its own. Setup is the table of contents.
package nodegroup

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/admission"
	"github.com/kdp-project/kdp/internal/nodegroup/lifecycle"
	"github.com/kdp-project/kdp/internal/nodegroup/repair"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
	"github.com/kdp-project/kdp/internal/nodegroup/update"
	"github.com/kdp-project/kdp/internal/webhook"
)

type reconciler interface {
	Name() string
	Register(ctrl.Manager) error
}

// Setup registers the node group controllers with the manager, and their
// admission webhooks with kdp's webhook server, for node groups of the
// cloud p.
func Setup(ctx context.Context, mgr ctrl.Manager, p cloud.Provider, hooks *webhook.Server, env resources.Env) error {
	if err := resources.IndexNodes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := drain.IndexPods(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	version, err := kube.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("reading the cluster's version: %w", err)
	}
	checker, err := admission.NewChecker(ctx, mgr.GetAPIReader(), p, version.GitVersion)
	if err != nil {
		return err
	}
	for _, h := range admission.Hooks(mgr.GetScheme(), checker) {
		if err := hooks.Add(h); err != nil {
			return err
		}
	}
	recorder := mgr.GetEventRecorder("kdp-nodegroup")
	c := mgr.GetClient()
	drainer := drain.New(c, recorder)
	for _, r := range []reconciler{
		lifecycle.NewController(c, kube, p, recorder, env),
		update.NewController(c, kube, p, drainer, recorder, env),
		termination.NewController(c, p, drainer, recorder, env),
		repair.NewController(c, p, recorder, env),
	} {
		if err := r.Register(mgr); err != nil {
			return fmt.Errorf("registering %s: %w", r.Name(), err)
		}
	}
	return nil
}
