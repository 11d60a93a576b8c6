// Package controlplane runs a real Kubernetes control plane inside the kdp
// process: embedded etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, built from k8s.io/kubernetes. It is the only package that
// imports k8s.io/kubernetes, so that everything else compiles and tests fast.
//
// Each component is built from its own options struct, with flags parsed
// from a defaults map that the user's extra arguments override (args.go), and
// run in a goroutine. They start in order, each waiting for the one before to
// be ready, and stop in reverse: the clients of the apiserver first, then the
// apiserver, then etcd.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/pki"
)

// ReadyTimeout bounds how long Start waits for each component to be ready.
const ReadyTimeout = 60 * time.Second

// ControlPlane is a running control plane.
type ControlPlane struct {
	etcd *embed.Etcd
	// components run in start order; Stop stops them in reverse.
	components []*component
	failed     chan error
	stopOnce   sync.Once
}

// component is one upstream component running in a goroutine.
type component struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

func init() {
	// The three components apply the same logging configuration in turn;
	// without this the second one fails with "logging configuration was
	// already applied".
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
}

// Start runs the control plane of cfg and returns once the apiserver reports
// /readyz ok and the controller-manager and scheduler are running. The
// apiserver serves on the listener reserved for it in ls. If ctx ends or a
// component fails before that, everything started so far is stopped again.
func Start(ctx context.Context, cfg cluster.Config, ls cluster.Listeners, b *pki.Bundle) (cp *ControlPlane, err error) {
	layout := cluster.Layout{Root: cfg.DataDir}
	cp = &ControlPlane{failed: make(chan error, 4)}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()

	start := time.Now()
	// One value shared by all three components: applying the same logging
	// configuration again is a no-op, a different one an error.
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	logOpts := &logsapi.LoggingOptions{ErrorStream: out, InfoStream: out}

	// etcd has no way to take a listener, so its ports are released just
	// before it binds them again.
	_ = ls.Take("etcd").Close()
	_ = ls.Take("etcd peer").Close()
	if cp.etcd, err = startEtcd(cfg, layout, b); err != nil {
		return cp, err
	}
	klog.InfoS("etcd is ready", "url", cfg.EtcdURL(), "elapsed", time.Since(start))

	apiserverArgs, err := apiserverArgs(cfg, b)
	if err != nil {
		return cp, err
	}
	ln := ls.Take("kube-apiserver")
	cp.run("kube-apiserver", func(ctx context.Context) error { return runAPIServer(ctx, apiserverArgs, logOpts, ln) })
	if err := cp.waitReady(ctx, layout); err != nil {
		return cp, err
	}
	klog.InfoS("kube-apiserver is ready", "url", cfg.APIServerURL(), "elapsed", time.Since(start))

	kcmArgs, err := controllerManagerArgs(cfg, layout, b)
	if err != nil {
		return cp, err
	}
	schedArgs, err := schedulerArgs(cfg, layout)
	if err != nil {
		return cp, err
	}
	cp.run("kube-controller-manager", func(ctx context.Context) error { return runControllerManager(ctx, kcmArgs, logOpts) })
	cp.run("kube-scheduler", func(ctx context.Context) error { return runScheduler(ctx, schedArgs, logOpts) })
	klog.InfoS("control plane is running", "elapsed", time.Since(start))
	return cp, nil
}

// Failed delivers the error of a component that stopped on its own.
func (cp *ControlPlane) Failed() <-chan error { return cp.failed }

// run starts a component in a goroutine with its own context, so that Stop
// can end the components one at a time.
func (cp *ControlPlane) run(name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &component{name: name, cancel: cancel, done: make(chan struct{})}
	cp.components = append(cp.components, c)
	go func() {
		defer close(c.done)
		err := fn(ctx)
		if ctx.Err() != nil {
			return // asked to stop: whatever it returned is part of stopping
		}
		if err == nil {
			err = errors.New("exited")
		}
		select {
		case cp.failed <- fmt.Errorf("%s: %w", name, err):
		default:
		}
	}()
}

// StopTimeout bounds how long Stop waits for one component.
const StopTimeout = 10 * time.Second

// Stop ends the components in reverse start order and closes etcd last.
// It is safe to call more than once.
func (cp *ControlPlane) Stop() {
	cp.stopOnce.Do(func() {
		for i := len(cp.components) - 1; i >= 0; i-- {
			c := cp.components[i]
			start := time.Now()
			c.cancel()
			select {
			case <-c.done:
				klog.InfoS("stopped", "component", c.name, "elapsed", time.Since(start))
			case <-time.After(StopTimeout):
				klog.InfoS("did not stop in time; leaving it", "component", c.name, "timeout", StopTimeout)
			}
		}
		if cp.etcd != nil {
			start := time.Now()
			cp.etcd.Close()
			klog.InfoS("stopped", "component", "etcd", "elapsed", time.Since(start))
		}
		logs.FlushLogs()
	})
}

// waitReady polls the apiserver's /readyz with the admin credentials until it
// answers ok, a component fails, or ReadyTimeout passes.
func (cp *ControlPlane) waitReady(ctx context.Context, layout cluster.Layout) error {
	restCfg, err := clientcmd.BuildConfigFromFlags("", layout.AdminKubeconfig())
	if err != nil {
		return err
	}
	restCfg.Timeout = 2 * time.Second
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	deadline := time.After(ReadyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = readyz(ctx, client.Discovery().RESTClient()); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-cp.failed:
			return err
		case <-deadline:
			return fmt.Errorf("kube-apiserver not ready after %s: %w", ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

func readyz(ctx context.Context, c rest.Interface) error {
	body, err := c.Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s", err, body)
	}
	return nil
}
