package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/clusters"
	"github.com/kdp-project/kdp/internal/eksapi"
	"github.com/kdp-project/kdp/internal/gctune"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/pki"
	"github.com/kdp-project/kdp/internal/timescale"
	"github.com/kdp-project/kdp/internal/version"
	"github.com/kdp-project/kdp/internal/webhook"
)

type upFlags struct {
	cluster          cluster.Config
	kubeconfig       string
	controlPlaneOnly bool
	leaderElect      bool
	logFile          string
	verbosity        int
	apiserverArgs    []string
	kcmArgs          []string
	schedulerArgs    []string
	cloud            string
	simOptions       sim.Options
	timeScale        float64
	pprofAddr        string
	// eksAPITLS serves the EKS API over HTTPS.
	eksAPITLS bool
	// maxClusters bounds the clusters CreateCluster makes.
	maxClusters int
}

// Clouds kdp up can run with (--cloud).
const (
	cloudSim  = "sim"
	cloudNone = "none"
)

func newUpCommand(deps Deps) *cobra.Command {
	f := &upFlags{cluster: cluster.Default(), simOptions: sim.DefaultOptions(), maxClusters: DefaultMaxClusters()}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a local Kubernetes control plane and kdp's controllers in this process",
		Long: `Run a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) and kdp's controllers in this process, until interrupted.

With --kubeconfig, run only kdp's controllers, against an existing cluster. Either
way the simulated cloud (--cloud sim, the default) runs in this process too, with its
state in DATA_DIR/cloud: outside every cluster, as a cloud is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd.Context(), deps, f, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	c := &f.cluster
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory: etcd data, PKI, kubeconfig ($KDP_DATA_DIR, else ~/.kdp)")
	fs.StringVar(&c.ClusterName, "cluster-name", c.ClusterName, "name of the cluster")
	fs.StringVar(&c.BindAddress, "bind-address", c.BindAddress, "address every server listens on")
	for _, p := range c.Ports() {
		fs.IntVar(p.Ref, p.Flag, p.Port, "port of "+p.Name+" (0: any free port)")
	}
	fs.StringVar(&c.WebhookHost, "webhook-host", "", "host[:port] the API server dials for kdp's admission webhooks (default: the bind address); with --kubeconfig, an address of this machine that cluster's API server reaches")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "run only kdp's controllers, against the cluster of this kubeconfig")
	fs.BoolVar(&f.controlPlaneOnly, "control-plane-only", false, "run only the control plane, not kdp's controllers")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "take the kdp-manager Lease before running controllers")
	fs.StringVar(&f.logFile, "log-file", "", `log file ("-" for stderr; default DATA_DIR/kdp.log)`)
	fs.IntVarP(&f.verbosity, "v", "v", 0, "log verbosity")
	fs.StringArrayVar(&f.apiserverArgs, "kube-apiserver-arg", nil, "extra kube-apiserver flag, --name=value (repeatable)")
	fs.StringArrayVar(&f.kcmArgs, "kube-controller-manager-arg", nil, "extra kube-controller-manager flag (repeatable)")
	fs.StringArrayVar(&f.schedulerArgs, "kube-scheduler-arg", nil, "extra kube-scheduler flag (repeatable)")
	fs.StringVar(&f.pprofAddr, "pprof-address", "", "serve Go pprof profiles of the kdp process on this host:port (off when empty)")
	fs.StringVar(&f.cloud, "cloud", cloudSim, "the cloud kdp's nodes come from: sim (the simulated cloud) or none")
	fs.StringVar(&f.simOptions.Region, "region", f.simOptions.Region, "simulated cloud: region")
	fs.IntVar(&f.simOptions.Zones, "zones", f.simOptions.Zones, "simulated cloud: number of availability zones")
	fs.StringVar(&f.simOptions.Profile, "sim-profile", f.simOptions.Profile, "simulated cloud timing: fast (seconds), realistic (nodes Ready in 1-2 minutes, as on EKS) or instant (no delays, for benchmarks)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "make every wait of kdp's own pass N times faster (spot notice, timeouts, simulated delays); 1 is exact")
	fs.Uint64Var(&f.simOptions.Seed, "sim-seed", 0, "simulated cloud: the seed of its ids, for a new cloud (0: random; a cloud keeps the seed it was created with)")
	fs.StringVar(&f.simOptions.Account, "account-id", f.simOptions.Account, "simulated cloud: the 12-digit account id of a new cloud, in its ARNs and the EKS API's (a cloud keeps the account it was created with)")
	fs.IntVar(&f.maxClusters, "max-clusters", f.maxClusters, "the most clusters the EKS API's CreateCluster runs beside kdp's own, each a control plane of its own (default: one per 2 GiB of this machine's memory, at most 4 per core)")
	fs.BoolVar(&f.eksAPITLS, "eks-api-tls", false, "serve the EKS API over HTTPS, with a certificate of kdp's CA (kdp env sets AWS_CA_BUNDLE)")
	return cmd
}

// validateCloud checks the flags of the cloud, every problem at once.
func (f *upFlags) validateCloud() error {
	f.simOptions.Scale = timescale.Scale(f.timeScale)
	if f.maxClusters < 0 {
		return fmt.Errorf("--max-clusters %d: must be 0 (CreateCluster refused) or more", f.maxClusters)
	}
	switch f.cloud {
	case cloudSim:
		return f.simOptions.Validate()
	case cloudNone:
		return f.simOptions.Scale.Validate()
	}
	return fmt.Errorf("--cloud %q: must be %s or %s", f.cloud, cloudSim, cloudNone)
}

// runUp starts, in order: the data directory and its lock, logging, the
// ports, the PKI and the control plane (unless --kubeconfig names another
// cluster), kdp's CRDs, the simulated cloud and kdp's manager, and waits
// until the API server calls kdp's admission webhooks; it stops them in
// reverse when ctx ends or a part fails.
func runUp(ctx context.Context, deps Deps, f *upFlags, out io.Writer) error {
	start := time.Now()
	cfg := f.cluster
	cfg.Verbosity = f.verbosity
	cfg.ExtraArgs = map[string][]string{
		"kube-apiserver":          f.apiserverArgs,
		"kube-controller-manager": f.kcmArgs,
		"kube-scheduler":          f.schedulerArgs,
	}
	external := f.kubeconfig != ""
	if err := cfg.Validate(); err != nil {
		return err
	}
	var restCfg *rest.Config
	if external {
		var err error
		if restCfg, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig); err != nil {
			return fmt.Errorf("--kubeconfig %s: %w", f.kubeconfig, err)
		}
		if f.logFile == "" {
			f.logFile = "-"
		}
	}
	if err := f.validateCloud(); err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	cfg.DataDir = dir
	layout := cluster.Layout{Root: dir}
	created, err := cluster.PrepareDataDir(dir)
	if err != nil {
		return err
	}
	lock, err := cluster.AcquireLock(layout)
	if err != nil {
		return err
	}
	defer lock.Release()
	// Node groups (their CRDs, controllers and admission webhooks) need a
	// cloud.
	hooks := !f.controlPlaneOnly && f.cloud == cloudSim
	var skip []string
	if f.controlPlaneOnly {
		skip = append(skip, "manager metrics", "manager health")
	}
	if !hooks {
		// The EKS API serves node groups and Fargate profiles: it runs
		// with their controllers.
		skip = append(skip, cluster.WebhookPortName, cluster.EKSAPIPortName)
	}
	if external {
		skip = append(skip, "kube-apiserver", "etcd", "etcd peer")
	}
	listeners, err := cfg.Reserve(skip...)
	if err != nil {
		if created {
			_ = os.RemoveAll(dir) // nothing was in it but the lock
		}
		return err
	}
	defer listeners.Close()
	logOut, closeLog, err := setupLogging(f, layout)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg.LogOutput = logOut
	go gctune.Run(ctx, time.Second, klog.Background().WithName("gctune"))

	var cpFailed <-chan error
	admin := f.kubeconfig
	if !external {
		bundle, err := pki.Ensure(layout, cfg)
		if err != nil {
			return fmt.Errorf("preparing PKI in %s: %w", layout.PKIDir(), err)
		}
		cp, err := deps.StartControlPlane(ctx, cfg, listeners, bundle)
		if err != nil {
			return fmt.Errorf("starting control plane: %w", err)
		}
		defer cp.Stop()
		cpFailed = cp.Failed()
		admin = layout.AdminKubeconfig()
		if restCfg, err = clientcmd.BuildConfigFromFlags("", layout.Kubeconfig("kdp-manager")); err != nil {
			return err
		}
	}

	var mgrDone, cloudDone <-chan error
	var webhookURL string // where the API server calls kdp's webhooks, if they run
	var eksAPI eksapi.Endpoint
	if !f.controlPlaneOnly {
		if err := bootstrapCluster(ctx, admin, !external, hooks); err != nil {
			return err
		}
		var c *runningCloud
		if f.cloud == cloudSim {
			if c, err = startCloud(ctx, f, cfg.ClusterName, layout); err != nil {
				return err
			}
			defer c.stop()
			cloudDone = c.done
		}
		webhookLn := listeners.Take(cluster.WebhookPortName) // nil without hooks
		eksAPILn := listeners.Take(cluster.EKSAPIPortName)   // likewise
		listeners.Close()                                    // the manager binds its other ports itself
		m, err := startManager(ctx, restCfg, f, cfg, layout, c, webhookLn, eksAPILn)
		if err != nil {
			return err
		}
		defer m.stop()
		if m.clusters != nil {
			// The clusters' control planes stop first, cleanly (SIGTERM),
			// while the manager still runs.
			defer m.clusters.Stop()
		}
		mgrDone = m.done
		if m.hooks != nil {
			if err := waitAdmission(ctx, restCfg, m.hooks, m.done); err != nil {
				return err
			}
			webhookURL = m.hooks.URL("/")
		}
		eksAPI = m.eksAPI
	}

	if external {
		fmt.Fprintf(out, "%s: controllers running against %s\n", version.String(), restCfg.Host)
		if f.cloud == cloudSim {
			fmt.Fprintf(out, "  simulated cloud: %s (cluster %s)\n", layout.CloudDir(), cfg.ClusterName)
			fmt.Fprintf(out, "  webhooks:        %s (where that cluster's API server calls kdp: --webhook-host)\n", webhookURL)
			fmt.Fprintf(out, "  EKS API:         %s (credentials: %s)\n", eksAPI.URL, layout.EKSCredentials())
			kubeconfig, _ := filepath.Abs(f.kubeconfig)
			fmt.Fprintf(out, "Use it with:  export KUBECONFIG=%s KDP_DATA_DIR=%s; kdp sim instances\n", shellQuote(kubeconfig), shellQuote(cfg.DataDir))
		}
	} else {
		printReady(out, cfg, layout, f, webhookURL, eksAPI, time.Since(start))
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "Stopping kdp...")
		klog.InfoS("stopping", "reason", context.Cause(ctx))
		return nil
	case err := <-cpFailed:
		return fmt.Errorf("control plane failed: %w", err)
	case err := <-mgrDone:
		return fmt.Errorf("manager failed: %w", err)
	case err := <-cloudDone:
		return fmt.Errorf("simulated cloud failed: %w", err)
	}
}

// runningCloud is the simulated cloud kdp up runs, and its API for the CLI.
type runningCloud struct {
	cloud    *sim.Cloud
	provider *sim.Provider
	// done delivers the error of a cloud that failed on its own.
	done <-chan error
	stop func()
}

// startCloud opens the simulated cloud of the data dir, runs its loop and
// serves it to the CLI on the data dir's socket. It serves the cluster of
// that name.
func startCloud(ctx context.Context, f *upFlags, clusterName string, layout cluster.Layout) (*runningCloud, error) {
	o := f.simOptions
	o.Dir, o.Log = layout.CloudDir(), klog.Background().WithName("cloud")
	c, err := sim.Open(o)
	if err != nil {
		return nil, err
	}
	if err := c.Register(ctrlmetrics.Registry); err != nil {
		return nil, err
	}
	// The cloud outlives the manager: it stops after the controllers that
	// use it.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() {
		if err := c.Run(runCtx); err != nil {
			done <- err
		}
	}()
	p := c.Provider(clusterName)
	if err := simapi.Serve(runCtx, layout.CloudSocket(), p, o.Log.WithName("api")); err != nil {
		cancel()
		<-c.Stopped()
		return nil, err
	}
	return &runningCloud{cloud: c, provider: p, done: done, stop: func() {
		cancel()
		<-c.Stopped()
	}}, nil
}

// runningManager is kdp's manager, running in the background.
type runningManager struct {
	// hooks is the admission-webhook server, nil without a cloud.
	hooks *webhook.Server
	// eksAPI is where the EKS API serves, empty without a cloud.
	eksAPI eksapi.Endpoint
	// clusters are the clusters CreateCluster made, nil without a cloud.
	clusters *clusters.Registry
	// done delivers an error if the manager stops on its own.
	done <-chan error
	// stop cancels the manager and waits for it to finish.
	stop func()
}

// startManager starts kdp's manager in the background, with, if there is a
// cloud, the simulated machines, the managed node groups and Fargate
// profiles (their controllers and admission webhooks, served on
// webhookLn) and the EKS API (on eksAPILn); it owns both listeners.
func startManager(ctx context.Context, restCfg *rest.Config, f *upFlags, cfg cluster.Config, layout cluster.Layout, c *runningCloud, webhookLn, eksAPILn net.Listener) (_ *runningManager, err error) {
	defer func() {
		if err != nil && webhookLn != nil {
			webhookLn.Close() // a started server closes it itself
		}
		if err != nil && eksAPILn != nil {
			eksAPILn.Close()
		}
	}()
	mgr, err := manager.New(restCfg, manager.Options{
		MetricsAddr:    hostPort(cfg.BindAddress, cfg.ManagerMetricPort),
		HealthAddr:     hostPort(cfg.BindAddress, cfg.ManagerHealthPort),
		LeaderElection: f.leaderElect,
		PprofAddr:      f.pprofAddr,
	})
	if err != nil {
		return nil, err
	}
	m := &runningManager{}
	if c != nil {
		t := c.cloud.Timing()
		if err := kubelet.Setup(ctx, mgr, c.provider, kubelet.Options{Timing: kubelet.Timing{
			Join: t.Join, PodStart: t.PodStart, Heartbeat: t.Heartbeat, Jitter: t.Jitter,
			MicroVMJoin: t.MicroVMJoin, ImagePull: t.ImagePull, ImagePullCached: t.ImagePullCached,
		}}); err != nil {
			return nil, err
		}
		if m.hooks, err = setupNodeGroups(ctx, mgr, restCfg, f, cfg, layout, c, webhookLn); err != nil {
			return nil, err
		}
		ln := eksAPILn
		eksAPILn = nil // setupEKSAPI owns it
		if m.eksAPI, m.clusters, err = setupEKSAPI(ctx, mgr, restCfg, f, cfg, layout, c, ln); err != nil {
			return nil, fmt.Errorf("setting up the EKS API: %w", err)
		}
	}
	mgrCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if err := mgr.Start(mgrCtx); err != nil {
			errc <- err
		} else if mgrCtx.Err() == nil {
			errc <- errors.New("stopped")
		}
	}()
	m.done = errc
	m.stop = func() {
		cancel()
		<-finished
	}
	return m, nil
}

func printReady(out io.Writer, cfg cluster.Config, layout cluster.Layout, f *upFlags, webhookURL string, eksAPI eksapi.Endpoint, took time.Duration) {
	fmt.Fprintf(out, "%s is up in %.1fs\n", version.String(), took.Seconds())
	fmt.Fprintf(out, "  cluster:     %s\n", cfg.ClusterName)
	fmt.Fprintf(out, "  API server:  %s\n", cfg.APIServerURL())
	fmt.Fprintf(out, "  data dir:    %s\n", cfg.DataDir)
	fmt.Fprintf(out, "  kubeconfig:  %s\n", layout.AdminKubeconfig())
	if eksAPI.URL != "" {
		fmt.Fprintf(out, "  EKS API:     %s (credentials: %s)\n", eksAPI.URL, layout.EKSCredentials())
	}
	if !f.controlPlaneOnly {
		fmt.Fprintf(out, "  metrics:     http://%s/metrics\n", hostPort(cfg.BindAddress, cfg.ManagerMetricPort))
		fmt.Fprintf(out, "  health:      http://%s/healthz\n", hostPort(cfg.BindAddress, cfg.ManagerHealthPort))
	}
	if webhookURL != "" {
		fmt.Fprintf(out, "  webhooks:    %s\n", webhookURL)
	}
	if f.logFile != "-" {
		fmt.Fprintf(out, "  logs:        %s\n", logPath(f, layout))
	}
	if !f.controlPlaneOnly && f.cloud == cloudSim {
		fmt.Fprintf(out, "  cloud:       simulated, %s (%s, %d zones)\n", layout.CloudDir(), f.simOptions.Region, f.simOptions.Zones)
	}
	env := "kdp env"
	if cfg.DataDir != cluster.DefaultDataDir() {
		env += " --data-dir " + shellQuote(cfg.DataDir)
	}
	fmt.Fprintf(out, "Use it with:  eval \"$(%s)\"; kubectl get nodes\n", env)
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
