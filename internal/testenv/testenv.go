// Package testenv runs kdp's embedded control plane for tests: one per test
// package, started in TestMain, the way envtest runs kube-apiserver. The
// control plane runs in a kdp subprocess (`kdp up --control-plane-only`) so
// that no test binary links k8s.io/kubernetes.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/manager"
)

var logOnce sync.Once

// StartTimeout bounds how long Start waits for the apiserver to be ready.
const StartTimeout = 90 * time.Second

// Options configure a kdp process.
type Options struct {
	// DataDir is the data directory; a new temporary one when empty.
	DataDir string
	// Args are extra arguments to `kdp up`.
	Args []string
	// Full runs kdp's manager too; by default only the control plane runs.
	Full bool
	// Kubeconfig, if set, runs kdp against that cluster (kdp up
	// --kubeconfig): its controllers and simulated cloud, no control plane.
	Kubeconfig string
}

// Env is a running kdp process and clients for its cluster.
type Env struct {
	DataDir string
	// Config is the admin's REST config.
	Config    *rest.Config
	Client    client.Client
	Clientset kubernetes.Interface

	cmd *exec.Cmd
	// exited is closed once kdp has exited.
	exited chan struct{}
	// kdp's stdout (what a user reads) and stderr (the components' logs).
	stdoutPath, logPath string
	ownDir              bool
	// kubeconfig is the cluster's, when kdp runs against another one.
	kubeconfig string
}

// Start runs `kdp up` on free ports and waits until its apiserver answers
// /readyz. On failure the error carries the end of kdp's output.
func Start(opts Options) (*Env, error) {
	logOnce.Do(func() { ctrllog.SetLogger(klog.NewKlogr()) })
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	e := &Env{DataDir: opts.DataDir, exited: make(chan struct{}), kubeconfig: opts.Kubeconfig}
	if e.DataDir == "" {
		if e.DataDir, err = os.MkdirTemp("", "kdp-testenv-"); err != nil {
			return nil, err
		}
		e.ownDir = true
	}
	// Beside the data dir, not in it: kdp must find a fresh data dir empty.
	base := filepath.Join(filepath.Dir(e.DataDir), filepath.Base(e.DataDir))
	e.stdoutPath, e.logPath = base+".stdout", base+".log"
	stdout, err := os.Create(e.stdoutPath)
	if err != nil {
		return nil, err
	}
	logs, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	args := []string{"up", "--data-dir", e.DataDir, "--log-file", "-",
		"--apiserver-port", "0", "--etcd-port", "0", "--etcd-peer-port", "0",
		"--metrics-port", "0", "--health-port", "0", "--webhook-port", "0", "--eks-api-port", "0"}
	switch {
	case opts.Kubeconfig != "":
		args = append(args, "--kubeconfig", opts.Kubeconfig)
	case !opts.Full:
		args = append(args, "--control-plane-only")
	}
	e.cmd = exec.Command(bin, append(args, opts.Args...)...)
	e.cmd.Stdout, e.cmd.Stderr = stdout, logs
	// If the test binary dies, kdp stops too (and closes etcd cleanly).
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		stdout.Close()
		logs.Close()
		return nil, err
	}
	go func() {
		_ = e.cmd.Wait()
		stdout.Close()
		logs.Close()
		close(e.exited)
	}()
	if err := e.waitReady(); err != nil {
		e.Kill()
		err = fmt.Errorf("%w\n--- kdp stdout ---\n%s\n--- kdp log (end) ---\n%s", err, e.Stdout(), e.LogTail(4000))
		e.Cleanup()
		return nil, err
	}
	return e, nil
}

// Kubeconfig is the path of the admin kubeconfig.
func (e *Env) Kubeconfig() string {
	if e.kubeconfig != "" {
		return e.kubeconfig
	}
	return cluster.Layout{Root: e.DataDir}.AdminKubeconfig()
}

// ReadyLine is what kdp prints on stdout once everything runs;
// ExternalReadyLine what it prints when it runs against another cluster.
const (
	ReadyLine         = ") is up in "
	ExternalReadyLine = "controllers running against "
)

// waitReady waits for kdp's ready line, then connects as the admin.
func (e *Env) waitReady() error {
	deadline := time.After(StartTimeout)
	ready := ReadyLine
	if e.kubeconfig != "" {
		ready = ExternalReadyLine
	}
	for !strings.Contains(e.Stdout(), ready) {
		select {
		case <-e.exited:
			return fmt.Errorf("kdp exited before it was ready: %v", e.cmd.ProcessState)
		case <-deadline:
			return fmt.Errorf("kdp not ready after %s", StartTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.Kubeconfig())
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	if e.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return fmt.Errorf("kdp said it is up, but /readyz: %w", err)
	}
	e.Config = cfg
	e.Client, err = client.New(cfg, client.Options{Scheme: manager.Scheme()})
	return err
}

// Stdout is everything kdp printed on stdout so far.
func (e *Env) Stdout() string {
	b, _ := os.ReadFile(e.stdoutPath)
	return string(b)
}

// Pid is the kdp process's id.
func (e *Env) Pid() int { return e.cmd.Process.Pid }

// Exited is closed when the kdp process has exited.
func (e *Env) Exited() <-chan struct{} { return e.exited }

// ExitCode is kdp's exit code, once it has exited.
func (e *Env) ExitCode() int { return e.cmd.ProcessState.ExitCode() }

// Stop sends SIGTERM and waits for kdp to exit. It keeps the data dir:
// Cleanup removes it.
func (e *Env) Stop() error {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		e.Kill()
		return fmt.Errorf("kdp did not exit within 30s of SIGTERM")
	}
	if code := e.ExitCode(); code != 0 {
		return fmt.Errorf("kdp exited with code %d\n%s", code, e.LogTail(2000))
	}
	return nil
}

// Kill ends kdp with SIGKILL, as a crash would, and waits for it.
func (e *Env) Kill() {
	_ = e.cmd.Process.Kill()
	<-e.exited
}

// Cleanup removes the data dir if Start made it, and kdp's output files.
func (e *Env) Cleanup() {
	if e.ownDir {
		_ = os.RemoveAll(e.DataDir)
	}
	_ = os.Remove(e.stdoutPath)
	_ = os.Remove(e.logPath)
}

// LogTail returns the last n bytes of kdp's log.
func (e *Env) LogTail(n int) string { return fileTail(e.logPath, n) }

// fileTail returns the last n bytes of a file, from a line's start.
func fileTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
