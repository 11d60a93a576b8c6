package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/testenv"
)

// BenchmarkCLIDescribeNodegroup measures a command a user types, from
// process start to exit: `kdp nodegroup describe NAME -o json` (it
// connects to the cluster and the cloud and opens the library in
// process), against `kubectl get ng NAME -o json` and `aws eks
// describe-nodegroup` (through kdp's EKS API) of the same group in the
// same run. b.N is the number of runs of each; it reports each one's p50
// in milliseconds.
func BenchmarkCLIDescribeNodegroup(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Stop(); e.Cleanup() })
	if code, _, stderr := kdp(b, "nodegroup", "create", "bench", "--data-dir", dir, "--scaling-config", "minSize=0,maxSize=1,desiredSize=0"); code != 0 {
		b.Fatal(stderr)
	}
	bin, err := testenv.Binary()
	if err != nil {
		b.Fatal(err)
	}
	vars := eksEnv(b, dir)
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	commands := []struct {
		metric string
		argv   []string
	}{
		{"kdp-ms", []string{bin, "nodegroup", "describe", "bench", "--data-dir", dir, "-o", "json"}},
		{"kubectl-ms", []string{"kubectl", "--kubeconfig", e.Kubeconfig(), "get", "ng", "bench", "-o", "json"}},
		{"aws-cli-ms", []string{"aws", "eks", "describe-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "bench"}},
	}
	times := make([][]time.Duration, len(commands))
	b.ResetTimer()
	for range b.N {
		for i, c := range commands {
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Env = env
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %v\n%s", c.argv, err, out)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	b.StopTimer()
	for i, c := range commands {
		slices.Sort(times[i])
		b.ReportMetric(float64(times[i][len(times[i])/2].Microseconds())/1000, c.metric)
	}
}
