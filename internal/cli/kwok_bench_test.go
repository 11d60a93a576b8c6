package cli_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kdp-project/kdp/internal/testenv"
)

var kwokLog = flag.String("kdp.kwok-log", "", "where to keep kwok's log (else it goes with the benchmark's temporary directory)")

// BenchmarkKWOK runs KWOK (testenv.KWOKVersion, built from its module and
// run in its own process with the stages it ships) against the embedded
// control plane, as the peer kdp's simulated nodes and pods are compared
// with: -kdp.nodes Nodes created as a KWOK user creates them until every
// one is Ready, then -kdp.pods pods (20 Deployments) on them until every
// one is Running, then a steady-state window. It reports the times, and
// KWOK's CPU apart from the control plane's.
func BenchmarkKWOK(b *testing.B) {
	n, pods := *joinNodes, *podCount
	if pods > n*29 {
		b.Fatalf("-kdp.pods=%d exceeds the %d pods %d m5.large nodes hold", pods, n*29, n)
	}
	for b.Loop() {
		c, ready, nodesCPU := kwokNodes(b, n)
		logKWOKNode(b, c)
		r := kwokPods(b, c, pods)
		c.stop()
		b.ReportMetric(ready.Seconds(), "s-nodes-ready")
		b.ReportMetric(float64(n)/ready.Seconds(), "nodes/s")
		b.ReportMetric(nodesCPU, "cpu-s-kwok-nodes")
		b.ReportMetric(r.bound.Seconds(), "s-pods-bound")
		b.ReportMetric(r.running.Seconds(), "s-pods-running")
		b.ReportMetric(r.kwokCPU, "cpu-s-kwok-pods")
		b.ReportMetric(r.kwokCPU/r.running.Seconds()*100, "%cpu-kwok-pods")
		b.ReportMetric(r.controlPlaneCPU/r.running.Seconds()*100, "%cpu-cp-pods")
		b.ReportMetric(r.kwokSteady, "%cpu-kwok-steady")
		b.ReportMetric(r.controlPlaneSteady, "%cpu-cp-steady")
		b.ReportMetric(r.kwokRSS, "MiB-rss-kwok")
	}
}

// kwokCluster is a control plane (kdp --control-plane-only) with KWOK
// managing the Nodes that kwokNodes created on it.
type kwokCluster struct {
	env  *testenv.Env
	kwok *testenv.KWOK
	// stop stops KWOK, then the control plane; it runs once, and as a
	// cleanup of the benchmark if the caller does not call it (a failed
	// run, say).
	stop func()
}

// kwokNodes starts a control plane and KWOK on it, creates n Nodes as a
// KWOK user does (annotated for KWOK, sized and labelled as kdp's m5.large
// nodes and startPlain's, no status conditions: KWOK's node-initialize
// stage writes them) with 16 workers, and returns once every Node is
// Ready, with how long that took from the first create and the CPU
// seconds KWOK's process used meanwhile. The caller stops the cluster.
func kwokNodes(b *testing.B, n int) (c *kwokCluster, ready time.Duration, kwokCPU float64) {
	e, err := testenv.Start(testenv.Options{DataDir: filepath.Join(b.TempDir(), "data")})
	if err != nil {
		b.Fatal(err)
	}
	k, err := testenv.StartKWOK(e)
	if err != nil {
		_ = e.Stop()
		e.Cleanup()
		b.Fatal(err)
	}
	c = &kwokCluster{env: e, kwok: k}
	c.stop = sync.OnceFunc(func() {
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
	b.Cleanup(c.stop)

	allReady, stopWatch := nodesReady(b, e, kwokNodeLabel+"="+kwokNodeLabelValue, n)
	defer stopWatch()
	ctx := context.Background()
	names := make(chan int)
	var wg sync.WaitGroup
	before := cpuSeconds(b, k.Pid())
	start := time.Now()
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
	if b.Failed() {
		b.FailNow() // some Node was not created: no use waiting for it
	}
	select {
	case <-allReady:
		ready = time.Since(start)
	case <-k.Exited():
		b.Fatalf("kwok exited before %d nodes were Ready", n)
	case <-time.After(10 * time.Minute):
		b.Fatalf("not %d nodes Ready after 10 minutes", n)
	}
	return c, ready, cpuSeconds(b, k.Pid()) - before
}

// The label KWOK's documented Node carries; the benchmark's watch selects
// KWOK's Nodes by it, server-side (KWOK selects them by its annotation).
const kwokNodeLabel, kwokNodeLabelValue = "type", "kwok"

func kwokNodeName(i int) string { return fmt.Sprintf("kwok-%d", i) }
func kwokNodeIP(i int) string   { return fmt.Sprintf("10.3.%d.%d", i/250, 1+i%250) }

// kwokNode is the i-th Node as a KWOK user writes it (KWOK's "Manage Nodes
// and Pods" page): KWOK's annotation, the well-known labels, capacity and
// allocatable in the status it is created with, and no conditions. The
// labels, sizes and addresses are startPlain's (an m5.large's, as kdp's
// nodes), so that the two write the same objects. Left out of KWOK's
// example: its kwok.x-k8s.io/node=fake:NoSchedule taint, which keeps real
// workloads off fake nodes in a real cluster (here every node is
// simulated, and runDeployments' pods tolerate nothing), and its
// kubernetes.io/role labels, which neither kdp's nodes nor startPlain's
// carry.
func kwokNode(i int) *corev1.Node {
	name := kwokNodeName(i)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				testenv.KWOKAnnotation:         testenv.KWOKAnnotationValue,
				"node.alpha.kubernetes.io/ttl": "0", // in KWOK's example, as a kubelet registers
			},
			Labels: map[string]string{
				kwokNodeLabel:                      kwokNodeLabelValue,
				"kubernetes.io/hostname":           name,
				"kubernetes.io/arch":               "amd64",
				"kubernetes.io/os":                 "linux",
				"beta.kubernetes.io/arch":          "amd64",
				"beta.kubernetes.io/os":            "linux",
				"node.kubernetes.io/instance-type": "m5.large",
				"topology.kubernetes.io/region":    "us-east-1",
				"topology.kubernetes.io/zone":      "us-east-1" + string(rune('a'+i%3)),
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("29")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("7Gi"), corev1.ResourcePods: resource.MustParse("29")},
			// KWOK's node-initialize keeps addresses a Node has; without
			// them it would give every Node the same --node-ip.
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: kwokNodeIP(i)},
				{Type: corev1.NodeHostName, Address: name},
				{Type: corev1.NodeInternalDNS, Address: name},
			},
		},
	}
}

// nodesReady watches the Nodes with a label selector (an informer, not a
// list in a loop) and returns a channel closed once n of them are Ready,
// and a function that stops the watch.
func nodesReady(b *testing.B, e *testenv.Env, selector string, n int) (<-chan struct{}, func()) {
	factory := informers.NewSharedInformerFactoryWithOptions(e.Clientset, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	}))
	informer := factory.Core().V1().Nodes().Informer()
	done := make(chan struct{})
	var mu sync.Mutex
	ready := map[string]bool{}
	set := func(obj any) {
		node, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ready[node.Name] || !nodeIsReady(node) {
			return // a node's Ready going back to false is not what is timed
		}
		ready[node.Name] = true
		if len(ready) == n {
			close(done)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
	}); err != nil {
		b.Fatal(err)
	}
	return done, runInformers(factory)
}

func nodeIsReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// logKWOKNode logs what KWOK wrote for its first Node: the conditions and
// the Lease, to check against a kubelet's.
func logKWOKNode(b *testing.B, c *kwokCluster) {
	ctx := context.Background()
	name := kwokNodeName(0)
	node, err := c.env.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		b.Fatalf("getting node %s: %v", name, err)
	}
	for _, cond := range node.Status.Conditions {
		b.Logf("node %s: %s=%s (%s)", name, cond.Type, cond.Status, cond.Reason)
	}
	b.Logf("node %s: phase %q, addresses %v, kubelet %s, port %d, taints %v", name, node.Status.Phase, node.Status.Addresses,
		node.Status.NodeInfo.KubeletVersion, node.Status.DaemonEndpoints.KubeletEndpoint.Port, node.Spec.Taints)
	lease, err := c.env.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		b.Fatalf("getting the lease of node %s: %v", name, err)
	}
	b.Logf("lease %s: holder %q, duration %ds, renewed %s, owners %d", name, *lease.Spec.HolderIdentity,
		*lease.Spec.LeaseDurationSeconds, lease.Spec.RenewTime.Format(time.RFC3339Nano), len(lease.OwnerReferences))
}

// kwokPodsResult is what kwokPods measured.
type kwokPodsResult struct {
	// bound and running are how long until the scheduler had bound every
	// pod, and until every pod was Running.
	bound, running time.Duration
	// kwokCPU and controlPlaneCPU are the CPU seconds KWOK's process and
	// the control plane's (kdp's) used until every pod was Running.
	kwokCPU, controlPlaneCPU float64
	// kwokSteady and controlPlaneSteady are their CPU, in % of a core, over
	// a steadyWindow once the pods have run steadyAfter.
	kwokSteady, controlPlaneSteady float64
	// kwokRSS is KWOK's resident memory after that window, in MiB.
	kwokRSS float64
}

// The steady-state window, as BenchmarkPods measures kdp's.
const steadyAfter, steadyWindow = 10 * time.Second, 30 * time.Second

// kwokPods runs pods pods (20 Deployments, runDeployments) on the Nodes of
// kwokNodes, made Running by KWOK's pod stages, and measures them and
// KWOK's and the control plane's CPU apart.
func kwokPods(b *testing.B, c *kwokCluster, pods int) (r kwokPodsResult) {
	kwok, cp := c.kwok.Pid(), c.env.Pid()
	kwok0, cp0 := cpuSeconds(b, kwok), cpuSeconds(b, cp)
	r.bound, r.running = runDeployments(b, c.env, pods)
	r.kwokCPU, r.controlPlaneCPU = cpuSeconds(b, kwok)-kwok0, cpuSeconds(b, cp)-cp0
	time.Sleep(steadyAfter)
	kwok0, cp0 = cpuSeconds(b, kwok), cpuSeconds(b, cp)
	time.Sleep(steadyWindow)
	r.kwokSteady = (cpuSeconds(b, kwok) - kwok0) / steadyWindow.Seconds() * 100
	r.controlPlaneSteady = (cpuSeconds(b, cp) - cp0) / steadyWindow.Seconds() * 100
	r.kwokRSS = rssMiB(b, kwok)
	select {
	case <-c.kwok.Exited():
		b.Fatal("kwok exited during the run")
	default:
	}
	return r
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
