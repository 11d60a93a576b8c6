package webhook_test

import (
	"context"
	"net"
	"path/filepath"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kdp-project/kdp/internal/webhook"
)

// podDefaults is an admission.Defaulter, as a NodeGroup's or Fargate's
// would be.
type podDefaults struct{}

func (podDefaults) Default(_ context.Context, pod *corev1.Pod) error {
	if pod.Spec.SchedulerName == "" {
		pod.Spec.SchedulerName = "fargate-scheduler"
	}
	return nil
}

// A package with admission webhooks adds each as a Hook; the server is
// added to kdp's manager once, with the port kdp reserved.
func ExampleServer_AddToManager() {
	var (
		mgr      ctrl.Manager // internal/manager.New
		listener net.Listener // cluster.Config.Reserve(...).Take("webhook")
		dataDir  string
	)
	srv, err := webhook.New(mgr.GetConfig(), webhook.Options{Dir: filepath.Join(dataDir, "webhook"), Listener: listener})
	if err != nil {
		panic(err)
	}
	err = srv.Add(webhook.Hook{
		Name:     "pods.fargate.kdp.dev",
		Path:     "/mutate-pod",
		Mutating: true,
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
		}},
		Handler: admission.WithDefaulter[*corev1.Pod](mgr.GetScheme(), podDefaults{}),
	})
	if err != nil {
		panic(err)
	}
	if err := srv.AddToManager(mgr); err != nil { // serves and registers on mgr.Start; readyz "webhook"
		panic(err)
	}
}
