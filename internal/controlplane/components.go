package controlplane

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	cliflag "k8s.io/component-base/cli/flag"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/kdp-project/kdp/internal/version"
)

// The components are not run through their cobra commands: those set up
// process-wide signal handling that panics the second time, or run on
// context.Background(). Each runner below does what its command's RunE does,
// on the context it is given.

func runAPIServer(ctx context.Context, args []string, logOpts *logsapi.LoggingOptions, ln net.Listener) error {
	s := apiserveroptions.NewServerRunOptions()
	// /version reports the Kubernetes version kdp does (see version.go).
	s.GenericServerRunOptions.ComponentGlobalsRegistry = reportVersion(s.GenericServerRunOptions.ComponentGlobalsRegistry, version.Kubernetes())
	if err := parse("kube-apiserver", s.Flags(), args); err != nil {
		return err
	}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	// The apiserver's loopback clients would otherwise log its own warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApplyWithOptions(s.Logs, logOpts, featureGate); err != nil {
		return err
	}
	s.SecureServing.Listener = ln
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	return apiserverapp.Run(ctx, completed)
}

func runControllerManager(ctx context.Context, args []string, logOpts *logsapi.LoggingOptions) error {
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	flags := s.Flags(kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases())
	s.ParsedFlags = &flags
	if err := parse("kube-controller-manager", flags, args); err != nil {
		return err
	}
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	if err := logsapi.ValidateAndApplyWithOptions(s.Logs, logOpts, utilfeature.DefaultFeatureGate); err != nil {
		return err
	}
	c, err := s.Config(ctx, kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases())
	if err != nil {
		return err
	}
	completed := c.Complete()
	g, ctx := errgroup.WithContext(ctx)
	if run := takeOverCSRControllers(completed); run != nil {
		g.Go(func() error { return run(ctx) })
	}
	g.Go(func() error { return kcmapp.Run(ctx, completed) })
	return g.Wait()
}

func runScheduler(ctx context.Context, args []string, logOpts *logsapi.LoggingOptions) error {
	opts := scheduleroptions.NewOptions()
	if err := parse("kube-scheduler", *opts.Flags, args); err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	featureGate := opts.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApplyWithOptions(opts.Logs, logOpts, featureGate); err != nil {
		return err
	}
	informerName, err := cache.NewInformerName("kube-scheduler")
	if err != nil {
		return err
	}
	opts.InformerName = informerName
	cc, sched, err := schedulerapp.Setup(ctx, opts)
	if err != nil {
		return err
	}
	err = schedulerapp.Run(ctx, cc, sched)
	if ctx.Err() != nil {
		return nil // without leader election Run always ends in an error
	}
	return err
}

// parse parses args into a fresh flag set holding the component's flags.
func parse(component string, named cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(component, pflag.ContinueOnError)
	for _, name := range named.Order {
		fs.AddFlagSet(named.FlagSets[name])
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", component, err)
	}
	return nil
}
