package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/testenv"
)

// kills is how many times TestE2E_KillNineLosesNothing kills kdp.
const kills = 21

// TestE2E_KillNineLosesNothing kills kdp with SIGKILL at random moments
// while a group of 100 instances launches and terminates (its desired
// capacity flipping between 100 and 0) and their kubelets join, 21 times
// over. After each restart no acknowledged change is lost, no instance the
// cloud told of is unknown to it, and an event consumer that keeps its
// cursor resumes with no gap and no id changed. At the end the group
// settles at exactly its desired capacity with one Node per instance, and
// scaled to zero leaves no instance and no Node.
func TestE2E_KillNineLosesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// The API server keeps its port across restarts, as the nodes' join
	// configuration names it; the manager takes no Lease, so the kubelets
	// run (and are killed) at once after each restart instead of waiting
	// out the dead process's Lease.
	args := []string{"--time-scale", "120", "--leader-elect=false", "--apiserver-port", strconv.Itoa(freePort(t))}
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	nodeTemplate(t, dir, "crash-nodes", "m5.large")
	simKdp(t, dir, "sim", "group", "create", "crash", "--launch-template", "crash-nodes", "--max-size", "100", "--desired-capacity", "0")

	socket := cluster.Layout{Root: dir}.CloudSocket()
	dial := func() *simapi.Client {
		t.Helper()
		var c *simapi.Client
		testenv.Eventually(t, 30*time.Second, func() error {
			var err error
			c, _, err = simapi.Dial(ctx, socket)
			return err
		})
		return c
	}
	ev := &eventLog{ids: map[uint64]string{}, instances: map[string][]string{}}
	go ev.consume(ctx, socket)

	rng := rand.New(rand.NewPCG(1, 2))
	var acked, inFlight int32 // the desired capacity last acknowledged, and the one asked for since
	for k := range kills {
		c := dial()
		g, err := c.GetGroup(ctx, "crash")
		if err != nil {
			t.Fatal(err)
		}
		if g.DesiredCapacity != acked && g.DesiredCapacity != inFlight {
			t.Fatalf("kill %d: desired capacity %d after the restart; acknowledged %d (asked %d since)", k, g.DesiredCapacity, acked, inFlight)
		}
		acked = g.DesiredCapacity
		// Every instance the cloud told of is known to it.
		for _, id := range ev.seen() {
			if _, err := c.Launched(ctx, id); err != nil {
				t.Fatalf("kill %d: instance %s, which the cloud's events named, is unknown to it: %v", k, id, err)
			}
		}
		// Flip the desired capacity until kdp is killed.
		killAt := time.Now().Add(time.Duration(300+rng.IntN(1700)) * time.Millisecond)
		for time.Now().Before(killAt) {
			next := 100 - acked
			inFlight = next
			if _, err := c.UpdateGroup(ctx, "crash", cloud.GroupUpdate{DesiredCapacity: &next}); err != nil {
				t.Fatalf("kill %d: %v", k, err)
			}
			acked = next
			wait := time.NewTimer(time.Duration(100+rng.IntN(700)) * time.Millisecond)
			<-wait.C
		}
		e.Kill()
		if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
			t.Fatal(err)
		}
	}

	// Settled: exactly 100 instances in service, one Node each.
	c := dial()
	want := int32(100)
	if _, err := c.UpdateGroup(ctx, "crash", cloud.GroupUpdate{DesiredCapacity: &want}); err != nil {
		t.Fatal(err)
	}
	live := func() ([]cloud.Instance, error) {
		is, _, err := c.ListInstances(ctx, cloud.InstanceFilter{Group: "crash", States: []string{cloud.StatePending, cloud.StateRunning}}, cloud.Page{})
		return is, err
	}
	testenv.Eventually(t, 2*time.Minute, func() error {
		is, err := live()
		if err != nil {
			return err
		}
		inService := 0
		for _, i := range is {
			if i.LifecycleState == cloud.LifecycleInService {
				inService++
			}
		}
		nodes, err := kdpNodeCount(ctx, e)
		if err != nil {
			return err
		}
		if len(is) != 100 || inService != 100 || nodes != 100 {
			return fmt.Errorf("%d live instances, %d in service, %d Nodes; want 100 each", len(is), inService, nodes)
		}
		return nil
	})
	// To zero: nothing is left behind.
	want = 0
	if _, err := c.UpdateGroup(ctx, "crash", cloud.GroupUpdate{DesiredCapacity: &want}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, func() error {
		is, err := live()
		if err != nil {
			return err
		}
		nodes, err := kdpNodeCount(ctx, e)
		if err != nil {
			return err
		}
		if len(is) != 0 || nodes != 0 {
			return fmt.Errorf("%d live instances and %d Nodes left", len(is), nodes)
		}
		return nil
	})
	// Every event was delivered, in order, with its id; every instance's
	// way from pending to terminated is in them.
	ev.waitFor(t, ctx, socket)
	ev.check(t)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func kdpNodeCount(ctx context.Context, e *testenv.Env) (int, error) {
	var nodes corev1.NodeList
	if err := e.Client.List(ctx, &nodes, client.HasLabels{kubelet.LabelInstanceID}); err != nil {
		return 0, err
	}
	return len(nodes.Items), nil
}

// eventLog is a consumer of the cloud's events that keeps its cursor
// across restarts of kdp, as a durable consumer does.
type eventLog struct {
	mu        sync.Mutex
	cursor    uint64
	ids       map[uint64]string   // sequence → id, as first delivered
	instances map[string][]string // instance → the states it was reported in
	problems  []string
}

func (l *eventLog) consume(ctx context.Context, socket string) {
	for ctx.Err() == nil {
		c, _, err := simapi.Dial(ctx, socket)
		if err != nil {
			wait := time.NewTimer(20 * time.Millisecond)
			select {
			case <-wait.C:
			case <-ctx.Done():
			}
			continue
		}
		l.mu.Lock()
		since := l.cursor
		l.mu.Unlock()
		events, err := c.Subscribe(ctx, since)
		if err != nil {
			continue
		}
		for e := range events {
			l.record(e)
		}
	}
}

func (l *eventLog) record(e cloud.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, again := l.ids[e.Sequence]; again {
		if id != e.ID {
			l.problems = append(l.problems, fmt.Sprintf("event %d came again with id %s, first %s", e.Sequence, e.ID, id))
		}
		return
	}
	if e.Sequence != l.cursor+1 {
		l.problems = append(l.problems, fmt.Sprintf("event %d after %d: a gap", e.Sequence, l.cursor))
	}
	l.ids[e.Sequence], l.cursor = e.ID, e.Sequence
	if e.DetailType == cloud.DetailStateChange {
		var d cloud.StateChangeDetail
		_ = json.Unmarshal(e.Detail, &d)
		l.instances[d.InstanceID] = append(l.instances[d.InstanceID], d.State)
	}
}

func (l *eventLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.instances))
	for id := range l.instances {
		out = append(out, id)
	}
	return out
}

// waitFor waits until the consumer has every event the cloud made.
func (l *eventLog) waitFor(t *testing.T, ctx context.Context, socket string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		_, info, err := simapi.Dial(ctx, socket)
		if err != nil {
			return err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.cursor < info.LatestEvent {
			return fmt.Errorf("consumer at event %d of %d", l.cursor, info.LatestEvent)
		}
		return nil
	})
}

func (l *eventLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.problems {
		t.Error(p)
	}
	if len(l.instances) < 200 {
		t.Errorf("only %d instances launched over %d kills", len(l.instances), kills)
	}
	t.Logf("%d kills: %d instances launched and terminated, %d events, each delivered in order with its id", kills, len(l.instances), l.cursor)
	for id, states := range l.instances {
		if states[0] != cloud.StatePending || states[len(states)-1] != cloud.StateTerminated {
			t.Errorf("instance %s went %v: want pending first and terminated last", id, states)
		}
	}
}
