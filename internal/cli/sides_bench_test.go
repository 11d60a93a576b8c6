package cli_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/testenv"
)

// The join and pods benchmarks measure kdp side by side with two baselines,
// in one run, in alternating order, each on a fresh control plane of its
// own (kdp up --control-plane-only, the same binary and flags), each timed
// the same way (from the first write to the moment an informer sees the
// last Node Ready, or the last pod Running), and each side's own process's
// CPU apart from the control plane's:
//
//   - floor: plain Ready Nodes with their Leases written by a 16-worker
//     client in the benchmark's process: what this API server absorbs;
//   - kwok: KWOK itself (testenv.KWOKVersion, built from its module), in its
//     own process with the stages it ships, on Nodes created as a KWOK user
//     creates them (16 workers);
//   - kdp: kdp up --kubeconfig against that control plane, in its own
//     process: the simulated cloud launches the instances (no boot or join
//     delay: --time-scale 10000) and each joins through TLS bootstrap (user
//     data, a CSR approved and signed by kube-controller-manager's
//     controllers, registration as system:node:<name>, first Lease);
//   - kdp-embedded (join only): the same through kdp up alone, control
//     plane and kdp in one process, as a user runs it (no CPU apart).

var (
	joinNodes = flag.Int("kdp.nodes", 100, "how many nodes the join and pods benchmarks bring up (at most 1000: one group)")
	podCount  = flag.Int("kdp.pods", 2000, "how many pods BenchmarkPods runs (20 Deployments)")
	sidesFlag = flag.String("kdp.sides", "floor,kwok,kdp,kdp-embedded", "which sides BenchmarkJoin and BenchmarkPods run")
	kwokLog   = flag.String("kdp.kwok-log", "", "where to keep kwok's log (else it goes with the benchmark's temporary directory)")
)

// sideRun is one side's nodes being brought up.
type sideRun struct {
	// env is the control plane; pid is the side's own process (0: none
	// apart from the control plane's).
	env *testenv.Env
	pid int
	// launch starts bringing up the n nodes, whose label selector is
	// selector.
	launch   func(ctx context.Context) error
	selector string
	stop     func()
}

type side struct {
	name string
	// prepare starts a control plane (and the side's own process), ready
	// to launch n nodes.
	prepare func(b *testing.B, n int) *sideRun
}

var sides = []side{
	{"floor", prepareFloor},
	{"kwok", prepareKWOK},
	{"kdp", func(b *testing.B, n int) *sideRun { return prepareKdp(b, n, false) }},
	{"kdp-embedded", func(b *testing.B, n int) *sideRun { return prepareKdp(b, n, true) }},
}

// chosenSides are the sides of -kdp.sides, in that order, less those
// skip names.
func chosenSides(b *testing.B, skip ...string) []side {
	var out []side
	for _, name := range strings.Split(*sidesFlag, ",") {
		i := -1
		for k, s := range sides {
			if s.name == name {
				i = k
			}
		}
		if i < 0 {
			b.Fatalf("-kdp.sides: unknown side %q", name)
		}
		if !contains(skip, name) {
			out = append(out, sides[i])
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rotated is the sides in the order of run i: each side goes first in turn.
func rotated(s []side, i int) []side {
	i %= len(s)
	return append(append([]side(nil), s[i:]...), s[:i]...)
}

// joined brings a side's n nodes to Ready and returns how long that took,
// and the CPU seconds the side's process and the control plane used.
func (r *sideRun) joined(b *testing.B, n int) (took time.Duration, sideCPU, cpCPU float64) {
	ready, stopWatch := nodesReady(b, r.env, r.selector, n)
	defer stopWatch()
	side0, cp0 := r.cpu(b), cpuSeconds(b, r.env.Pid())
	start := time.Now()
	if err := r.launch(context.Background()); err != nil {
		b.Fatal(err)
	}
	select {
	case <-ready:
		took = time.Since(start)
	case <-time.After(10 * time.Minute):
		b.Fatalf("not %d nodes Ready after 10 minutes", n)
	}
	return took, r.cpu(b) - side0, cpuSeconds(b, r.env.Pid()) - cp0
}

func (r *sideRun) cpu(b *testing.B) float64 {
	if r.pid == 0 {
		return 0
	}
	return cpuSeconds(b, r.pid)
}

// controlPlane starts a control plane for a side; it is stopped with the
// side, or when the benchmark ends.
func controlPlane(b *testing.B) *testenv.Env {
	e, err := testenv.Start(testenv.Options{DataDir: filepath.Join(b.TempDir(), "data")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Stop(); e.Cleanup() })
	return e
}

// prepareFloor: plain Ready Nodes labelled, addressed and sized as kdp's
// m5.large nodes, each with its Lease, written by 16 workers in the
// benchmark's process.
func prepareFloor(b *testing.B, n int) *sideRun {
	e := controlPlane(b)
	return &sideRun{env: e, pid: os.Getpid(), selector: "floor=true", stop: func() { _ = e.Stop(); e.Cleanup() },
		launch: func(ctx context.Context) error {
			go writeFloorNodes(b, e, n)
			return nil
		}}
}

func writeFloorNodes(b *testing.B, e *testenv.Env, n int) {
	ctx := context.Background()
	names := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range names {
				node := floorNode(i)
				status := node.Status
				if err := e.Client.Create(ctx, node); err != nil {
					b.Error(err)
					continue
				}
				base := node.DeepCopy()
				node.Status = status
				if err := e.Client.Status().Patch(ctx, node, client.MergeFrom(base)); err != nil {
					b.Error(err)
				}
				if err := e.Client.Create(ctx, nodeLease(node, metav1.Now())); err != nil {
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
}

// floorNode is the i-th plain Node, Ready.
func floorNode(i int) *corev1.Node {
	node := m5LargeNode(fmt.Sprintf("plain-%d", i), fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250), i)
	node.Labels["floor"] = "true"
	now := metav1.Now()
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}
	return node
}

// m5LargeNode is a Node labelled, sized and addressed as kdp's m5.large
// nodes are, in zone i%3: what the floor and KWOK's side write.
func m5LargeNode(name, ip string, i int) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname":           name,
			"kubernetes.io/arch":               "amd64",
			"kubernetes.io/os":                 "linux",
			"beta.kubernetes.io/arch":          "amd64", // else kcm's node controller patches them in
			"beta.kubernetes.io/os":            "linux",
			"node.kubernetes.io/instance-type": "m5.large",
			"topology.kubernetes.io/region":    "us-east-1",
			"topology.kubernetes.io/zone":      "us-east-1" + string(rune('a'+i%3)),
		}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("29")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("7Gi"), corev1.ResourcePods: resource.MustParse("29")},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip},
				{Type: corev1.NodeHostName, Address: name},
				{Type: corev1.NodeInternalDNS, Address: name},
			},
		},
	}
}

// nodeLease is the heartbeat Lease a kubelet (and KWOK's
// node-heartbeat-with-lease stage) creates for a node.
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

// prepareKWOK: KWOK in its own process; the Nodes created as a KWOK user
// creates them, 16 at a time.
func prepareKWOK(b *testing.B, n int) *sideRun {
	e := controlPlane(b)
	k, err := testenv.StartKWOK(e)
	if err != nil {
		b.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		if b.Failed() {
			b.Logf("--- kwok %v, log (end) ---\n%s", k.Args, k.LogTail(4000))
		}
		if err := k.Stop(); err != nil {
			b.Error(err)
		}
		if *kwokLog != "" {
			if err := copyFile(k.LogPath(), *kwokLog); err != nil {
				b.Errorf("keeping kwok's log: %v", err)
			}
		}
		_ = e.Stop()
		e.Cleanup()
	})
	b.Cleanup(stop)
	return &sideRun{env: e, pid: k.Pid(), selector: kwokNodeLabel + "=" + kwokNodeLabelValue, stop: stop,
		launch: func(ctx context.Context) error {
			go func() {
				names := make(chan int)
				var wg sync.WaitGroup
				for range 16 {
					wg.Go(func() {
						for i := range names {
							if err := e.Client.Create(ctx, kwokNode(i)); err != nil {
								b.Errorf("creating node %s: %v", kwokNodeName(i), err)
							}
						}
					})
				}
				for i := range n {
					names <- i
				}
				close(names)
				wg.Wait()
			}()
			return nil
		}}
}

// prepareKdp: kdp's simulated cloud and kubelets, in kdp up --kubeconfig
// against a control plane of its own (or, embedded, kdp up alone), with a
// join config and a launch template ready; launch creates the group.
func prepareKdp(b *testing.B, n int, embedded bool) *sideRun {
	args := []string{"--time-scale", "10000"}
	dir := filepath.Join(b.TempDir(), "kdp")
	var e, k *testenv.Env
	var err error
	if embedded {
		if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
			b.Fatal(err)
		}
		k = e
	} else {
		e = controlPlane(b)
		if k, err = testenv.Start(testenv.Options{DataDir: dir, Kubeconfig: e.Kubeconfig(), Args: args}); err != nil {
			b.Fatal(err)
		}
	}
	stop := sync.OnceFunc(func() {
		_ = k.Stop()
		k.Cleanup()
		_ = e.Stop()
		e.Cleanup()
	})
	b.Cleanup(stop)
	nodeTemplate(b, dir, "bench-nodes", "m5.large", "--kubeconfig", e.Kubeconfig())
	c, _, err := simapi.Dial(context.Background(), cluster.Layout{Root: dir}.CloudSocket())
	if err != nil {
		b.Fatal(err)
	}
	r := &sideRun{env: e, pid: k.Pid(), selector: kubelet.LabelInstanceID, stop: stop,
		launch: func(ctx context.Context) error {
			_, err := c.CreateGroup(ctx, cloud.GroupInput{Name: "bench", LaunchTemplate: cloud.TemplateRef{Name: "bench-nodes"},
				MaxSize: int32(n), DesiredCapacity: int32(n)})
			return err
		}}
	if embedded {
		r.pid = 0 // the control plane's own
	}
	return r
}

// results gathers a benchmark's figures per side and run, and reports
// their means, and each run's figures in the log.
type results struct {
	figures map[string][]float64 // "kdp s" → per run
}

func (r *results) add(sideName, unit string, v float64) {
	if r.figures == nil {
		r.figures = map[string][]float64{}
	}
	key := unit + "-" + sideName
	r.figures[key] = append(r.figures[key], v)
}

func (r *results) mean(key string) float64 {
	vs := r.figures[key]
	if len(vs) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs))
}

// ratios adds, run by run, a side's figure over another's ("x-floor-kdp":
// kdp's time over the floor's in the same run).
func (r *results) ratios(unit, side, over string) {
	a, b := r.figures[unit+"-"+side], r.figures[unit+"-"+over]
	for i := range min(len(a), len(b)) {
		r.figures["x-"+over+"-"+side] = append(r.figures["x-"+over+"-"+side], a[i]/b[i])
	}
}

// report reports each figure's mean as a metric, and writes every run's
// figures, and their median, to stderr (b.Log would cut them short).
func (r *results) report(b *testing.B) {
	keys := make([]string, 0, len(r.figures))
	for k := range r.figures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.ReportMetric(r.mean(k), k)
		vs := append([]float64(nil), r.figures[k]...)
		sort.Float64s(vs)
		fmt.Fprintf(os.Stderr, "%s: median %.3g of %v\n", k, vs[len(vs)/2], r.figures[k])
	}
}

// logRun writes one side's run to stderr, as it happens.
func logRun(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// BenchmarkJoin brings -kdp.nodes nodes to Ready on each side (see above)
// and reports, per side, the time, its CPU and the control plane's, and
// kdp's ratios to the floor and to KWOK.
func BenchmarkJoin(b *testing.B) {
	n := *joinNodes
	chosen := chosenSides(b)
	var r results
	runs := 0
	for b.Loop() {
		for _, s := range rotated(chosen, runs) {
			run := s.prepare(b, n)
			took, sideCPU, cpCPU := run.joined(b, n)
			run.stop()
			r.add(s.name, "s", took.Seconds())
			if run.pid != 0 {
				r.add(s.name, "cpu-s", sideCPU)
			}
			r.add(s.name, "cpu-s-cp", cpCPU)
			logRun("run %d %s: %d nodes Ready in %.2f s; its process %.2f CPU-s, the control plane %.2f", runs, s.name, n, took.Seconds(), sideCPU, cpCPU)
		}
		runs++
	}
	r.ratios("s", "kdp", "floor")
	r.ratios("s", "kdp", "kwok")
	r.report(b)
}

// BenchmarkPods runs -kdp.pods pods (20 Deployments) on -kdp.nodes nodes of
// KWOK's (with its pod stages) and of kdp's (with its simulated kubelets),
// in alternating order, and reports per side the time until the scheduler
// bound every pod and until every pod was Running, the side's CPU and the
// control plane's during the run and at steady state, and its memory.
func BenchmarkPods(b *testing.B) {
	n, pods := *joinNodes, *podCount
	if pods > n*29 {
		b.Fatalf("-kdp.pods=%d exceeds the %d pods %d m5.large nodes hold", pods, n*29, n)
	}
	chosen := chosenSides(b, "floor", "kdp-embedded") // the floor has no kubelet to run pods
	var r results
	runs := 0
	for b.Loop() {
		for _, s := range rotated(chosen, runs) {
			run := s.prepare(b, n)
			run.joined(b, n)
			side0, cp0 := run.cpu(b), cpuSeconds(b, run.env.Pid())
			bound, running := runDeployments(b, run.env, pods)
			sideCPU, cpCPU := run.cpu(b)-side0, cpuSeconds(b, run.env.Pid())-cp0
			wait := time.NewTimer(steadyAfter)
			<-wait.C
			side0, cp0 = run.cpu(b), cpuSeconds(b, run.env.Pid())
			wait.Reset(steadyWindow)
			<-wait.C
			sideSteady := (run.cpu(b) - side0) / steadyWindow.Seconds() * 100
			cpSteady := (cpuSeconds(b, run.env.Pid()) - cp0) / steadyWindow.Seconds() * 100
			rss := rssMiB(b, run.pid)
			run.stop()
			r.add(s.name, "s-bound", bound.Seconds())
			r.add(s.name, "s-running", running.Seconds())
			r.add(s.name, "%cpu", sideCPU/running.Seconds()*100)
			r.add(s.name, "%cpu-cp", cpCPU/running.Seconds()*100)
			r.add(s.name, "%cpu-steady", sideSteady)
			r.add(s.name, "%cpu-steady-cp", cpSteady)
			r.add(s.name, "MiB-rss", rss)
			logRun("run %d %s: %d pods bound in %.1f s, Running in %.1f s; its process %.1f %% of a core meanwhile, %.1f %% steady (%.0f MiB); the control plane %.1f %%, %.1f %% steady",
				runs, s.name, pods, bound.Seconds(), running.Seconds(), sideCPU/running.Seconds()*100, sideSteady, rss, cpCPU/running.Seconds()*100, cpSteady)
		}
		runs++
	}
	r.ratios("s-running", "kdp", "kwok")
	r.report(b)
}

// The steady-state window.
const steadyAfter, steadyWindow = 10 * time.Second, 30 * time.Second

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
