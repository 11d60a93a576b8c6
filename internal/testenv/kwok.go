package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// KWOK, the peer the benchmarks compare kdp's simulated nodes and pods
// with, run as a KWOK user runs it: the `kwok` command built from its
// module (nothing prebuilt is fetched), in its own process, against kdp's
// control plane, with the stages its module ships.
const (
	KWOKModule  = "sigs.k8s.io/kwok"
	KWOKVersion = "v0.8.0"

	// KWOKAnnotation=KWOKAnnotationValue is the selector KWOK's documentation
	// and its in-cluster configuration (kustomize/kwok/kwok.yaml) use: KWOK
	// manages only the Nodes that carry it, so in a mixed run it leaves
	// kdp's own simulated nodes alone.
	KWOKAnnotation      = "kwok.x-k8s.io/node"
	KWOKAnnotationValue = "fake"

	// kwokStages is the module's "fast" stage set, a kustomization (which
	// kwok's --config loads as it is) of node-initialize,
	// node-heartbeat-with-lease, pod-ready, pod-complete and pod-delete: the
	// stages KWOK's documentation calls its default simulation, and the same
	// five YAML files kwokctl embeds and writes into the --config it gives
	// kwok when the user has no stages of their own. The kwok command has no
	// stages built in: with no --config it exits ("no stages found").
	kwokStages = "kustomize/stage/fast"

	// kwokLeaseSeconds is the node Lease duration kwokctl, KWOK's
	// documentation and its in-cluster configuration give kwok (a kubelet's
	// default too); kwok renews each Lease every quarter of it, as a
	// kubelet. The flag defaults to 0, which means no Leases: the node
	// lifecycle controller would then mark every Node NotReady once its
	// grace period passes, since the heartbeat-with-lease stage writes the
	// Node's status only every 10 minutes.
	kwokLeaseSeconds = 40
)

var (
	kwokOnce sync.Once
	kwokPath string
	kwokErr  error
)

// KWOKBinary returns the path of the kwok binary: bin/kwok-<version> in the
// module root, built there once with `go install` from the module proxy
// and kept for later runs. The build takes a lock, so test packages that
// start at the same time build it once between them.
func KWOKBinary() (string, error) {
	kwokOnce.Do(func() { kwokPath, kwokErr = buildKWOK() })
	return kwokPath, kwokErr
}

func buildKWOK() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	path := filepath.Join(bin, "kwok-"+KWOKVersion)
	unlock, err := lockFile(filepath.Join(bin, ".kwok-build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	// Into a directory of its own, then renamed: a build that fails or is
	// killed half way leaves no binary that a later run would trust.
	tmp, err := os.MkdirTemp(bin, ".kwok-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", KWOKModule+"/cmd/kwok@"+KWOKVersion)
	// Outside this module, so that nothing of its go.mod bears on the
	// build: `go install module@version` builds the module as released.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building kwok %s: go install: %w\n%s", KWOKVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "kwok"), path); err != nil {
		return "", fmt.Errorf("building kwok %s: %w", KWOKVersion, err)
	}
	return path, nil
}

// kwokModuleDir is where the Go module cache holds KWOK's source, which
// `go install` put there; the stages are read from it as shipped.
func kwokModuleDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", KWOKModule+"@"+KWOKVersion)
	cmd.Dir = os.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding kwok %s in the module cache: %w\n%s", KWOKVersion, err, stderr.Bytes())
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("finding kwok %s in the module cache: %w", KWOKVersion, err)
	}
	if mod.Dir == "" {
		return "", fmt.Errorf("finding kwok %s in the module cache: %s", KWOKVersion, mod.Error)
	}
	return mod.Dir, nil
}

// KWOK is a running kwok process.
type KWOK struct {
	// Args are the arguments kwok was started with.
	Args    []string
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	home    string
}

// StartKWOK runs kwok against e's control plane as an admin, managing the
// Nodes annotated KWOKAnnotation=KWOKAnnotationValue with the stages of
// its module, and waits until its server answers /healthz (by then its
// controllers run). Its log goes to a file beside e's data dir (LogTail);
// Stop ends it, and it dies with the test binary if that dies first.
func StartKWOK(e *Env) (*KWOK, error) {
	bin, err := KWOKBinary()
	if err != nil {
		return nil, err
	}
	mod, err := kwokModuleDir()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("starting kwok: %w", err)
	}
	base := filepath.Join(filepath.Dir(e.DataDir), filepath.Base(e.DataDir))
	k := &KWOK{
		exited:  make(chan struct{}),
		logPath: base + ".kwok.log",
		home:    base + ".kwok-home",
		// The flags of KWOK's "kwok out of cluster" documentation and of the
		// kwok that kwokctl's binary runtime starts, less what only matters
		// in a real cluster: --cidr and --node-ip keep their defaults (the
		// benchmark's Nodes carry their own addresses), and the server has
		// no TLS certificate (it serves plain HTTP on the loopback). Every
		// other option keeps kwok's default: 4 workers each for node and pod
		// stages and for Leases, logs at INFO.
		Args: []string{
			"--kubeconfig=" + e.Kubeconfig(),
			"--config=" + filepath.Join(mod, kwokStages),
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + KWOKAnnotation + "=" + KWOKAnnotationValue,
			"--node-lease-duration-seconds=" + strconv.Itoa(kwokLeaseSeconds),
			// Its server (kubelet-like endpoints, metrics, /healthz), on a
			// free port as kwokctl gives it one; --node-port puts that port
			// in each Node's daemonEndpoints, as a kubelet's.
			"--server-address=127.0.0.1:" + strconv.Itoa(port),
			"--node-port=" + strconv.Itoa(port),
			"--node-name=localhost",
		},
	}
	if err := os.MkdirAll(k.home, 0o755); err != nil {
		return nil, err
	}
	logs, err := os.Create(k.logPath)
	if err != nil {
		return nil, err
	}
	k.cmd = exec.Command(bin, k.Args...)
	k.cmd.Stdout, k.cmd.Stderr = logs, logs
	// An empty HOME of its own: kwok also loads ~/.kwok/kwok.yaml when that
	// exists, and a developer's must not change what is measured.
	k.cmd.Env = append(os.Environ(), "HOME="+k.home)
	// If the test binary dies, kwok dies too: it has nothing to flush.
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := k.cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("starting kwok: %w", err)
	}
	go func() {
		_ = k.cmd.Wait()
		logs.Close()
		close(k.exited)
	}()
	if err := k.waitHealthy(port); err != nil {
		k.kill()
		_ = os.RemoveAll(k.home)
		return nil, fmt.Errorf("%w\n--- kwok log (end) ---\n%s", err, k.LogTail(4000))
	}
	return k, nil
}

func (k *KWOK) waitHealthy(port int) error {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.After(StartTimeout)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-k.exited:
			return fmt.Errorf("kwok exited before it was healthy: %v", k.cmd.ProcessState)
		case <-deadline:
			return fmt.Errorf("kwok not healthy after %s", StartTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Pid is the kwok process's id.
func (k *KWOK) Pid() int { return k.cmd.Process.Pid }

// Exited is closed when kwok has exited.
func (k *KWOK) Exited() <-chan struct{} { return k.exited }

// Stop sends SIGTERM and waits for kwok to exit, killing it after 10 s.
// It fails if kwok had exited before. Its log file stays, for LogTail; it
// is beside the data dir, which the caller removes.
func (k *KWOK) Stop() error {
	defer os.RemoveAll(k.home)
	select {
	case <-k.exited:
		return fmt.Errorf("kwok had exited before it was stopped: %v\n%s", k.cmd.ProcessState, k.LogTail(2000))
	default:
	}
	// Its exit status says nothing then: on SIGTERM kwok v0.8.0 exits 1 as
	// often as 0, when its server's goroutine sees the context canceled
	// ("Failed to run server") before main returns.
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.exited:
		return nil
	case <-time.After(10 * time.Second):
		k.kill()
		return fmt.Errorf("kwok did not exit within 10s of SIGTERM")
	}
}

func (k *KWOK) kill() {
	_ = k.cmd.Process.Kill()
	<-k.exited
}

// LogPath is the file kwok logs to.
func (k *KWOK) LogPath() string { return k.logPath }

// LogTail returns the last n bytes of kwok's log.
func (k *KWOK) LogTail(n int) string { return fileTail(k.logPath, n) }

// freePort is a TCP port on the loopback that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
