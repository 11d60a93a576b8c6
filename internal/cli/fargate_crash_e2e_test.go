package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/testenv"
)

// fargatePods is how many pods TestE2E_KillNineWhilePlacingFargatePods
// places.
const fargatePods = 30

// TestE2E_KillNineWhilePlacingFargatePods kills kdp with SIGKILL three
// times at random moments while the fargate-scheduler places a Deployment
// of 30 pods on micro-VMs, and starts it again each time on the same data
// dir. It converges: all 30 pods Running, each on a fargate-ip-… node of
// its own; exactly 30 micro-VMs pending or running, each its pod's, and
// no Fargate node without its pod. Counting every micro-VM ever launched
// (terminated ones too) by its pod-UID tag, each of the 30 pods had
// exactly one (the launch's client token is the pod's UID, however often
// a restart asks again), and a pod that is gone (a ReplicaSet's extra)
// left none running. Scaled to 0, no Fargate node and no micro-VM is left
// within 30 s.
func TestE2E_KillNineWhilePlacingFargatePods(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"--sim-profile", "realistic", "--time-scale", "3", "--leader-elect=false", "--apiserver-port", strconv.Itoa(freePort(t))}
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	const ns = "serverless"
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	fp := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "crash"}, Spec: eksv1.FargateProfileSpec{
		PodExecutionRoleArn: "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole",
		Selectors:           []eksv1.FargateProfileSelector{{Namespace: ns}},
	}}
	if err := e.Client.Create(ctx, fp); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(fp), fp); err != nil {
			return err
		}
		if fp.Status.Status != eksv1.FargateActive {
			return fmt.Errorf("profile %s is %q (issues %+v), want ACTIVE", fp.Name, fp.Status.Status, fp.Status.Health.Issues)
		}
		return nil
	})
	labels := map[string]string{"app": "burst"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "burst"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](fargatePods), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
		}},
	}}
	if err := e.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	// The kills come once the ReplicaSet has made every pod, each routed to
	// the fargate-scheduler: a pod made while kdp's webhook is down after a
	// restart is admitted as it is (the webhook fails open, as EKS's does;
	// TestIntegration_RestartAndWebhookDown), which is not what this test
	// is about.
	testenv.EventuallyEvery(t, time.Minute, 10*time.Millisecond, func() error {
		list := &corev1.PodList{}
		if err := e.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return err
		}
		for _, p := range list.Items {
			if p.Spec.SchedulerName != eksv1.FargateScheduler {
				t.Fatalf("pod %s has scheduler %q, want %s", p.Name, p.Spec.SchedulerName, eksv1.FargateScheduler)
			}
		}
		if len(list.Items) != fargatePods {
			return fmt.Errorf("%d of %d pods made", len(list.Items), fargatePods)
		}
		return nil
	})
	// The first kill comes while the scheduler launches micro-VMs and
	// nominates their nodes (within 0.3 s of the last pod), the others
	// 0.3-2 s after each restart: while the nodes join and the pods are
	// bound.
	seed := uint64(7)
	if v := os.Getenv("FARGATE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 8))
	sim := cloudClient(t, dir)
	for k := range 3 {
		wait := time.Duration(300+rng.IntN(1700)) * time.Millisecond
		if k == 0 {
			wait = time.Duration(rng.IntN(300)) * time.Millisecond
		}
		<-time.After(wait)
		t.Logf("kill %d, %.1f s after the Deployment: %s", k+1, time.Since(created).Seconds(), progress(t, e.Client, sim, ns))
		e.Kill()
		if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
			t.Fatal(err)
		}
	}

	// Converged: 30 pods Running on nodes of their own, and the cloud runs
	// exactly their micro-VMs, the cluster exactly their nodes.
	var pods []corev1.Pod
	testenv.EventuallyEvery(t, 2*time.Minute, 250*time.Millisecond, func() error {
		list := &corev1.PodList{}
		if err := e.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return err
		}
		pods = list.Items
		return placed(pods, fargateVMs(t, sim), fargateNodes(t, e.Client))
	})

	// Every micro-VM ever launched, by its pod: exactly one for each pod
	// that runs, at most one for a pod that is gone (a ReplicaSet's extra),
	// and that one not running.
	byPod := map[string][]cloud.Instance{}
	for _, vm := range fargateVMs(t, sim) {
		uid := vm.Tags[cloud.TagMicroVMPod]
		byPod[uid] = append(byPod[uid], vm)
	}
	for _, p := range pods {
		if vms := byPod[string(p.UID)]; len(vms) != 1 {
			t.Errorf("pod %s had %d micro-VMs launched, want 1: %s", p.Name, len(vms), describeVMs(vms))
		}
		delete(byPod, string(p.UID))
	}
	for uid, vms := range byPod {
		if len(vms) > 1 {
			t.Errorf("pod %s (uid %s), which is gone, had %d micro-VMs launched: %s", vms[0].Tags["eks.kdp.dev/pod"], uid, len(vms), describeVMs(vms))
		}
		if live := liveVMs(vms); len(live) != 0 {
			t.Errorf("pod %s (uid %s) is gone, but its micro-VMs %s are not", vms[0].Tags["eks.kdp.dev/pod"], uid, describeVMs(live))
		}
	}
	t.Logf("%d pods placed through 3 kills, %.1f s after the Deployment; %d micro-VMs launched for pods that are gone", len(pods), time.Since(created).Seconds(), len(byPod))

	// Scaled to 0: nothing is left.
	// A merge patch, not an update: the Deployment controller writes the
	// object too, and an update from a stale read would conflict.
	if err := e.Client.Patch(ctx, d, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`))); err != nil {
		t.Fatal(err)
	}
	scaled := time.Now()
	testenv.EventuallyEvery(t, 30*time.Second, 250*time.Millisecond, func() error {
		live := liveVMs(fargateVMs(t, sim))
		nodes := fargateNodes(t, e.Client)
		if len(live) != 0 || len(nodes) != 0 {
			return fmt.Errorf("%d micro-VMs pending or running and %d Fargate nodes left after scaling to 0: %s", len(live), len(nodes), describeVMs(live))
		}
		return nil
	})
	t.Logf("scaled to 0: no micro-VM and no Fargate node left after %.1f s", time.Since(scaled).Seconds())
}

// progress says how far the placing is: pods bound and Running, micro-VMs
// launched.
func progress(t *testing.T, c client.Client, sim *simapi.Client, ns string) string {
	ctx := context.Background()
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	nominated, bound, running := 0, 0, 0
	for _, p := range pods.Items {
		if p.Status.NominatedNodeName != "" {
			nominated++
		}
		if p.Spec.NodeName != "" {
			bound++
		}
		if p.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	vms := fargateVMs(t, sim)
	nodes := &corev1.NodeList{}
	if err := c.List(ctx, nodes, client.MatchingLabels{eksv1.LabelComputeType: eksv1.ComputeTypeFargate}); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d pods, %d nominated, %d bound, %d Running; %d micro-VMs launched, %d nodes", len(pods.Items), nominated, bound, running, len(vms), len(nodes.Items))
}

// placed says what is wrong, if anything, of the Deployment's pods, the
// cloud's micro-VMs and the Fargate nodes: each of fargatePods pods Running
// on a fargate-ip-… node of its own, which is its micro-VM's; no other
// micro-VM pending or running, and no other Fargate node.
func placed(pods []corev1.Pod, vms []cloud.Instance, nodes []corev1.Node) error {
	live := liveVMs(vms)
	vmOf := map[string]cloud.Instance{}
	for _, vm := range live {
		uid := vm.Tags[cloud.TagMicroVMPod]
		if other, twice := vmOf[uid]; twice {
			return fmt.Errorf("pod %s has two micro-VMs pending or running: %s", vm.Tags["eks.kdp.dev/pod"], describeVMs([]cloud.Instance{other, vm}))
		}
		vmOf[uid] = vm
	}
	onNode := map[string]string{}
	running := 0
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		running++
		if !strings.HasPrefix(p.Spec.NodeName, "fargate-ip-") {
			return fmt.Errorf("pod %s runs on node %q, not a Fargate node", p.Name, p.Spec.NodeName)
		}
		if other, ok := onNode[p.Spec.NodeName]; ok {
			return fmt.Errorf("pods %s and %s both run on node %s", other, p.Name, p.Spec.NodeName)
		}
		onNode[p.Spec.NodeName] = p.Name
		vm, ok := vmOf[string(p.UID)]
		if !ok || vm.PrivateDNSName != p.Spec.NodeName {
			return fmt.Errorf("pod %s runs on node %s, but its micro-VM pending or running is %+v", p.Name, p.Spec.NodeName, vm)
		}
	}
	if running != fargatePods || len(pods) != fargatePods {
		return fmt.Errorf("%d pods, %d of them Running; want %d, all Running (%s)", len(pods), running, fargatePods, describePods(pods))
	}
	if len(live) != fargatePods {
		return fmt.Errorf("%d micro-VMs pending or running for %d pods: %s", len(live), fargatePods, describeVMs(live))
	}
	if len(nodes) != fargatePods {
		return fmt.Errorf("%d Fargate nodes for %d pods", len(nodes), fargatePods)
	}
	for _, n := range nodes {
		if _, ok := onNode[n.Name]; !ok {
			return fmt.Errorf("Fargate node %s runs no pod of the Deployment", n.Name)
		}
	}
	return nil
}

// fargateVMs are the micro-VMs of the simulated cloud, whatever their state
// (terminated instances stay listed for an hour).
func fargateVMs(t *testing.T, c *simapi.Client) []cloud.Instance {
	t.Helper()
	var out []cloud.Instance
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		is, next, err := c.ListInstances(context.Background(), cloud.InstanceFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range is {
			if i.MicroVM != nil {
				out = append(out, i)
			}
		}
		if next == "" {
			return out
		}
		page.NextToken = next
	}
}

// liveVMs are the micro-VMs that are pending or running.
func liveVMs(vms []cloud.Instance) []cloud.Instance {
	return slices.DeleteFunc(slices.Clone(vms), func(i cloud.Instance) bool {
		return i.State != cloud.StatePending && i.State != cloud.StateRunning
	})
}

// fargateNodes are the cluster's Fargate nodes.
func fargateNodes(t *testing.T, c client.Client) []corev1.Node {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := c.List(context.Background(), nodes, client.MatchingLabels{eksv1.LabelComputeType: eksv1.ComputeTypeFargate}); err != nil {
		t.Fatal(err)
	}
	return nodes.Items
}

func describeVMs(vms []cloud.Instance) string {
	var s []string
	for _, vm := range vms {
		s = append(s, fmt.Sprintf("%s (%s, %s, pod %s)", vm.ID, vm.State, vm.PrivateDNSName, vm.Tags["eks.kdp.dev/pod"]))
	}
	return strings.Join(s, ", ")
}

func describePods(pods []corev1.Pod) string {
	var s []string
	for _, p := range pods {
		s = append(s, fmt.Sprintf("%s %s on %q", p.Name, p.Status.Phase, p.Spec.NodeName))
	}
	return strings.Join(s, ", ")
}
