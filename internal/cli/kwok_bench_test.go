package cli_test

import (
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kdp-project/kdp/internal/testenv"
)

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
	// KWOK's node-initialize keeps the addresses a Node has; without them
	// it would give every Node the same --node-ip.
	node := m5LargeNode(kwokNodeName(i), kwokNodeIP(i), i)
	node.Labels[kwokNodeLabel] = kwokNodeLabelValue
	node.Annotations = map[string]string{
		testenv.KWOKAnnotation:         testenv.KWOKAnnotationValue,
		"node.alpha.kubernetes.io/ttl": "0", // in KWOK's example, as a kubelet registers
	}
	return node
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
