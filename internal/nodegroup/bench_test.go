package nodegroup_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/timescale"
)

// The benchmarks run a cloud without delays (the instant profile: no boot,
// join, pod start or shut-down time) under real waits (15-minute join and
// creation timeouts, the 30-minute hook), so they measure kdp and the
// control plane, not the simulated machines. See docs/benchmarks.md.
var benchOptions = options{scale: timescale.Real, profile: "instant"}

// BenchmarkCreateThreeGroupsOfTen: from the create of 3 node groups of 10
// nodes each to all three ACTIVE (their status, as a user reads it).
func BenchmarkCreateThreeGroupsOfTen(b *testing.B) {
	start(b, benchOptions)
	run, sum := 0, 0.0
	for b.Loop() {
		names := make([]string, 3)
		t0 := time.Now()
		for i := range names {
			names[i] = fmt.Sprintf("bench-%d-%d", run, i)
			group(b, names[i], func(s *eksv1.NodeGroupSpec) {
				s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 10, DesiredSize: 10}
			})
		}
		for _, n := range names {
			waitStatusFast(b, n, eksv1.StatusActive, time.Minute)
		}
		took := time.Since(t0)
		b.StopTimer()
		fmt.Fprintf(os.Stderr, "run %d: 3 groups × 10 nodes ACTIVE in %.2f s\n", run, took.Seconds())
		sum += took.Seconds()
		for _, n := range names {
			deleteGroup(b, n, 2*time.Minute)
		}
		b.StartTimer()
		run++
	}
	b.ReportMetric(sum/float64(run), "s-to-active")
}

// BenchmarkScaleOutTo450: a node group scaled from 0 to 450 nodes, until
// every Node is Ready, against a plain Auto Scaling group of the same 450
// instances (the same launch template, so the same join) in the same run,
// each side going first in turn; and until the group's status says so.
func BenchmarkScaleOutTo450(b *testing.B) {
	ctx := context.Background()
	k := start(b, benchOptions)
	const n = 450
	ng := group(b, "wide", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: n, DesiredSize: 0}
	})
	defer deleteGroup(b, ng.Name, 10*time.Minute)
	created := waitStatusFast(b, ng.Name, eksv1.StatusActive, time.Minute)
	lt := created.Status.Resources.LaunchTemplate
	plain := "plain-asg"
	if _, err := k.provider.CreateGroup(ctx, cloud.GroupInput{
		Name: plain, LaunchTemplate: cloud.TemplateRef{ID: lt.ID, Version: lt.Version}, MaxSize: n, InstanceTypes: created.Spec.InstanceTypes,
	}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = k.provider.DeleteGroup(ctx, plain) }()
	run := 0
	var sumGroup, sumPlain, sumStatus float64
	for b.Loop() {
		sides := []func() (time.Duration, time.Duration){
			func() (time.Duration, time.Duration) { // the node group
				t0 := time.Now()
				scale(b, ng.Name, 0, n, n)
				nodes := readyNodes(b, k.provider, resources.ASGName(created), n, 5*time.Minute)
				waitReadyFast(b, ng.Name, n, 5*time.Minute)
				status := time.Since(t0)
				sumGroup += nodes.Seconds()
				sumStatus += status.Seconds()
				fmt.Fprintf(os.Stderr, "run %d node group: %d nodes Ready in %.2f s, the status says so at %.2f s\n", run, n, nodes.Seconds(), status.Seconds())
				return nodes, status
			},
			func() (time.Duration, time.Duration) { // the plain group
				if _, err := k.provider.UpdateGroup(ctx, plain, cloud.GroupUpdate{DesiredCapacity: ptr.To[int32](n)}); err != nil {
					b.Fatal(err)
				}
				took := readyNodes(b, k.provider, plain, n, 5*time.Minute)
				sumPlain += took.Seconds()
				fmt.Fprintf(os.Stderr, "run %d plain Auto Scaling group: %d nodes Ready in %.2f s\n", run, n, took.Seconds())
				return took, 0
			},
		}
		if run%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			side()
		}
		b.StopTimer()
		scale(b, ng.Name, 0, 0, n)
		if _, err := k.provider.UpdateGroup(ctx, plain, cloud.GroupUpdate{DesiredCapacity: ptr.To[int32](0)}); err != nil {
			b.Fatal(err)
		}
		readyNodes(b, k.provider, resources.ASGName(created), 0, 10*time.Minute)
		readyNodes(b, k.provider, plain, 0, 10*time.Minute)
		settled(b, ng.Name, eksv1.StatusActive, 5*time.Minute)
		b.StartTimer()
		run++
	}
	runs := float64(run)
	b.ReportMetric(sumGroup/runs, "s-nodegroup")
	b.ReportMetric(sumStatus/runs, "s-nodegroup-status")
	b.ReportMetric(sumPlain/runs, "s-plain-asg")
	b.ReportMetric(sumGroup/sumPlain, "x-plain")
}

// BenchmarkScaleInFrom450WithBudgets: a node group of 450 nodes running
// 4,500 pods (45 Deployments of 100, each behind a PodDisruptionBudget of
// minAvailable 90) scaled to 0, while another group's larger nodes take
// the pods: the wall time until every instance is gone and every pod runs
// again, the drains that ran out of time, and the budget violations an
// independent watcher of the pods counted.
func BenchmarkScaleInFrom450WithBudgets(b *testing.B) {
	const n, apps, replicas, minAvailable = 450, 45, 100, 90
	k := start(b, benchOptions)
	ns := env.Namespace(b)
	ng := group(b, "drained", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: n, DesiredSize: n}
	})
	defer deleteGroup(b, ng.Name, 10*time.Minute)
	created := waitStatusFast(b, ng.Name, eksv1.StatusActive, 5*time.Minute)
	var workloads []client.Object
	for i := range apps {
		app := fmt.Sprintf("app-%d", i)
		workloads = append(workloads, deployment(b, ns, app, "", replicas, false), budget(b, ns, app, ptr.To(intstr.FromInt32(minAvailable)), nil))
	}
	for i := range apps {
		waitAvailable(b, ns, fmt.Sprintf("app-%d", i), replicas, 5*time.Minute)
	}
	landing := group(b, "landing", func(s *eksv1.NodeGroupSpec) {
		s.InstanceTypes = []string{"m5.4xlarge"}
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 25, DesiredSize: 25}
	})
	defer deleteGroup(b, landing.Name, 10*time.Minute)
	defer func() { // the workloads go before the groups: nothing to drain
		for _, o := range workloads {
			_ = env.Client.Delete(context.Background(), o)
		}
		testenv.Eventually(b, 5*time.Minute, func() error {
			pods := &corev1.PodList{}
			if err := env.Client.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
				return err
			}
			if len(pods.Items) > 0 {
				return errorf("%d pods left", len(pods.Items))
			}
			return nil
		})
	}()
	waitStatusFast(b, landing.Name, eksv1.StatusActive, 5*time.Minute)
	for i := range apps {
		testenv.Eventually(b, time.Minute, func() error { return budgetAllows(ns, fmt.Sprintf("app-%d", i), replicas-minAvailable) })
	}
	w := watchApps(b, ns, replicas)
	for b.Loop() {
		t0 := time.Now()
		scale(b, ng.Name, 0, 0, n)
		readyNodes(b, k.provider, resources.ASGName(created), 0, 30*time.Minute)
		for i := range apps {
			waitAvailable(b, ns, fmt.Sprintf("app-%d", i), replicas, 10*time.Minute)
		}
		took := time.Since(t0)
		b.StopTimer()
		fewest := w.fewest()
		timeouts := w.timeouts()
		fmt.Fprintf(os.Stderr, "%d nodes drained and gone, %d pods running again, in %.1f s; fewest healthy pods of an app %d (budget %d); %d drains timed out\n",
			n, apps*replicas, took.Seconds(), fewest, minAvailable, timeouts)
		b.ReportMetric(took.Seconds(), "s-wall")
		b.ReportMetric(float64(max(0, minAvailable-fewest)), "violations")
		b.ReportMetric(float64(timeouts), "drain-timeouts")
		if fewest < minAvailable {
			b.Errorf("a budget was violated: %d healthy pods of an app at one moment, budget %d", fewest, minAvailable)
		}
		b.StartTimer()
	}
}

// readyNodes waits until exactly want of a group's running instances have
// a Ready Node (and no other instance runs), and returns how long that
// took. It polls the cloud and the API server every 100 ms.
func readyNodes(b testing.TB, p cloud.Provider, group string, want int, timeout time.Duration) time.Duration {
	b.Helper()
	t0 := time.Now()
	ctx := context.Background()
	testenv.EventuallyEvery(b, timeout, 100*time.Millisecond, func() error {
		var ids = map[string]bool{}
		page := cloud.Page{MaxResults: cloud.MaxPageSize}
		for {
			list, next, err := p.ListInstances(ctx, cloud.InstanceFilter{Group: group, States: []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown}}, page)
			if err != nil {
				return err
			}
			for _, i := range list {
				ids[i.ID] = true
			}
			if next == "" {
				break
			}
			page.NextToken = next
		}
		if len(ids) != want {
			return errorf("%s: %d instances, want %d", group, len(ids), want)
		}
		if want == 0 {
			return nil
		}
		nodes := &corev1.NodeList{}
		if err := env.Client.List(ctx, nodes); err != nil {
			return err
		}
		ready := 0
		for i := range nodes.Items {
			if ids[cloud.InstanceOfProviderID(nodes.Items[i].Spec.ProviderID)] && resources.Ready(&nodes.Items[i]) {
				ready++
			}
		}
		if ready != want {
			return errorf("%s: %d nodes Ready, want %d", group, ready, want)
		}
		return nil
	})
	return time.Since(t0)
}

// waitStatusFast and waitReadyFast are waitStatus and waitReady polling
// every 20 ms, for benchmarks.
func waitStatusFast(b testing.TB, name string, want eksv1.Status, timeout time.Duration) *eksv1.NodeGroup {
	b.Helper()
	ng := &eksv1.NodeGroup{}
	testenv.EventuallyEvery(b, timeout, 20*time.Millisecond, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, ng); err != nil {
			return err
		}
		if ng.Status.Status != want {
			return errorf("node group %s is %q, want %s", name, ng.Status.Status, want)
		}
		return nil
	})
	return ng
}

func waitReadyFast(b testing.TB, name string, n int32, timeout time.Duration) {
	b.Helper()
	testenv.EventuallyEvery(b, timeout, 20*time.Millisecond, func() error {
		ng := &eksv1.NodeGroup{}
		if err := env.Client.Get(context.Background(), clientKey(name), ng); err != nil {
			return err
		}
		if ng.Status.Nodes.Ready != n || ng.Status.Nodes.Instances != n {
			return errorf("node group %s: %d Ready of %d", name, ng.Status.Nodes.Ready, ng.Status.Nodes.Instances)
		}
		return nil
	})
}

// appWatcher counts, from its own watch of a namespace's pods, the fewest
// healthy pods any app had at one moment (once it had all its replicas),
// and the drains that ended in a timeout (from the Nodes' annotations).
type appWatcher struct {
	mu      sync.Mutex
	pods    map[string]map[string]bool // app → pod → healthy
	low     map[string]int
	armed   map[string]bool
	drained map[string]string // node → drain result
}

func watchApps(b testing.TB, ns string, replicas int) *appWatcher {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pw, err := env.Clientset.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	nw, err := env.Clientset.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	w := &appWatcher{pods: map[string]map[string]bool{}, low: map[string]int{}, armed: map[string]bool{}, drained: map[string]string{}}
	var wg sync.WaitGroup
	wg.Add(2)
	b.Cleanup(func() { cancel(); wg.Wait() })
	go func() {
		defer wg.Done()
		for e := range pw.ResultChan() {
			p, ok := e.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			app := p.Labels["app"]
			w.mu.Lock()
			if w.pods[app] == nil {
				w.pods[app] = map[string]bool{}
			}
			if e.Type == watch.Deleted {
				delete(w.pods[app], p.Name)
			} else {
				w.pods[app][p.Name] = isHealthy(p)
			}
			n := 0
			for _, h := range w.pods[app] {
				if h {
					n++
				}
			}
			if n >= replicas {
				w.armed[app] = true
			}
			if low, seen := w.low[app]; w.armed[app] && (!seen || n < low) {
				w.low[app] = n
			}
			w.mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for e := range nw.ResultChan() {
			if node, ok := e.Object.(*corev1.Node); ok {
				if r := node.Annotations[termination.AnnotationDrainResult]; r != "" {
					w.mu.Lock()
					w.drained[node.Name] = r
					w.mu.Unlock()
				}
			}
		}
	}()
	return w
}

func (w *appWatcher) fewest() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	fewest := -1
	for _, n := range w.low {
		if fewest < 0 || n < fewest {
			fewest = n
		}
	}
	return fewest
}

func (w *appWatcher) timeouts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.drained {
		if r == drain.ResultTimeout {
			n++
		}
	}
	return n
}
