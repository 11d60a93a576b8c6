package cli_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/testenv"
)

var joinNodes = flag.Int("kdp.nodes", 100, "how many nodes BenchmarkJoin brings up (at most 1000: one group)")

// BenchmarkJoin measures, in one run and against the same embedded control
// plane, how fast -kdp.nodes Nodes become Ready:
//
//   - baseline: plain Node objects written Ready, each with its Lease, by a
//     16-worker client (what KWOK's default stages do: the API server's and
//     controllers' cost of a node);
//   - kdp: instances launched in one group with no boot or join delay, each
//     joining through the full path (instance, user data, TLS bootstrap with a
//     CSR approved and signed by kube-controller-manager, registration as
//     system:node:<name>, first Lease).
//
// It reports both, and their ratio.
func BenchmarkJoin(b *testing.B) {
	n := *joinNodes
	var base, full time.Duration
	runs := 0
	for b.Loop() {
		base += plainNodes(b, n)
		full += joinedNodes(b, n)
		runs++
	}
	bs, fs := base.Seconds()/float64(runs), full.Seconds()/float64(runs)
	b.ReportMetric(bs, "s-baseline")
	b.ReportMetric(fs, "s-kdp")
	b.ReportMetric(float64(n)/fs, "nodes/s")
	b.ReportMetric(fs/bs, "x-baseline")
}

// plainNodes writes n Ready Nodes and their Leases with 16 workers and
// returns how long until every one is Ready.
func plainNodes(b *testing.B, n int) time.Duration {
	e, took := startPlain(b, n)
	_ = e.Stop()
	e.Cleanup()
	return took
}

// startPlain starts the control plane alone, writes n Ready Nodes labelled
// and sized as kdp's m5.large nodes, and their Leases, with 16 workers (as
// KWOK's node stages do), and returns once they are written, with how long
// until the last was Ready; the caller stops the control plane.
func startPlain(b *testing.B, n int) (*testenv.Env, time.Duration) {
	e, err := testenv.Start(testenv.Options{DataDir: filepath.Join(b.TempDir(), "data")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	names := make(chan int)
	var wg sync.WaitGroup
	var ready atomic.Int64
	var took time.Duration
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := range names {
				name := plainNodeName(i)
				node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
					"kubernetes.io/hostname":           name,
					"kubernetes.io/arch":               "amd64",
					"kubernetes.io/os":                 "linux",
					"beta.kubernetes.io/arch":          "amd64", // else kcm's node controller patches them in
					"beta.kubernetes.io/os":            "linux",
					"node.kubernetes.io/instance-type": "m5.large",
					"topology.kubernetes.io/region":    "us-east-1",
					"topology.kubernetes.io/zone":      "us-east-1" + string(rune('a'+i%3)),
				}}}
				if err := e.Client.Create(ctx, node); err != nil {
					b.Error(err)
					continue
				}
				base := node.DeepCopy()
				now := metav1.Now()
				node.Status = corev1.NodeStatus{
					Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("29")},
					Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("7Gi"), corev1.ResourcePods: resource.MustParse("29")},
					Addresses: []corev1.NodeAddress{
						{Type: corev1.NodeInternalIP, Address: plainNodeIP(i)},
						{Type: corev1.NodeHostName, Address: name},
						{Type: corev1.NodeInternalDNS, Address: name},
					},
					Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}},
				}
				if err := e.Client.Status().Patch(ctx, node, client.MergeFrom(base)); err != nil {
					b.Error(err)
				}
				if ready.Add(1) == int64(n) {
					took = time.Since(start) // kdp's side, too, is timed to its last Node, not its Lease
				}
				if err := e.Client.Create(ctx, nodeLease(node, now)); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		names <- i
	}
	close(names)
	wg.Wait()
	return e, took
}

func plainNodeName(i int) string { return fmt.Sprintf("plain-%d", i) }
func plainNodeIP(i int) string   { return fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250) }

// nodeLease is the heartbeat Lease KWOK's node-heartbeat-with-lease stage
// creates for a node, as a kubelet does.
func nodeLease(node *corev1.Node, now metav1.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: node.Name, Namespace: corev1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node.Name),
			LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime:            &metav1.MicroTime{Time: now.Time},
		},
	}
}

// joinedNodes launches n instances and returns how long until every Node
// has registered.
func joinedNodes(b *testing.B, n int) time.Duration {
	e, took := startJoined(b, n)
	_ = e.Stop()
	e.Cleanup()
	return took
}

// startJoined starts kdp, launches n instances and returns once every Node
// has registered, with how long that took; the caller stops kdp.
func startJoined(b *testing.B, n int) (*testenv.Env, time.Duration) {
	dir := filepath.Join(b.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "10000"}})
	if err != nil {
		b.Fatal(err)
	}
	run := func(args ...string) string {
		code, out, stderr := kdp(b, append(args, "--data-dir", dir)...)
		if code != 0 {
			b.Fatalf("kdp %v: %s", args, stderr)
		}
		return out
	}
	userData := filepath.Join(b.TempDir(), "nc.yaml")
	if err := os.WriteFile(userData, []byte(run("nodes", "join-config")), 0o600); err != nil {
		b.Fatal(err)
	}
	var images []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(run("sim", "images", "-o", "json")), &images); err != nil {
		b.Fatal(err)
	}
	run("sim", "launch-template", "create", "bench", "--image", images[0].ID, "--instance-type", "m5.large", "--user-data", userData)
	registered, stop := nodesRegistered(b, e, "sim.kdp.dev/instance-id", n)
	defer stop()
	start := time.Now()
	run("sim", "group", "create", "bench", "--launch-template", "bench", "--max", strconv.Itoa(n), "--desired", strconv.Itoa(n))
	select {
	case <-registered:
		return e, time.Since(start)
	case <-time.After(10 * time.Minute):
		b.Fatalf("not %d nodes after 10 minutes", n)
		return nil, 0
	}
}

// nodesRegistered watches the Nodes with a label (a watch, not a list in a
// loop: the benchmark must not load the API server it measures) and
// returns a channel closed once n of them exist, and a function that stops
// the watch.
func nodesRegistered(b *testing.B, e *testenv.Env, label string, n int) (<-chan struct{}, func()) {
	factory := informers.NewSharedInformerFactoryWithOptions(e.Clientset, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = label
	}))
	informer := factory.Core().V1().Nodes().Informer()
	done := make(chan struct{})
	var once sync.Once
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) {
			if len(informer.GetStore().ListKeys()) >= n {
				once.Do(func() { close(done) })
			}
		},
	}); err != nil {
		b.Fatal(err)
	}
	return done, runInformers(factory)
}

var podCount = flag.Int("kdp.pods", 2000, "how many pods BenchmarkPods runs (20 Deployments)")

// BenchmarkPods runs -kdp.pods pods (20 Deployments) on -kdp.nodes nodes,
// in one run on the same embedded control plane:
//
//   - baseline: the plain Nodes of BenchmarkJoin, their Leases renewed and
//     their pods made Running by plainKubelets (what KWOK's default stages
//     do, in the benchmark's process as KWOK runs in its own);
//   - kdp: nodes joined through the full path, pods run by kdp's simulated
//     kubelets;
//
// and reports for each how long until the scheduler has bound every pod and
// until every pod is Running, their ratio, and then, at steady state, the
// whole kdp process's CPU (control plane and simulation) and RSS.
func BenchmarkPods(b *testing.B) {
	n, pods := *joinNodes, *podCount
	if pods > n*29 {
		b.Fatalf("-kdp.pods=%d exceeds the %d pods %d m5.large nodes hold", pods, n*29, n)
	}
	for b.Loop() {
		pe, _ := startPlain(b, n)
		stopPlain := sync.OnceFunc(runPlainKubelets(b, pe, n))
		stopEnv := sync.OnceFunc(func() { _ = pe.Stop(); pe.Cleanup() })
		b.Cleanup(stopEnv) // in this order, also when the run fails
		b.Cleanup(stopPlain)
		self := cpuSeconds(b, os.Getpid())
		baseBound, baseline := runDeployments(b, pe, pods)
		baseSelf := (cpuSeconds(b, os.Getpid()) - self) / baseline.Seconds()
		stopPlain()
		stopEnv()

		e, _ := startJoined(b, n)
		self = cpuSeconds(b, os.Getpid())
		bound, running := runDeployments(b, e, pods)
		// The benchmark's process runs the pod watch that times both sides;
		// what it used beyond that during the baseline is the stand-in
		// kubelets' (KWOK used ~10 % of a core).
		plainCPU := (baseSelf - (cpuSeconds(b, os.Getpid())-self)/running.Seconds()) * 100
		time.Sleep(10 * time.Second) // settle
		before := cpuSeconds(b, e.Pid())
		time.Sleep(30 * time.Second)
		cpu := (cpuSeconds(b, e.Pid()) - before) / 30 * 100
		rss := rssMiB(b, e.Pid())
		_ = e.Stop()
		e.Cleanup()
		b.ReportMetric(baseBound.Seconds(), "s-baseline-bound")
		b.ReportMetric(plainCPU, "%cpu-plain-kubelets")
		b.ReportMetric(baseline.Seconds(), "s-baseline-running")
		b.ReportMetric(bound.Seconds(), "s-all-bound")
		b.ReportMetric(running.Seconds(), "s-all-running")
		b.ReportMetric(running.Seconds()/baseline.Seconds(), "x-baseline")
		b.ReportMetric(float64(pods)/bound.Seconds(), "pods/s-bound")
		b.ReportMetric(cpu, "%cpu-steady")
		b.ReportMetric(rss, "MiB-rss")
	}
}

// runDeployments creates 20 Deployments of pods/20 replicas each and returns
// how long until the scheduler had bound every pod, and until every pod was
// Running.
func runDeployments(b *testing.B, e *testenv.Env, pods int) (bound, running time.Duration) {
	ctx := context.Background()
	progress := make(chan struct{}, 1)
	pw, stopWatch := watchPods(b, e, progress)
	defer stopWatch()
	start := time.Now()
	for d := range 20 {
		replicas := int32(pods / 20)
		labels := map[string]string{"app": fmt.Sprintf("bench-%d", d)}
		deploy := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: labels["app"], Namespace: "default"},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}},
			},
		}
		if err := e.Client.Create(ctx, deploy); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.After(15 * time.Minute)
	for running == 0 {
		select {
		case <-progress:
		case <-deadline:
			b.Fatalf("%d bound, %d running of %d after 15 minutes", pw.bound(), pw.running(), pods)
		}
		if bound == 0 && pw.bound() == pods {
			bound = time.Since(start)
		}
		if pw.running() == pods {
			running = time.Since(start)
		}
	}
	return bound, running
}

// podWatch counts, from a watch, the pods in "default" that are bound and
// those that are Running.
type podWatch struct {
	mu     sync.Mutex
	states map[string][2]bool // bound, running
	counts [2]int
}

func (w *podWatch) bound() int   { w.mu.Lock(); defer w.mu.Unlock(); return w.counts[0] }
func (w *podWatch) running() int { w.mu.Lock(); defer w.mu.Unlock(); return w.counts[1] }

// watchPods starts a podWatch; progress gets a tick (dropped when one is
// pending) after every change. stop ends the watch.
func watchPods(b *testing.B, e *testenv.Env, progress chan<- struct{}) (w *podWatch, stop func()) {
	w = &podWatch{states: map[string][2]bool{}}
	set := func(obj any, gone bool) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			if tomb, isTomb := obj.(cache.DeletedFinalStateUnknown); isTomb {
				pod, ok = tomb.Obj.(*corev1.Pod)
			}
			if !ok {
				return
			}
		}
		now := [2]bool{pod.Spec.NodeName != "" && !gone, pod.Status.Phase == corev1.PodRunning && !gone}
		w.mu.Lock()
		was := w.states[pod.Name]
		for i := range now {
			switch {
			case now[i] && !was[i]:
				w.counts[i]++
			case !now[i] && was[i]:
				w.counts[i]--
			}
		}
		w.states[pod.Name] = now
		w.mu.Unlock()
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(e.Clientset, 0, informers.WithNamespace("default"))
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { set(obj, false) },
		UpdateFunc: func(_, obj any) { set(obj, false) },
		DeleteFunc: func(obj any) { set(obj, true) },
	}); err != nil {
		b.Fatal(err)
	}
	return w, runInformers(factory)
}

// runInformers starts a factory's informers, waits for their caches and
// returns the function that stops them (before the API server goes).
func runInformers(factory informers.SharedInformerFactory) (stop func()) {
	ch := make(chan struct{})
	factory.Start(ch)
	factory.WaitForCacheSync(ch)
	return func() { close(ch); factory.Shutdown() }
}
