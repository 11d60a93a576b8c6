package nodegroup_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kdp-project/kdp/internal/cluster"
)

// The budget watcher is an independent judge of a benchmark's drains: a
// process of its own (this test binary, run again with watcherEnv set)
// that watches the Deployments of a namespace and counts every moment one
// has fewer Ready replicas than its PodDisruptionBudget allows, from its
// own informers, sharing nothing with kdp or the benchmark.
const (
	watcherEnv          = "KDP_BUDGET_WATCHER"
	watcherKubeconfig   = "KDP_BUDGET_WATCHER_KUBECONFIG"
	watcherReadyMessage = "watching"
)

// budgetWatcherMain runs the watcher until it is sent SIGTERM, then
// prints the violations it counted, one line, and exits.
func budgetWatcherMain() int {
	ns := os.Getenv(watcherEnv)
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv(watcherKubeconfig))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	factory := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(ns))
	deployments := factory.Apps().V1().Deployments()
	budgets := factory.Policy().V1().PodDisruptionBudgets().Lister()
	violations, worst := 0, map[string]int32{}
	below := map[string]bool{}
	judge := func(obj any) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || d.Spec.Replicas == nil {
			return
		}
		b, err := budgets.PodDisruptionBudgets(ns).Get(d.Name)
		if err != nil {
			return
		}
		floor := minReady(*d.Spec.Replicas, b)
		// Only once the Deployment has been whole: its start is no
		// violation.
		if _, seen := worst[d.Name]; !seen && d.Status.ReadyReplicas < *d.Spec.Replicas {
			return
		}
		if w, seen := worst[d.Name]; !seen || d.Status.ReadyReplicas < w {
			worst[d.Name] = d.Status.ReadyReplicas
		}
		now := d.Status.ReadyReplicas < floor
		if now && !below[d.Name] {
			violations++
			fmt.Fprintf(os.Stderr, "budget watcher: %s/%s has %d Ready of %d, its budget allows no fewer than %d\n", ns, d.Name, d.Status.ReadyReplicas, *d.Spec.Replicas, floor)
		}
		below[d.Name] = now
	}
	_, _ = deployments.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: judge, UpdateFunc: func(_, o any) { judge(o) }})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	fmt.Println(watcherReadyMessage)
	<-ctx.Done()
	fewest := int32(-1)
	for _, w := range worst {
		if fewest < 0 || w < fewest {
			fewest = w
		}
	}
	fmt.Printf("violations=%d deployments=%d fewest-ready=%d\n", violations, len(worst), fewest)
	return 0
}

// minReady is the fewest Ready replicas a budget allows a Deployment.
func minReady(replicas int32, b *policyv1.PodDisruptionBudget) int32 {
	switch {
	case b.Spec.MaxUnavailable != nil:
		n, _ := intstr.GetScaledValueFromIntOrPercent(b.Spec.MaxUnavailable, int(replicas), true)
		return replicas - int32(n)
	case b.Spec.MinAvailable != nil:
		n, _ := intstr.GetScaledValueFromIntOrPercent(b.Spec.MinAvailable, int(replicas), true)
		return int32(n)
	}
	return 0
}

// budgetProcess is a running watcher.
type budgetProcess struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// startBudgetWatcher starts a watcher of the namespace's Deployments and
// waits until it watches.
func startBudgetWatcher(t testing.TB, ns string) *budgetProcess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), watcherEnv+"="+ns, watcherKubeconfig+"="+cluster.Layout{Root: env.DataDir}.AdminKubeconfig())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &budgetProcess{cmd: cmd, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := p.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != watcherReadyMessage {
		t.Fatalf("the budget watcher did not start: %q %v", line, err)
	}
	return p
}

// Stop ends the watcher and returns the violations it counted and the
// fewest Ready replicas any Deployment had.
func (p *budgetProcess) Stop(t testing.TB) (violations, fewest int) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(p.out)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	for _, f := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(f, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "violations":
			violations = n
		case "fewest-ready":
			fewest = n
		}
	}
	if !strings.Contains(string(out), "violations=") {
		t.Fatalf("the budget watcher said %q", out)
	}
	return violations, fewest
}
