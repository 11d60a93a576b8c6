package fargate_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/admission"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/testenv/kdptest"
	"github.com/kdp-project/kdp/internal/timescale"
)

// BenchmarkDeployment500: a Deployment of 500 replicas placed by the
// default scheduler on 50 simulated nodes that exist already, then the
// same Deployment matching a Fargate profile (500 micro-VMs launched,
// joined and bound), in the same run, on a cloud without delays (the
// instant profile): the time until all 500 run, and each pod's
// create→Running. Then the Fargate Deployment is scaled to 0: the time
// until no Fargate node or micro-VM is left. The pod webhook's latency
// over the run comes from its request histogram. See docs/benchmarks.md.
func BenchmarkDeployment500(b *testing.B) {
	const replicas = 500
	k := startWith(b, "", "instant", timescale.Real)
	ec2 := env.Namespace(b)
	serverless := env.Namespace(b)
	profile(b, "bench", selector(serverless))
	ec2Nodes(b, k, 50)
	var defaultSum, fargateSum, teardownSum float64
	var defaultLat, fargateLat []time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		name := fmt.Sprintf("web-%d", run)
		took, lat := rollout(b, ec2, name, replicas)
		defaultSum += took.Seconds()
		defaultLat = append(defaultLat, lat...)
		removeDeployment(b, ec2, name)
		b.StartTimer()
		took, lat = rollout(b, serverless, name, replicas)
		b.StopTimer()
		fargateSum += took.Seconds()
		fargateLat = append(fargateLat, lat...)
		teardown := scaleToZero(b, k, serverless, name)
		teardownSum += teardown.Seconds()
		fmt.Fprintf(os.Stderr, "run %d: default scheduler %.2f s (p50 %.2f s, p99 %.2f s), Fargate %.2f s (p50 %.2f s, p99 %.2f s), ratio %.2f; scaled to 0, nothing left after %.2f s\n",
			run, defaultSum/float64(run+1), quantile(defaultLat, 0.5).Seconds(), quantile(defaultLat, 0.99).Seconds(),
			fargateSum/float64(run+1), quantile(fargateLat, 0.5).Seconds(), quantile(fargateLat, 0.99).Seconds(), fargateSum/defaultSum, teardown.Seconds())
		removeDeployment(b, serverless, name)
		b.StartTimer()
		run++
	}
	b.ReportMetric(defaultSum/float64(run), "default-s")
	b.ReportMetric(fargateSum/float64(run), "fargate-s")
	b.ReportMetric(fargateSum/defaultSum, "ratio")
	b.ReportMetric(quantile(defaultLat, 0.5).Seconds(), "default-p50-s")
	b.ReportMetric(quantile(defaultLat, 0.99).Seconds(), "default-p99-s")
	b.ReportMetric(quantile(fargateLat, 0.5).Seconds(), "fargate-p50-s")
	b.ReportMetric(quantile(fargateLat, 0.99).Seconds(), "fargate-p99-s")
	b.ReportMetric(teardownSum/float64(run), "teardown-s")
	under, total := webhookLatency(b)
	b.ReportMetric(under/total, "webhook-under-10ms")
	fmt.Fprintf(os.Stderr, "pod webhook: %.0f of %.0f requests answered in 10 ms or less (%.2f%%)\n", under, total, 100*under/total)
}

// BenchmarkSinglePod: one pod matching a profile on an idle kdp with the
// fast profile (the default): create→Running.
func BenchmarkSinglePod(b *testing.B) {
	ctx := context.Background()
	startWith(b, "", "fast", timescale.Real) // EKS's waits and the fast profile as they are
	ns := env.Namespace(b)
	profile(b, "single", selector(ns))
	var lat []time.Duration
	i := 0
	for b.Loop() {
		w := watchPods(b, ns)
		p := pod(ns, fmt.Sprintf("one-%d", i), "", "")
		create(b, p)
		got := w.wait(b, 1)
		w.stop()
		lat = append(lat, got...)
		b.StopTimer()
		if err := env.Client.Delete(ctx, p); err != nil {
			b.Fatal(err)
		}
		testenv.EventuallyEvery(b, 30*time.Second, 20*time.Millisecond, func() error { // idle again
			if n := len(fargateNodes(b)); n > 0 {
				return fmt.Errorf("%d Fargate nodes left", n)
			}
			return nil
		})
		b.StartTimer()
		i++
	}
	b.ReportMetric(quantile(lat, 0.5).Seconds(), "p50-s")
	b.ReportMetric(quantile(lat, 0.99).Seconds(), "p99-s")
	fmt.Fprintf(os.Stderr, "single pod create→Running over %d runs: p50 %.2f s, p99 %.2f s\n", len(lat), quantile(lat, 0.5).Seconds(), quantile(lat, 0.99).Seconds())
}

// ec2Nodes launches n standalone m5.large instances that join as nodes
// (29 pods each), and waits until they are Ready.
func ec2Nodes(b *testing.B, k *kdptest.KDP, n int) {
	ctx := context.Background()
	token, err := join.EnsureToken(ctx, env.Clientset, "bench0", "kdp Fargate benchmark nodes", nil)
	if err != nil {
		b.Fatal(err)
	}
	o := k.Join
	o.ClusterName = clusterName
	userData, err := join.Config(o, token).Render()
	if err != nil {
		b.Fatal(err)
	}
	images, _ := k.Provider.Images(ctx)
	subnets, _ := k.Provider.Subnets(ctx)
	var image string
	for _, img := range images {
		if img.Type == "AL2023_x86_64_STANDARD" {
			image = img.ID
			break
		}
	}
	for i := range n {
		subnet := subnets[i%len(subnets)]
		if subnet.Public {
			subnet = subnets[(i+1)%len(subnets)]
		}
		if _, err := k.Provider.RunInstances(ctx, cloud.RunInput{ImageID: image, InstanceType: "m5.large", SubnetID: subnet.ID, UserData: string(userData)}); err != nil {
			b.Fatal(err)
		}
	}
	testenv.Eventually(b, 5*time.Minute, func() error {
		nodes := &corev1.NodeList{}
		if err := env.Client.List(ctx, nodes, client.MatchingLabels{"node.kubernetes.io/instance-type": "m5.large"}); err != nil {
			return err
		}
		ready := 0
		for _, node := range nodes.Items {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && !node.Spec.Unschedulable && len(node.Spec.Taints) == 0 {
					ready++
				}
			}
		}
		if ready < n {
			return fmt.Errorf("%d of %d nodes Ready and untainted", ready, n)
		}
		return nil
	})
}

// rollout creates a Deployment of n replicas and waits until all run: the
// time that took, and each pod's create→Running (both as a watch sees
// them).
func rollout(b *testing.B, ns, name string, n int) (time.Duration, []time.Duration) {
	w := watchPods(b, ns)
	defer w.stop()
	t0 := time.Now()
	create(b, deployment(ns, name, int32(n)))
	lat := w.wait(b, n)
	return time.Since(t0), lat
}

// scaleToZero scales the Deployment to 0 and returns how long until no
// Fargate node and no micro-VM is left.
func scaleToZero(b *testing.B, k *kdptest.KDP, ns, name string) time.Duration {
	ctx := context.Background()
	d := deployment(ns, name, 0)
	t0 := time.Now()
	if err := env.Client.Patch(ctx, d, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"replicas":0}}`))); err != nil {
		b.Fatal(err)
	}
	testenv.EventuallyEvery(b, 2*time.Minute, 100*time.Millisecond, func() error {
		if n := len(fargateNodes(b)); n > 0 {
			return fmt.Errorf("%d Fargate nodes left", n)
		}
		if n := len(microVMs(b, k)); n > 0 {
			return fmt.Errorf("%d micro-VMs left", n)
		}
		return nil
	})
	return time.Since(t0)
}

func removeDeployment(b *testing.B, ns, name string) {
	ctx := context.Background()
	if err := env.Client.Delete(ctx, deployment(ns, name, 0)); err != nil {
		b.Fatal(err)
	}
	if err := env.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		b.Fatal(err)
	}
	testenv.Eventually(b, 2*time.Minute, func() error {
		pods := &corev1.PodList{}
		if err := env.Client.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%d pods left", len(pods.Items))
		}
		return nil
	})
}

// podWatch records, for the pods of a namespace, when an informer first
// saw each and when it first saw it Running (an informer, not a bare watch:
// it lists and watches again if its watch ends).
type podWatch struct {
	mu      sync.Mutex
	added   map[string]time.Time
	running map[string]time.Duration
	cancel  context.CancelFunc
}

func watchPods(b *testing.B, ns string) *podWatch {
	pw := &podWatch{added: map[string]time.Time{}, running: map[string]time.Duration{}}
	factory := informers.NewSharedInformerFactoryWithOptions(env.Clientset, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().Pods().Informer()
	record := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		now := time.Now()
		pw.mu.Lock()
		defer pw.mu.Unlock()
		if _, seen := pw.added[p.Name]; !seen {
			pw.added[p.Name] = now
		}
		if _, ran := pw.running[p.Name]; !ran && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			pw.running[p.Name] = now.Sub(pw.added[p.Name])
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pw.cancel = cancel
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return pw
}

// wait waits until n pods have run, and returns their create→Running.
func (pw *podWatch) wait(b *testing.B, n int) []time.Duration {
	var out []time.Duration
	testenv.EventuallyEvery(b, 10*time.Minute, 20*time.Millisecond, func() error {
		pw.mu.Lock()
		defer pw.mu.Unlock()
		if len(pw.running) < n {
			return fmt.Errorf("%d of %d pods Running", len(pw.running), n)
		}
		out = out[:0]
		for _, d := range pw.running {
			out = append(out, d)
		}
		return nil
	})
	return out
}

func (pw *podWatch) stop() { pw.cancel() }

// quantile of durations (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// webhookLatency is how many of the pod webhook's requests it answered in
// 10 ms or less, of how many (its request histogram's buckets are powers
// of ten, so 10 ms is one of them).
func webhookLatency(b *testing.B) (under, total float64) {
	families, err := ctrlmetricsRegistryGather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_latency_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == admission.PodPath {
					h := m.GetHistogram()
					total = float64(h.GetSampleCount())
					for _, bk := range h.GetBucket() {
						if bk.GetUpperBound() >= 0.01-1e-12 && bk.GetUpperBound() <= 0.01+1e-12 {
							under = float64(bk.GetCumulativeCount())
						}
					}
				}
			}
		}
	}
	if total == 0 {
		b.Fatal("the pod webhook's latency histogram has no samples")
	}
	return under, total
}
