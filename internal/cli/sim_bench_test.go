package cli_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/testenv"
)

var joinNodes = flag.Int("kdp.nodes", 100, "how many instances BenchmarkJoin launches (at most 1000: one group)")

// BenchmarkJoin launches -kdp.nodes instances in one group with (nearly)
// no boot or join delay and measures the full join path until every Node
// is Ready: instance launch, user data, TLS bootstrap (a CSR each,
// approved and signed by kube-controller-manager), registration as the
// node, and the first Lease.
func BenchmarkJoin(b *testing.B) {
	n := *joinNodes
	var total time.Duration
	runs := 0
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "data")
		e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "10000"}})
		if err != nil {
			b.Fatal(err)
		}
		run := func(args ...string) {
			code, _, stderr := kdp(b, append(args, "--data-dir", dir)...)
			if code != 0 {
				b.Fatalf("kdp %v: %s", args, stderr)
			}
		}
		_, nc, _ := kdp(b, "nodes", "join-config", "--data-dir", dir)
		userData := filepath.Join(b.TempDir(), "nc.yaml")
		if err := os.WriteFile(userData, []byte(nc), 0o600); err != nil {
			b.Fatal(err)
		}
		run("sim", "launch-template", "create", "bench", "--image", firstImage(b, dir), "--instance-type", "m5.large", "--user-data", userData)
		start := time.Now()
		run("sim", "group", "create", "bench", "--launch-template", "bench", "--max", strconv.Itoa(n), "--desired", strconv.Itoa(n))
		for {
			var nodes corev1.NodeList
			if err := e.Client.List(b.Context(), &nodes, client.HasLabels{"sim.kdp.dev/instance-id"}); err != nil {
				b.Fatal(err)
			}
			if len(nodes.Items) == n {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("%d of %d nodes after 10 minutes", len(nodes.Items), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		total += time.Since(start)
		runs++
		if err := e.Stop(); err != nil {
			b.Fatal(err)
		}
		e.Cleanup()
	}
	secs := total.Seconds() / float64(runs)
	b.ReportMetric(secs, "s-to-all-joined")
	b.ReportMetric(float64(n)/secs, "nodes/s")
}

func firstImage(b *testing.B, dir string) string {
	code, out, stderr := kdp(b, "sim", "images", "--data-dir", dir, "-o", "json")
	if code != 0 {
		b.Fatal(stderr)
	}
	var images []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &images); err != nil || len(images) == 0 {
		b.Fatalf("images: %v", err)
	}
	return images[0].ID
}
