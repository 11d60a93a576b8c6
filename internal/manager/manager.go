// Package manager builds kdp's controller-runtime manager: the process that
// every kdp controller registers with. It serves Prometheus metrics and
// health probes and takes a leader-election lease, so several kdp processes
// pointed at one cluster run the controllers exactly once.
package manager

import (
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/version"
)

// UserAgent is the name kdp's controllers write under.
const UserAgent = "kdp-manager"

// LeaseName is the name of the leader-election Lease in LeaseNamespace.
const (
	LeaseName      = "kdp-manager"
	LeaseNamespace = "kube-system"
)

// Options configures the manager.
type Options struct {
	// MetricsAddr and HealthAddr are host:port addresses; "0" disables.
	MetricsAddr string
	HealthAddr  string
	// LeaderElection makes the manager wait for the Lease before it starts
	// any controller.
	LeaderElection bool
	// ShutdownTimeout bounds how long controllers get to finish on stop.
	ShutdownTimeout time.Duration
	// PprofAddr serves Go's pprof profiles of the whole kdp process (the
	// embedded control plane included) when set.
	PprofAddr string
	// SkipNameValidation lets a process start managers of the same
	// controllers one after the other (tests that restart them).
	SkipNameValidation bool
}

// Scheme holds every API type kdp's controllers read or write.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, eksv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // static registration: cannot fail
		}
	}
	return s
}

// New returns a manager for the cluster behind cfg. Controllers register
// with it before Start.
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	// The default client-side limit (20 requests/s) would throttle the
	// simulated cloud to a node or two a second; the API server's priority
	// and fairness protects it instead.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 2000
	// Its writes show as kdp-manager's in an object's managed fields, apart
	// from the embedded components' (whose binary is kdp too).
	cfg.UserAgent = UserAgent + "/" + version.Version
	timeout := o.ShutdownTimeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        Scheme(),
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.HealthAddr,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              LeaseName,
		LeaderElectionNamespace:       LeaseNamespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &timeout,
		PprofBindAddress:              o.PprofAddr,
		Controller:                    config.Controller{SkipNameValidation: &o.SkipNameValidation},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}
