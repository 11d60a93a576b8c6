package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/testenv"
)

// kdp runs the kdp binary and returns its exit code, stdout and stderr.
func kdp(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func TestE2E_UpRejectsBadInputAndWritesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad cluster name", []string{"--cluster-name", "_bad"}, `--cluster-name "_bad": must begin with a letter or digit and have only letters, digits, hyphens and underscores`},
		{"port out of range", []string{"--apiserver-port", "70000"}, "--apiserver-port 70000: must be between 0 and 65535"},
		{"port used twice", []string{"--apiserver-port", "17500", "--etcd-port", "17500"}, "already used by --etcd-port"},
		{"bad bind address", []string{"--bind-address", "localhost"}, `--bind-address "localhost": must be an IP address`},
		{"bad extra arg", []string{"--kube-apiserver-arg", "v"}, `--kube-apiserver-arg "v": must have the form --name=value`},
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{"port taken", []string{"--apiserver-port", takenPort}, "kube-apiserver port 127.0.0.1:" + takenPort + " (--apiserver-port): address already in use"},
		{"webhook port taken", []string{"--webhook-port", takenPort}, "webhook port 127.0.0.1:" + takenPort + " (--webhook-port): address already in use"},
		{"bad webhook host", []string{"--webhook-host", "https://10.0.0.1:8443"}, `--webhook-host "https://10.0.0.1:8443": must be an IP address or a DNS name, with an optional :port`},
		{"unknown cloud", []string{"--cloud", "aws"}, `--cloud "aws": must be sim or none`},
		{"EKS API port taken", []string{"--eks-api-port", takenPort}, "EKS API port 127.0.0.1:" + takenPort + " (--eks-api-port): address already in use"},
		{"bad account id", []string{"--account-id", "12345"}, `--account-id "12345": must be 12 digits`},
		{"bad sim profile", []string{"--sim-profile", "slow"}, `--sim-profile "slow": must be one of fast, instant, realistic`},
		{"missing kubeconfig", []string{"--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"up", "--data-dir", dir, "--etcd-port", "0", "--etcd-peer-port", "0", "--apiserver-port", "0", "--metrics-port", "0", "--health-port", "0", "--webhook-port", "0", "--eks-api-port", "0"}, tc.args...)
			code, _, stderr := kdp(t, args...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero and %q", code, stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("data dir %s exists after a failed start (stat: %v)", dir, err)
			}
		})
	}

	t.Run("unwritable data dir", func(t *testing.T) {
		code, _, stderr := kdp(t, "up", "--data-dir", "/proc/kdp-test/data")
		if code == 0 || !strings.Contains(stderr, "data dir /proc/kdp-test/data") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

// kubernetesVersion is the version of the k8s.io/kubernetes module in go.mod:
// what kdp and its apiserver must report, whether the binary was built with
// `make build` or a plain `go build` (KDP_BINARY can be either).
const kubernetesVersion = "v1.37.2"

func TestE2E_VersionAndEnv(t *testing.T) {
	code, out, _ := kdp(t, "version")
	if code != 0 || !strings.Contains(out, "(Kubernetes "+kubernetesVersion+")") {
		t.Fatalf("kdp version: exit %d, %q", code, out)
	}
	t.Run("the apiserver reports the same version", func(t *testing.T) {
		e, err := testenv.Start(testenv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { e.Stop(); e.Cleanup() }()
		// What kubectl version shows as the Server Version.
		v, err := e.Clientset.Discovery().ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		if v.GitVersion != kubernetesVersion || !strings.HasPrefix(kubernetesVersion, "v"+v.Major+"."+v.Minor+".") {
			t.Errorf("/version: gitVersion %q, major %q, minor %q; want %s", v.GitVersion, v.Major, v.Minor, kubernetesVersion)
		}
	})
	dir := t.TempDir()
	code, _, stderr := kdp(t, "env", "--data-dir", dir)
	if code == 0 || !strings.Contains(stderr, "kdp up --data-dir "+dir) {
		t.Fatalf("kdp env on an empty dir: exit %d, %q", code, stderr)
	}
}

// TestE2E_UpLifecycle runs the whole `kdp up` (control plane and manager) in
// one data dir through start, a second start on the same dir, a clean stop,
// a restart, a kill -9 in the middle of writes, and a restart again.
func TestE2E_UpLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Cleanup()
	ctx := testenv.Context(t)

	t.Run("prints where everything is", func(t *testing.T) {
		out := e.Stdout()
		for _, want := range []string{"(Kubernetes " + kubernetesVersion + ") is up in", "API server:  https://127.0.0.1:", "kubeconfig:  " + e.Kubeconfig(), `eval "$(kdp env --data-dir ` + dir + `)"`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("env points kubectl and kdp at the cluster", func(t *testing.T) {
		code, out, _ := kdp(t, "env", "--data-dir", dir)
		if code != 0 || !strings.HasPrefix(out, "export KUBECONFIG="+e.Kubeconfig()+"\nexport KDP_DATA_DIR="+dir+"\n") ||
			!strings.Contains(out, "\nexport AWS_ENDPOINT_URL_EKS=http://127.0.0.1:") {
			t.Fatalf("exit %d, %q: want the cluster's exports, then the EKS API's", code, out)
		}
		// As a user runs it: eval "$(kdp env --data-dir D)", then kdp
		// commands without --data-dir.
		bin, _ := testenv.Binary()
		script := `eval "$("$KDP" env --data-dir "$DIR")" && "$KDP" sim images && "$KDP" nodes versions`
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "KDP="+bin, "DIR="+dir, "HOME="+t.TempDir(), "KUBECONFIG=", "KDP_DATA_DIR=")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "AL2023_x86_64_STANDARD") || !strings.Contains(string(out), "control plane "+kubernetesVersion) {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	})
	t.Run("manager serves health and metrics and holds the lease", func(t *testing.T) {
		out := e.Stdout()
		health := regexp.MustCompile(`health: +(http://\S+)`).FindStringSubmatch(out)
		metrics := regexp.MustCompile(`metrics: +(http://\S+)`).FindStringSubmatch(out)
		if health == nil || metrics == nil {
			t.Fatalf("no health or metrics URL in output:\n%s", out)
		}
		testenv.Eventually(t, 10*time.Second, func() error { return httpContains(health[1], "ok") })
		testenv.Eventually(t, 10*time.Second, func() error { return httpContains(metrics[1], "leader_election_master_status") })
		testenv.Eventually(t, 10*time.Second, func() error { return httpContains(metrics[1], `kdp_sim_instances{state="running"}`) })
		testenv.Eventually(t, 20*time.Second, func() error {
			lease, err := e.Clientset.CoordinationV1().Leases(manager.LeaseNamespace).Get(ctx, manager.LeaseName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
				return fmt.Errorf("lease %s has no holder", manager.LeaseName)
			}
			return nil
		})
	})
	t.Run("a second kdp on the same data dir fails at once", func(t *testing.T) {
		code, _, stderr := kdp(t, "up", "--data-dir", dir, "--apiserver-port", "0", "--etcd-port", "0", "--etcd-peer-port", "0", "--metrics-port", "0", "--health-port", "0", "--webhook-port", "0", "--eks-api-port", "0")
		want := fmt.Sprintf("data dir %s is in use by another kdp process (pid %d)", dir, e.Pid())
		if code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("exit %d, stderr %q; want %q", code, stderr, want)
		}
	})

	if _, err := e.Clientset.CoreV1().ConfigMaps("default").Create(ctx, configMap("before-restart"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	if !strings.Contains(e.Stdout(), "Stopping kdp...") {
		t.Errorf("no stop message in output:\n%s", e.Stdout())
	}

	e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if _, err := e.Clientset.CoreV1().ConfigMaps("default").Get(ctx, "before-restart", metav1.GetOptions{}); err != nil {
		t.Fatalf("object written before the restart: %v", err)
	}

	// Write continuously, kill -9 in the middle, and check that every
	// write the apiserver acknowledged survived.
	acked := writeUntilKilled(t, e)
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatalf("restart after kill -9: %v", err)
	}
	for _, name := range acked {
		if _, err := e.Clientset.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("acknowledged write %s lost after kill -9: %v", name, err)
		}
	}
	if _, err := e.Clientset.CoreV1().ConfigMaps("default").Create(ctx, configMap("after-crash"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("writing after the crash: %v", err)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
}

// writeUntilKilled creates ConfigMaps from several writers, kills kdp with
// SIGKILL once enough are in, and returns the names the apiserver acknowledged.
func writeUntilKilled(t *testing.T, e *testenv.Env) []string {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("crash-%d-%d", w, i)
				_, err := e.Clientset.CoreV1().ConfigMaps("default").Create(ctx, configMap(name), metav1.CreateOptions{})
				if err != nil {
					return // kdp is gone
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		})
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 200 {
			return fmt.Errorf("%d writes so far", len(acked))
		}
		return nil
	})
	e.Kill()
	wg.Wait()
	return acked
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
}

func httpContains(url, want string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %d, body lacks %q", url, resp.StatusCode, want)
	}
	return nil
}
