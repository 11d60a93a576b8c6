package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkAdvise10000Manifests: kdp advise over one file of 10,000
// workload manifests (Deployments, StatefulSets, DaemonSets; one in seven
// privileged), -o json, in-process: the time per run, and the process's
// peak resident memory. The target: ≤ 3 s and ≤ 500 MiB.
func BenchmarkAdvise10000Manifests(b *testing.B) {
	var sb strings.Builder
	for i := range 10000 {
		kind, replicas := "Deployment", fmt.Sprintf("\n  replicas: %d", 1+i%5)
		switch {
		case i%20 == 0:
			kind, replicas = "DaemonSet", ""
		case i%10 == 0:
			kind, replicas = "StatefulSet", replicas+fmt.Sprintf("\n  serviceName: s%d", i)
		}
		privileged := ""
		if i%7 == 0 {
			privileged = "\n          securityContext: {privileged: true}"
		}
		fmt.Fprintf(&sb, "---\napiVersion: apps/v1\nkind: %s\nmetadata: {name: w%05d, namespace: ns%d}\nspec:%s\n  selector: {matchLabels: {app: w%05d}}\n"+
			"  template:\n    metadata: {labels: {app: w%05d}}\n    spec:\n      containers:\n        - name: app\n          image: app:%d\n"+
			"          resources: {requests: {cpu: %dm, memory: %dMi}}%s\n",
			kind, i, i%50, replicas, i, i, i, 100+(i%37)*50, 128+(i%23)*256, privileged)
	}
	file := filepath.Join(b.TempDir(), "workloads.yaml")
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if code, _, stderr := runKdp(b, "advise", "-f", file, "-o", "json"); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
	}
}
