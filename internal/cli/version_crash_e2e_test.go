package cli_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_KillNineDuringAVersionUpdate kills kdp with SIGKILL four times
// at random moments of one rolling update of a node group of 4 nodes
// under a PodDisruptionBudget, and starts it again each time. The same
// update resumes at its phase and finishes: one VersionUpdate record,
// Successful; no instance launched beyond the plan (a surge of 6, then one
// replacement per old node); every old instance terminated only after the
// update drained its node; every node on the new image; every pod running.
func TestE2E_KillNineDuringAVersionUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// EKS's waits compressed 30 times: the 15-minute eviction timeout is
	// 30 s, longer than the restarts a drain may span (its clock runs
	// while kdp is down, as it would on EKS).
	args := []string{"--time-scale", "30", "--leader-elect=false", "--apiserver-port", strconv.Itoa(freePort(t))}
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "roll"}, Spec: eksv1.NodeGroupSpec{
		ScalingConfig:  &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 4},
		UpdateConfig:   &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](2)},
		ReleaseVersion: "1.37.2-20261015",
	}}
	if err := e.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	ng = waitNodeGroup(t, e.Client, "roll", 4)
	running := steady(t, e.Client, "roll", 8)
	testenv.Eventually(t, time.Minute, func() error { return running(e.Client) })
	asg := ng.Status.Resources.AutoScalingGroups[0].Name
	before := launched(t, dir, asg)

	ng.Spec.ReleaseVersion = "1.37.2-20261101"
	if err := e.Client.Update(ctx, ng); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 4 {
		wait := time.NewTimer(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
		<-wait.C
		e.Kill()
		if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: args}); err != nil {
			t.Fatal(err)
		}
	}

	var records eksv1.NodeGroupUpdateList
	testenv.Eventually(t, 3*time.Minute, func() error {
		if err := e.Client.List(ctx, &records, client.MatchingLabels{eksv1.LabelUpdateNodegroup: "roll"}); err != nil {
			return err
		}
		if len(records.Items) != 1 || records.Items[0].Status.Status != eksv1.UpdateSuccessful {
			var st []string
			for _, r := range records.Items {
				st = append(st, fmt.Sprintf("%s %s %s %+v", r.Spec.Type, r.Status.Status, r.Status.Phase, r.Status.Errors))
				if r.Status.Status == eksv1.UpdateFailed {
					t.Fatalf("update %s failed: %+v", r.Name, r.Status.Errors)
				}
			}
			return fmt.Errorf("update records %v, want one Successful VersionUpdate", st)
		}
		return nil
	})
	r := records.Items[0]
	if r.Spec.Type != eksv1.VersionUpdate {
		t.Fatalf("record %s is a %s", r.Name, r.Spec.Type)
	}
	got := waitNodeGroup(t, e.Client, "roll", 4)
	testenv.Eventually(t, 2*time.Minute, func() error { return running(e.Client) })
	if got.Status.ReleaseVersion != "1.37.2-20261101" {
		t.Errorf("release %s after the update", got.Status.ReleaseVersion)
	}
	var nodes corev1.NodeList
	if err := e.Client.List(ctx, &nodes, client.MatchingLabels{eksv1.LabelNodegroup: "roll"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if n.Labels[eksv1.LabelNodegroupImage] != r.Status.Rollout.ImageID || n.Spec.Unschedulable {
			t.Errorf("node %s: image %s, unschedulable %v; want %s, schedulable", n.Name, n.Labels[eksv1.LabelNodegroupImage], n.Spec.Unschedulable, r.Status.Rollout.ImageID)
		}
	}
	if n := len(launched(t, dir, asg)) - len(before); n != 6+4 {
		t.Errorf("%d instances launched by the update, want 10 (a surge of 6, 4 replacements)", n)
	}
	// Every old instance the update terminated was drained first.
	events := &corev1.EventList{}
	if err := e.Client.List(ctx, events, client.MatchingFields{"involvedObject.name": "roll"}); err != nil {
		t.Fatal(err)
	}
	drained := map[string]time.Time{}
	for _, ev := range events.Items {
		if ev.Reason == "Drained" && strings.Contains(ev.Message, "Update "+r.Name) {
			drained[strings.Fields(strings.SplitN(ev.Message, "drained node ", 2)[1])[0]] = ev.EventTime.Time
		}
	}
	terminated := 0
	for _, ev := range events.Items {
		if ev.Reason != "TerminatingNode" {
			continue
		}
		terminated++
		node := strings.Fields(strings.SplitN(ev.Message, " of node ", 2)[1])[0]
		node = strings.TrimSuffix(node, ",")
		if at, ok := drained[node]; !ok || ev.EventTime.Before(&metav1.MicroTime{Time: at}) {
			t.Errorf("node %s was terminated (%s) with no Drained event before", node, ev.Message)
		}
	}
	if terminated < 4 {
		t.Errorf("%d TerminatingNode events, want at least 4 (one per old node; more if a kill came between terminating and recording it)", terminated)
	}
}

// launched are the instances an Auto Scaling group launched, from its
// activities (terminated instances leave the instance list after a while).
func launched(t *testing.T, dir, asg string) []string {
	t.Helper()
	c := cloudClient(t, dir)
	var out []string
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		activities, next, err := c.ListActivities(testenv.Context(t), asg, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range activities {
			if strings.HasPrefix(a.Description, "Launching") && a.StatusCode == cloud.ActivitySuccessful && !slices.Contains(out, a.InstanceID) {
				out = append(out, a.InstanceID)
			}
		}
		if next == "" {
			return out
		}
		page.NextToken = next
	}
}

// steady makes a Deployment "steady" of n pods on a node group's nodes,
// behind a PodDisruptionBudget of maxUnavailable 1, in the default
// namespace, and returns a check that all n are running (through the
// client it is given: kdp's changes with each restart).
func steady(t *testing.T, c client.Client, group string, n int32) func(client.Client) error {
	t.Helper()
	ctx := testenv.Context(t)
	labels := map[string]string{"app": "steady"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "steady"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(n), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{eksv1.LabelNodegroup: group},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")},
			}}},
		}},
	}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "steady"}, Spec: policyv1.PodDisruptionBudgetSpec{
		MaxUnavailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
	}}
	for _, o := range []client.Object{d, pdb} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return func(c client.Client) error {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace("default"), client.MatchingLabels(labels)); err != nil {
			return err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		if running != int(n) {
			return fmt.Errorf("%d of %d pods running", running, n)
		}
		return nil
	}
}
