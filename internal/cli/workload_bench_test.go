package cli_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kdp-project/kdp/internal/testenv"
)

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
