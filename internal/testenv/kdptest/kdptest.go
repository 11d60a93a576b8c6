// Package kdptest runs, in a test, the part of `kdp up` a controller test
// needs against the package's API server (internal/testenv): a simulated
// cloud in its own directory, the simulated machines, kdp's webhook server
// and the controllers a test sets up, with kdp's waits compressed.
package kdptest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/crds"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/timescale"
	"github.com/kdp-project/kdp/internal/webhook"
)

// Options of a kdp in a test.
type Options struct {
	// Cluster is the cluster's name.
	Cluster string
	// Scale compresses kdp's waits and the cloud's: 100 if 0.
	Scale timescale.Scale
	// Dir is the cloud's and the webhook's directory (a new one if empty);
	// a restart passes the one before.
	Dir string
	// Profile is the simulated cloud's timing profile (default fast).
	Profile string
	// JoinServer, if set, is the API server address nodes are told to join
	// (a kdp started with another address).
	JoinServer string
	// Seed is the cloud's seed (11 if 0).
	Seed uint64
	// Setup registers the controllers and hooks under test.
	Setup func(context.Context, Setup) error
	// Ready returns nil once the API server calls this kdp's webhooks (not
	// a stopped one's); Start waits for it.
	Ready func(context.Context) error
}

// Setup is what a test's controllers are set up with.
type Setup struct {
	Manager  ctrl.Manager
	Provider cloud.Provider
	Hooks    *webhook.Server
	Account  cloud.Account
	// Join is where nodes join.
	Join  join.Options
	Scale timescale.Scale
}

// KDP is a running kdp.
type KDP struct {
	Cloud    *sim.Cloud
	Provider *sim.Provider
	Dir      string
	// Join is where nodes join (what Setup was given).
	Join join.Options
	// Stop stops kdp, then its cloud, as `kdp up` stops (once; also at
	// the test's end).
	Stop func()
}

// Start starts kdp against env's API server.
func Start(t testing.TB, env *testenv.Env, o Options) *KDP {
	t.Helper()
	ctx := context.Background()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Scale == 0 {
		o.Scale = 100
	}
	if o.Seed == 0 {
		o.Seed = 11
	}
	if err := crds.Install(ctx, env.Client); err != nil {
		t.Fatal(err)
	}
	if err := join.EnsureRBAC(ctx, env.Clientset); err != nil {
		t.Fatal(err)
	}
	so := sim.DefaultOptions()
	so.Dir, so.Scale, so.Seed = filepath.Join(o.Dir, "cloud"), o.Scale, o.Seed
	if o.Profile != "" {
		so.Profile = o.Profile
	}
	c, err := sim.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	cloudCtx, stopCloud := context.WithCancel(ctx)
	go func() { _ = c.Run(cloudCtx) }()
	runCtx, cancel := context.WithCancel(ctx)
	p := c.Provider(o.Cluster)
	mgr, err := manager.New(env.Config, manager.Options{MetricsAddr: "0", HealthAddr: "0", SkipNameValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	timing := c.Timing()
	if err := kubelet.Setup(runCtx, mgr, p, kubelet.Options{Clock: clock.RealClock{}, Timing: kubelet.Timing{
		Join: timing.Join, PodStart: timing.PodStart, Heartbeat: timing.Heartbeat, Jitter: timing.Jitter,
		MicroVMJoin: timing.MicroVMJoin, ImagePull: timing.ImagePull, ImagePullCached: timing.ImagePullCached,
	}}); err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(env.Config, webhook.Options{Dir: filepath.Join(o.Dir, "webhook")})
	if err != nil {
		t.Fatal(err)
	}
	account, _ := p.Account(ctx)
	cfg := rest.CopyConfig(env.Config)
	if err := rest.LoadTLSFiles(cfg); err != nil {
		t.Fatal(err)
	}
	if o.JoinServer != "" {
		cfg.Host = o.JoinServer
	}
	s := Setup{Manager: mgr, Provider: p, Hooks: hooks, Account: account, Scale: o.Scale,
		Join: join.Options{Server: cfg.Host, CA: cfg.CAData, ServiceCIDR: cluster.ServiceCIDR}}
	if o.Setup != nil {
		if err := o.Setup(runCtx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := hooks.AddToManager(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(runCtx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	k := &KDP{Cloud: c, Provider: p, Dir: o.Dir, Join: s.Join}
	stopped := false
	k.Stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel() // kdp first, then its cloud, as `kdp up` stops
		<-done
		stopCloud()
		<-c.Stopped()
	}
	t.Cleanup(k.Stop)
	if o.Ready != nil {
		testenv.Eventually(t, 30*time.Second, func() error { return o.Ready(ctx) })
	}
	return k
}
