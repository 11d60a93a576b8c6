package nodegroup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/nodegroup"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/testenv/kdptest"
	"github.com/kdp-project/kdp/internal/timescale"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	if os.Getenv(watcherEnv) != "" {
		os.Exit(budgetWatcherMain()) // a benchmark's independent budget watcher
	}
	testenv.Main(m, &env)
}

const clusterName = "ng-test"

// kdp is the part of `kdp up` a node group test needs, against the
// package's API server: a simulated cloud in its own directory, the
// simulated machines, the webhook server and the node group controllers,
// with kdp's waits compressed by scale.
type kdp struct {
	cloud    *sim.Cloud
	provider *sim.Provider
	dir      string
	stop     func()
}

type options struct {
	// scale compresses kdp's waits and the cloud's: 100 if 0.
	scale timescale.Scale
	// dir is the cloud's and the webhook's directory (a new one if empty);
	// a restart passes the one before.
	dir string
	// boot is the simulated cloud's timing profile (default fast).
	profile string
	// joinServer, if set, is the API server address nodes are told to
	// join (a kdp started with another address).
	joinServer string
}

func start(t testing.TB, o options) *kdp {
	t.Helper()
	if o.dir == "" {
		forgetNodes(t)
	}
	k := kdptest.Start(t, env, kdptest.Options{
		Cluster: clusterName, Scale: o.scale, Dir: o.dir, Profile: o.profile, JoinServer: o.joinServer,
		Setup: func(ctx context.Context, s kdptest.Setup) error {
			return nodegroup.Setup(ctx, s.Manager, s.Provider, s.Hooks, resources.Env{
				Cluster: clusterName, Account: s.Account, Clock: clock.RealClock{}, Scale: s.Scale, Join: s.Join,
			})
		},
		Ready: func(ctx context.Context) error {
			bad := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: eksv1.NodeGroupSpec{InstanceTypes: []string{"no.such"}}}
			err := env.Client.Create(ctx, bad, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), "Ec2InstanceTypeDoesNotExist") {
				return fmt.Errorf("the webhook is not answering yet: %v", err)
			}
			return nil
		},
	})
	return &kdp{cloud: k.Cloud, provider: k.Provider, dir: k.Dir, stop: k.Stop}
}

// forgetNodes deletes the Nodes an earlier test's cloud left (its
// machines are gone with it) and waits until they are: every test's cloud
// has the same seed, so a new instance has the id, and its Node the name
// and provider id, of one before, and a stale Node (cordoned by a drain,
// say) would pass for the new one.
func forgetNodes(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.DeleteAllOf(ctx, &corev1.Node{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		nodes := &corev1.NodeList{}
		if err := env.Client.List(ctx, nodes); err != nil {
			return err
		}
		if len(nodes.Items) > 0 {
			return fmt.Errorf("%d Nodes of an earlier test are still there", len(nodes.Items))
		}
		return nil
	})
}

// group creates a node group and deletes it (and waits for it to go) when
// the test ends.
func group(t testing.TB, name string, mutate func(*eksv1.NodeGroupSpec)) *eksv1.NodeGroup {
	t.Helper()
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mutate != nil {
		mutate(&ng.Spec)
	}
	if err := env.Client.Create(context.Background(), ng); err != nil {
		t.Fatal(err)
	}
	return ng
}

// get reads a node group.
func get(t testing.TB, name string) *eksv1.NodeGroup {
	t.Helper()
	ng := &eksv1.NodeGroup{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, ng); err != nil {
		t.Fatal(err)
	}
	return ng
}

// waitStatus waits until the group has the status, failing early if it
// gets one of the others that cannot turn into it.
func waitStatus(t testing.TB, name string, want eksv1.Status, timeout time.Duration) *eksv1.NodeGroup {
	t.Helper()
	var ng *eksv1.NodeGroup
	testenv.Eventually(t, timeout, func() error {
		ng = &eksv1.NodeGroup{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, ng); err != nil {
			return err
		}
		if ng.Status.Status != want {
			return fmt.Errorf("node group %s is %q (%d/%d nodes Ready, issues %+v), want %s", name, ng.Status.Status, ng.Status.Nodes.Ready, ng.Status.Nodes.Instances, ng.Status.Health.Issues, want)
		}
		return nil
	})
	return ng
}

// deleteGroup deletes a node group and waits until it is gone.
func deleteGroup(t testing.TB, name string, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Delete(ctx, &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &eksv1.NodeGroup{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.Join(err, errors.New("node group "+name+" is still there"))
	})
}

// nodesOf lists the Nodes that say they are of a group.
func nodesOf(t testing.TB, name string) []corev1.Node {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := env.Client.List(context.Background(), nodes, client.MatchingLabels{eksv1.LabelNodegroup: name}); err != nil {
		t.Fatal(err)
	}
	return nodes.Items
}

// events lists the events about an object whose reason is one of reasons.
func events(t testing.TB, name string, reasons ...string) []corev1.Event {
	t.Helper()
	list := &corev1.EventList{}
	if err := env.Client.List(context.Background(), list, client.MatchingFields{"involvedObject.name": name}); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		for _, r := range reasons {
			if e.Reason == r {
				out = append(out, e)
			}
		}
	}
	return out
}

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// eventsIn lists the events in a namespace whose reason is one of reasons.
func eventsIn(t testing.TB, ns string, reasons ...string) []corev1.Event {
	t.Helper()
	list := &corev1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		for _, r := range reasons {
			if e.Reason == r {
				out = append(out, e)
			}
		}
	}
	return out
}
