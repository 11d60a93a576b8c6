package clusters

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// StopTimeout bounds how long a child has to stop after SIGTERM before it
// is killed.
const StopTimeout = 10 * time.Second

// process is one run of a child control plane.
type process struct {
	cmd *exec.Cmd
	// exited is closed when the process has exited, with err its status.
	exited chan struct{}
	err    error
}

// startProcess starts `BINARY up --control-plane-only` for the cluster of
// layout on ports, with extra kube-apiserver flags, its output appended to
// the cluster's process log. The child gets SIGKILL when kdp dies
// (PR_SET_PDEATHSIG): the signal is tied to the thread that forked it, so
// that thread stays locked to the goroutine that waits for the child, and
// lives as long as it.
func startProcess(binary, name string, layout Layout, ports Ports, apiserverArgs []string) (*process, error) {
	log, err := os.OpenFile(layout.ProcessLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	args := []string{"up", "--control-plane-only",
		"--data-dir", layout.Data(), "--cluster-name", name, "--bind-address", "127.0.0.1",
		"--apiserver-port", strconv.Itoa(ports.APIServer), "--etcd-port", strconv.Itoa(ports.Etcd), "--etcd-peer-port", strconv.Itoa(ports.EtcdPeer),
		// Unused with --control-plane-only, but reserved unless 0.
		"--metrics-port", "0", "--health-port", "0", "--webhook-port", "0", "--eks-api-port", "0",
	}
	for _, a := range apiserverArgs {
		args = append(args, "--kube-apiserver-arg="+a)
	}
	p := &process{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer log.Close()
		cmd := exec.Command(binary, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = append(os.Environ(), "KDP_DATA_DIR=") // the child takes its data dir from its flag only
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.cmd = cmd
		started <- nil
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	return p, nil
}

// pid is the process's id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the child to stop (SIGTERM), and kills it if it has not
// within StopTimeout.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL) // its process group
		<-p.exited
	}
}

// describeExit says how a process ended, for a health issue: "exit status
// 1", "signal: killed".
func describeExit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	return err.Error()
}

// freePorts picks n distinct free ports on loopback.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portsFree reports whether every port of ps can be bound on loopback.
func portsFree(ps Ports) bool {
	for _, port := range []int{ps.APIServer, ps.Etcd, ps.EtcdPeer} {
		if port == 0 {
			return false
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// readyz asks the API server of the admin kubeconfig whether it is ready.
func readyz(ctx context.Context, kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 2 * time.Second
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}

// orphan is the pid of a kdp that still holds the lock of a child's data
// dir (a control plane that outlived a kdp killed before
// PR_SET_PDEATHSIG existed, say), if its command line runs that data dir.
func orphan(layout Layout) (int, bool) {
	raw, err := os.ReadFile(layout.Cluster().Lock())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 || pid == os.Getpid() {
		return 0, false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), layout.Data()) {
		return 0, false
	}
	return pid, true
}

// killAndWait kills pid's process group (a kdp and its control plane) and
// waits up to StopTimeout for pid to be gone.
func killAndWait(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(StopTimeout)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
