package nodegroup_test

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// deployment runs replicas pods of app on the group's nodes (anywhere if
// group is ""); spread puts at most one on a node (required
// anti-affinity).
func deployment(t testing.TB, ns, app, group string, replicas int32, spread bool) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": app}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{eksv1.LabelNodegroup: group},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
					Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")},
					}}},
				},
			},
		},
	}
	if group == "" {
		d.Spec.Template.Spec.NodeSelector = nil
	}
	if spread {
		d.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: corev1.LabelHostname,
			}},
		}}
	}
	if err := env.Client.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// budget puts a PodDisruptionBudget on app's pods.
func budget(t testing.TB, ns, app string, minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	t.Helper()
	b := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: minAvailable, MaxUnavailable: maxUnavailable,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		},
	}
	if err := env.Client.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitAvailable waits until n of app's pods are Ready.
func waitAvailable(t testing.TB, ns, app string, n int, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		pods := &corev1.PodList{}
		if err := env.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
			return err
		}
		if got := healthy(pods.Items); got != n {
			return errorf("%d of %s's pods are Ready, want %d", got, app, n)
		}
		return nil
	})
}

func isHealthy(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func healthy(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		if isHealthy(&pods[i]) {
			n++
		}
	}
	return n
}

// budgetWatcher counts, from its own watch of the pods (not through kdp),
// the fewest of a set of pods that were healthy at any moment since it
// started: a budget of minAvailable n was violated if that fell below n.
type budgetWatcher struct {
	mu      sync.Mutex
	healthy map[string]bool
	fewest  int
	armed   bool
	stop    func()
}

// watchBudget starts a watcher of app's pods; it arms once want pods are
// healthy (before that the workload is still starting).
func watchBudget(t testing.TB, ns, app string, want int) *budgetWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := env.Clientset.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	b := &budgetWatcher{healthy: map[string]bool{}, fewest: -1}
	done := make(chan struct{})
	b.stop = func() { cancel(); <-done }
	t.Cleanup(b.stop)
	go func() {
		defer close(done)
		for e := range w.ResultChan() {
			p, ok := e.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			b.mu.Lock()
			if e.Type == watch.Deleted {
				delete(b.healthy, p.Name)
			} else {
				b.healthy[p.Name] = isHealthy(p)
			}
			n := 0
			for _, h := range b.healthy {
				if h {
					n++
				}
			}
			if n >= want {
				b.armed = true
			}
			if b.armed && (b.fewest < 0 || n < b.fewest) {
				b.fewest = n
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// Fewest is the fewest healthy pods seen since the watcher armed (-1 if
// it never did).
func (b *budgetWatcher) Fewest() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fewest
}

// instancesEver lists every instance the group's Auto Scaling group has
// had, terminated ones too.
func instancesEver(t testing.TB, p cloud.Provider, ng *eksv1.NodeGroup) []cloud.Instance {
	t.Helper()
	var out []cloud.Instance
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		list, next, err := p.ListInstances(context.Background(), cloud.InstanceFilter{Group: resources.ASGName(ng)}, page)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list...)
		if next == "" {
			return out
		}
		page.NextToken = next
	}
}

// scale sets a group's scaling configuration.
func scale(t testing.TB, name string, minSize, desired, maxSize int32) {
	t.Helper()
	ng := get(t, name)
	before := ng.DeepCopy()
	ng.Spec.ScalingConfig = &eksv1.ScalingConfig{MinSize: minSize, DesiredSize: desired, MaxSize: maxSize}
	if err := env.Client.Patch(context.Background(), ng, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

// updatesOf lists a group's update records, oldest first.
func updatesOf(t testing.TB, name string) []eksv1.NodeGroupUpdate {
	t.Helper()
	list := &eksv1.NodeGroupUpdateList{}
	if err := env.Client.List(context.Background(), list, client.MatchingLabels{eksv1.LabelUpdateNodegroup: name}); err != nil {
		t.Fatal(err)
	}
	items := list.Items
	for i := 1; i < len(items); i++ { // insertion sort by creation, then name
		for j := i; j > 0 && later(items[j-1], items[j]); j-- {
			items[j-1], items[j] = items[j], items[j-1]
		}
	}
	return items
}

func later(a, b eksv1.NodeGroupUpdate) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Spec.Generation > b.Spec.Generation
}

// settled waits until a group has no update in progress and has brought
// its newest generation into effect, with status want.
func settled(t testing.TB, name string, want eksv1.Status, timeout time.Duration) *eksv1.NodeGroup {
	t.Helper()
	var ng *eksv1.NodeGroup
	testenv.Eventually(t, timeout, func() error {
		ng = &eksv1.NodeGroup{}
		if err := env.Client.Get(context.Background(), clientKey(name), ng); err != nil {
			return err
		}
		st := ng.Status
		if st.ActiveUpdate != "" || st.ObservedGeneration != ng.Generation || st.Status != want {
			return errorf("node group %s: %s, update %q, generation %d observed %d", name, st.Status, st.ActiveUpdate, ng.Generation, st.ObservedGeneration)
		}
		return nil
	})
	return ng
}
