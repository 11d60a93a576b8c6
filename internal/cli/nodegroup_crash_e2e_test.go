package cli_test

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_KillNineDuringANodeGroupScaleIn kills kdp with SIGKILL (its
// control plane, controllers and cloud with it) three times at random
// moments while a node group scales in from 6 nodes to 2 under a
// PodDisruptionBudget, and starts it again each time. It converges: the
// group ACTIVE with 2 Ready nodes, no instance launched beyond the 6, every
// terminated instance's node drained (or its drain timed out) before it
// went, as the NodeGroup's events say, one update record, and every pod
// running again.
func TestE2E_KillNineDuringANodeGroupScaleIn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"--time-scale", "120", "--leader-elect=false", "--apiserver-port", strconv.Itoa(freePort(t))}
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "crash"}, Spec: eksv1.NodeGroupSpec{
		ScalingConfig: &eksv1.ScalingConfig{MinSize: 0, MaxSize: 6, DesiredSize: 6},
	}}
	if err := e.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	ng = waitNodeGroup(t, e.Client, "crash", 6)
	running := steady(t, e.Client, "crash", 12)
	testenv.Eventually(t, time.Minute, func() error { return running(e.Client) })

	ng.Spec.ScalingConfig.DesiredSize = 2
	if err := e.Client.Update(ctx, ng); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3 {
		wait := time.NewTimer(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
		<-wait.C
		e.Kill()
		if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
			t.Fatal(err)
		}
	}

	got := waitNodeGroup(t, e.Client, "crash", 2)
	testenv.Eventually(t, 2*time.Minute, func() error { return running(e.Client) })
	asg := got.Status.Resources.AutoScalingGroups[0].Name
	ever, _, err := cloudClient(t, dir).ListInstances(ctx, cloud.InstanceFilter{Group: asg}, cloud.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ever) != 6 {
		t.Errorf("%d instances launched, want 6", len(ever))
	}
	events := &corev1.EventList{}
	if err := e.Client.List(ctx, events, client.MatchingFields{"involvedObject.name": "crash"}); err != nil {
		t.Fatal(err)
	}
	gone := 0
	for _, i := range ever {
		if i.State != cloud.StateTerminated && i.State != cloud.StateShuttingDown {
			continue
		}
		gone++
		drained := false
		for _, ev := range events.Items {
			if (ev.Reason == "Drained" || ev.Reason == "DrainTimeout") && strings.Contains(ev.Message, "instance "+i.ID+" terminates") {
				drained = true
			}
		}
		if !drained {
			t.Errorf("instance %s went with no Drained or DrainTimeout event", i.ID)
		}
	}
	if gone != 4 {
		t.Errorf("%d instances terminated, want 4", gone)
	}
	records := &eksv1.NodeGroupUpdateList{}
	if err := e.Client.List(ctx, records, client.MatchingLabels{eksv1.LabelUpdateNodegroup: "crash"}); err != nil {
		t.Fatal(err)
	}
	if len(records.Items) != 1 || records.Items[0].Status.Status != eksv1.UpdateSuccessful {
		t.Errorf("update records %+v, want one Successful", records.Items)
	}
}
