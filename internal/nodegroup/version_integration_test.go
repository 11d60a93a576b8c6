package nodegroup_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

// versionUpdates are a group's VersionUpdate records, oldest first.
func versionUpdates(t testing.TB, name string) []eksv1.NodeGroupUpdate {
	t.Helper()
	var out []eksv1.NodeGroupUpdate
	for _, r := range updatesOf(t, name) {
		if r.Spec.Type == eksv1.VersionUpdate {
			out = append(out, r)
		}
	}
	return out
}

// waitVersionUpdate waits for the group's newest version update to end
// with want (failing early if it ends otherwise), and for the group to be
// ACTIVE again with no update in progress.
func waitVersionUpdate(t testing.TB, name string, want eksv1.UpdateStatus, timeout time.Duration, before ...eksv1.NodeGroupUpdate) eksv1.NodeGroupUpdate {
	t.Helper()
	var r eksv1.NodeGroupUpdate
	testenv.Eventually(t, timeout, func() error {
		records := slices.DeleteFunc(versionUpdates(t, name), func(r eksv1.NodeGroupUpdate) bool {
			return slices.ContainsFunc(before, func(b eksv1.NodeGroupUpdate) bool { return b.Name == r.Name })
		})
		if len(records) == 0 {
			return errorf("node group %s has no new version update", name)
		}
		r = records[len(records)-1]
		switch st := r.Status; {
		case st.Status == eksv1.UpdateInProgress || st.Status == "":
			progress := ""
			if p := st.Rollout; p != nil {
				progress = fmt.Sprintf(", %d of %d replaced, draining %+v", p.NodesReplaced, p.NodesToReplace, p.Draining)
			}
			return errorf("update %s is in phase %s%s", r.Name, st.Phase, progress)
		case st.Status != want:
			t.Fatalf("update %s ended %s (%+v), want %s", r.Name, st.Status, st.Errors, want)
		}
		ng := get(t, name)
		if ng.Status.ActiveUpdate != "" || ng.Status.Status != eksv1.StatusActive {
			return errorf("node group %s is %s with update %q", name, ng.Status.Status, ng.Status.ActiveUpdate)
		}
		return nil
	})
	return r
}

// eventTime is when the first event of a reason about an object was
// recorded (zero if there is none).
func eventTime(t testing.TB, name, reason string) time.Time {
	t.Helper()
	var first time.Time
	for _, e := range events(t, name, reason) {
		at := eventAt(e)
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first
}

func eventAt(e corev1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}

// launches are the instances a group launched, from its activities.
func launches(t testing.TB, p cloud.Provider, ng *eksv1.NodeGroup) []string {
	t.Helper()
	var out []string
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		activities, next, err := p.ListActivities(context.Background(), resources.ASGName(ng), page)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range activities {
			if strings.HasPrefix(a.Description, "Launching") && a.StatusCode == cloud.ActivitySuccessful {
				out = append(out, a.InstanceID)
			}
		}
		if next == "" {
			return out
		}
		page.NextToken = next
	}
}

// peakWatcher counts a group's instances that are not terminated, as
// often as the cloud answers, and keeps the most it saw.
type peakWatcher struct {
	mu   sync.Mutex
	peak int
	stop func()
}

func watchPeak(t testing.TB, p cloud.Provider, ng *eksv1.NodeGroup) *peakWatcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &peakWatcher{}
	done := make(chan struct{})
	w.stop = func() { cancel(); <-done }
	t.Cleanup(w.stop)
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			list, _, err := p.ListInstances(ctx, cloud.InstanceFilter{Group: resources.ASGName(ng),
				States: []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown}}, cloud.Page{MaxResults: cloud.MaxPageSize})
			if err == nil {
				w.mu.Lock()
				w.peak = max(w.peak, len(list))
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *peakWatcher) Peak() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// nodesPerZone counts a group's nodes in each zone.
func nodesPerZone(t testing.TB, name string) map[string]int {
	t.Helper()
	zones := map[string]int{}
	for _, n := range nodesOf(t, name) {
		zones[n.Labels[corev1.LabelTopologyZone]]++
	}
	return zones
}

// checkUpgraded checks that every node of the group is Ready, runs the
// image and Kubernetes version of the update, and is schedulable and in
// load balancers again; and that the Auto Scaling group is back at its
// size, with every process running.
func checkUpgraded(t testing.TB, p cloud.Provider, name string, r eksv1.NodeGroupUpdate, kubelet string) {
	t.Helper()
	ng := get(t, name)
	plan := r.Status.Rollout
	if ng.Status.ReleaseVersion != plan.ReleaseVersion || ng.Status.Applied.ImageID != plan.ImageID {
		t.Errorf("group status: release %s image %s, want %s %s", ng.Status.ReleaseVersion, ng.Status.Applied.ImageID, plan.ReleaseVersion, plan.ImageID)
	}
	if plan.NodesReplaced != plan.NodesToReplace {
		t.Errorf("%d of %d nodes replaced", plan.NodesReplaced, plan.NodesToReplace)
	}
	waitReady(t, name, ng.Spec.ScalingConfig.DesiredSize, time.Minute)
	for _, n := range nodesOf(t, name) {
		if n.Labels[eksv1.LabelNodegroupImage] != plan.ImageID || n.Status.NodeInfo.KubeletVersion != kubelet {
			t.Errorf("node %s: image %s kubelet %s, want %s %s", n.Name, n.Labels[eksv1.LabelNodegroupImage], n.Status.NodeInfo.KubeletVersion, plan.ImageID, kubelet)
		}
		if n.Spec.Unschedulable || n.Labels[eksv1.LabelExcludeFromLB] != "" {
			t.Errorf("node %s: unschedulable %v, exclude label %q", n.Name, n.Spec.Unschedulable, n.Labels[eksv1.LabelExcludeFromLB])
		}
	}
	g, err := p.GetGroup(context.Background(), resources.ASGName(ng))
	if err != nil {
		t.Fatal(err)
	}
	s := ng.Spec.ScalingConfig
	if g.MinSize != s.MinSize || g.MaxSize != s.MaxSize || g.DesiredCapacity != s.DesiredSize || len(g.SuspendedProcesses) > 0 ||
		g.LaunchTemplate.Version != plan.LaunchTemplateVersion || ng.Status.Resources.LaunchTemplate.Version != plan.LaunchTemplateVersion {
		t.Errorf("Auto Scaling group after the update: %d/%d/%d, suspended %v, launch template version %s (status %s); want %d/%d/%d, none suspended, version %s",
			g.MinSize, g.DesiredCapacity, g.MaxSize, g.SuspendedProcesses, g.LaunchTemplate.Version, ng.Status.Resources.LaunchTemplate.Version,
			s.MinSize, s.DesiredSize, s.MaxSize, plan.LaunchTemplateVersion)
	}
}

// TestIntegration_VersionUpdateInFourPhases: a new Kubernetes version on a
// DEFAULT group is one VersionUpdate with EKS's params that goes through
// setup, scale-up (2 × 3 zones new nodes, one in every zone, before any old
// one goes), upgrade (one node at a time, drained within the budget) and
// scale-down (back to the size before); every node then runs the new image
// and kubelet, and the budget was never broken.
func TestIntegration_VersionUpdateInFourPhases(t *testing.T) {
	k := start(t, options{})
	ns := env.Namespace(t)
	ng := group(t, "roll", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 3}
		s.Version, s.ReleaseVersion = "1.36", "1.36.3-20261001"
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "web", ng.Name, 4, false)
	budget(t, ns, "web", nil, ptr.To(intstr.FromInt32(1)))
	waitAvailable(t, ns, "web", 4, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "web", 1) })
	watcher := watchBudget(t, ns, "web", 4)
	old := launches(t, k.provider, created)
	oldZones := nodesPerZone(t, ng.Name)

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.Version = "1.37" })
	r := waitVersionUpdate(t, ng.Name, eksv1.UpdateSuccessful, 3*time.Minute)

	if p := params(r); p[eksv1.ParamVersion] != "1.37" || p[eksv1.ParamReleaseVersion] != "1.37.2-20261101" || r.Spec.Force {
		t.Errorf("params %v force %v, want Version 1.37 and the newest release (defaulted), not forced", p, r.Spec.Force)
	}
	plan := r.Status.Rollout
	if plan.Surge != 6 || plan.MaxUnavailable != 1 || plan.NodesToReplace != 3 || plan.Before != *created.Spec.ScalingConfig || plan.Strategy != "DEFAULT" {
		t.Errorf("plan %+v: want a surge of 6, 1 at a time, 3 nodes, before %+v", plan, *created.Spec.ScalingConfig)
	}
	checkUpgraded(t, k.provider, ng.Name, r, "v1.37.2")
	if fewest := watcher.Fewest(); fewest < 3 {
		t.Errorf("only %d of web's 4 pods were Ready at one moment: the budget allows 1 unavailable", fewest)
	}
	// The phases, in order, and the old nodes drained only once the new
	// ones were up in every zone the old ones were in.
	scaleUp, upgrade, scaleDown := eventTime(t, ng.Name, "UpdateScaleUp"), eventTime(t, ng.Name, "UpdateUpgrade"), eventTime(t, ng.Name, "UpdateScaleDown")
	if scaleUp.IsZero() || upgrade.Before(scaleUp) || scaleDown.Before(upgrade) {
		t.Errorf("phases at %v, %v, %v: want scale-up, upgrade, scale-down in order", scaleUp, upgrade, scaleDown)
	}
	if first := eventTime(t, ng.Name, "ReplacingNode"); first.Before(upgrade) {
		t.Errorf("an old node was drained at %v, before the upgrade phase (%v)", first, upgrade)
	}
	newZones := nodesPerZone(t, ng.Name)
	for z := range oldZones {
		if newZones[z] == 0 {
			t.Errorf("zone %s had old nodes and has no new one", z)
		}
	}
	// Exactly the surge and one replacement per old node were launched.
	if all := launches(t, k.provider, created); len(all)-len(old) != 6+3 {
		t.Errorf("%d instances launched by the update, want 9 (a surge of 6, then 3 replacements)", len(all)-len(old))
	}
	if len(versionUpdates(t, ng.Name)) != 1 {
		t.Errorf("%d version updates, want 1", len(versionUpdates(t, ng.Name)))
	}
}

// TestIntegration_VersionUpdateMinimal: MINIMAL replaces nodes without a
// surge: no more instances than the desired size ever exist, each old node
// goes (drained) before its replacement launches.
func TestIntegration_VersionUpdateMinimal(t *testing.T) {
	k := start(t, options{})
	ng := group(t, "minimal", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 3, MaxSize: 3, DesiredSize: 3}
		s.ReleaseVersion = "1.37.2-20261015"
		s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1), UpdateStrategy: "MINIMAL"}
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	old := launches(t, k.provider, created)
	peak := watchPeak(t, k.provider, created)

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
	r := waitVersionUpdate(t, ng.Name, eksv1.UpdateSuccessful, 3*time.Minute)
	peak.stop()

	if p := r.Status.Rollout; p.Surge != 0 || p.Strategy != "MINIMAL" {
		t.Errorf("plan %+v: want MINIMAL without a surge", p)
	}
	checkUpgraded(t, k.provider, ng.Name, r, "v1.37.2")
	if n := peak.Peak(); n != 3 {
		t.Errorf("at most %d instances at once, want 3 (no surge)", n)
	}
	if all := launches(t, k.provider, created); len(all)-len(old) != 3 {
		t.Errorf("%d instances launched by the update, want 3", len(all)-len(old))
	}
	if !eventTime(t, ng.Name, "UpdateScaleUp").IsZero() {
		t.Error("a MINIMAL update had a scale-up phase")
	}
}

// TestIntegration_PodEvictionFailureThenForce: a node whose pods a budget
// keeps fails the update with PodEvictionFailure once the 15 minutes
// (compressed) have passed since its drain began, not before, naming the
// pods and the budget; the group is ACTIVE and as it was (old nodes
// uncordoned, the added ones gone, the old launch template version). A
// forced retry then replaces every node.
func TestIntegration_PodEvictionFailureThenForce(t *testing.T) {
	const scaleBy = 100
	k := start(t, options{scale: scaleBy})
	ns := env.Namespace(t)
	ng := group(t, "stuck", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 2}
		s.ReleaseVersion = "1.37.2-20261015"
	})
	defer deleteGroup(t, ng.Name, 3*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "guarded", ng.Name, 2, true)
	budget(t, ns, "guarded", ptr.To(intstr.FromInt32(2)), nil) // nothing may go
	waitAvailable(t, ns, "guarded", 2, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "guarded", 0) })

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
	// A user sees which node drains and what blocks it, in the record and
	// in events.
	testenv.Eventually(t, time.Minute, func() error {
		records := versionUpdates(t, ng.Name)
		if len(records) != 1 || records[0].Status.Rollout == nil || len(records[0].Status.Rollout.Draining) == 0 {
			return errorf("no node draining yet")
		}
		d := records[0].Status.Rollout.Draining[0]
		if d.NodeName == "" || len(d.BlockedBy) != 1 || !strings.HasSuffix(d.BlockedBy[0], ": PodDisruptionBudget "+ns+"/guarded (0 disruptions allowed)") {
			return errorf("draining %+v: want its node and the pod the budget blocks", d)
		}
		for _, e := range events(t, ng.Name, "DrainBlocked") {
			if strings.Contains(e.Message, d.NodeName) && strings.Contains(e.Message, "PodDisruptionBudget "+ns+"/guarded") && strings.Contains(e.Message, "of 9s") {
				return nil
			}
		}
		return errorf("no DrainBlocked event about node %s", d.NodeName)
	})
	failed := waitVersionUpdate(t, ng.Name, eksv1.UpdateFailed, 2*time.Minute)
	if len(failed.Status.Errors) != 1 {
		t.Fatalf("errors %+v, want one", failed.Status.Errors)
	}
	e := failed.Status.Errors[0]
	if e.ErrorCode != "PodEvictionFailure" || !strings.Contains(e.ErrorMessage, "PodDisruptionBudget "+ns+"/guarded") || len(e.ResourceIDs) == 0 {
		t.Errorf("error %+v: want PodEvictionFailure naming budget %s/guarded and the pods", e, ns)
	}
	for _, id := range e.ResourceIDs {
		if !strings.HasPrefix(id, ns+"/guarded-") {
			t.Errorf("resource %s is not one of the guarded pods", id)
		}
	}
	drainStarted := eventTime(t, ng.Name, "ReplacingNode")
	if took := eventTime(t, ng.Name, "UpdateFailed").Sub(drainStarted); took < 15*time.Minute/scaleBy {
		t.Errorf("failed %v after the drain began, before the eviction timeout (%v)", took, 15*time.Minute/scaleBy)
	}
	// As it was: its old nodes, schedulable, the old version.
	waitReady(t, ng.Name, 2, time.Minute)
	after := get(t, ng.Name)
	if after.Status.ReleaseVersion != "1.37.2-20261015" || after.Status.Resources.LaunchTemplate.Version != created.Status.Resources.LaunchTemplate.Version {
		t.Errorf("after the failure: release %s, launch template version %s; want the old ones", after.Status.ReleaseVersion, after.Status.Resources.LaunchTemplate.Version)
	}
	testenv.Eventually(t, time.Minute, func() error {
		g, err := k.provider.GetGroup(context.Background(), resources.ASGName(after))
		if err != nil {
			return err
		}
		if g.DesiredCapacity != 2 || g.MaxSize != 2 || len(g.SuspendedProcesses) > 0 || g.LaunchTemplate.Version != created.Status.Resources.LaunchTemplate.Version {
			return errorf("Auto Scaling group %d/%d, suspended %v, version %s", g.DesiredCapacity, g.MaxSize, g.SuspendedProcesses, g.LaunchTemplate.Version)
		}
		for _, n := range nodesOf(t, ng.Name) {
			if n.Spec.Unschedulable || n.Labels[eksv1.LabelExcludeFromLB] != "" || n.Labels[eksv1.LabelNodegroupImage] != created.Status.Applied.ImageID {
				return errorf("node %s: unschedulable %v, exclude %q, image %s", n.Name, n.Spec.Unschedulable, n.Labels[eksv1.LabelExcludeFromLB], n.Labels[eksv1.LabelNodegroupImage])
			}
		}
		return nil
	})
	waitAvailable(t, ns, "guarded", 2, time.Minute)

	// The same request again is not a second update; a forced one is.
	ngNow := get(t, ng.Name)
	before := ngNow.DeepCopy()
	ngNow.Annotations = map[string]string{eksv1.AnnotationForceUpdate: "true"}
	if err := env.Client.Patch(context.Background(), ngNow, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	forced := waitVersionUpdate(t, ng.Name, eksv1.UpdateSuccessful, 2*time.Minute, failed)
	if !forced.Spec.Force || forced.Name == failed.Name {
		t.Errorf("retry %s (force %v): want a new, forced update", forced.Name, forced.Spec.Force)
	}
	checkUpgraded(t, k.provider, ng.Name, forced, "v1.37.2")
	if len(events(t, ng.Name, "ForcedDrain")) == 0 {
		t.Error("no ForcedDrain event")
	}
	if n := len(versionUpdates(t, ng.Name)); n != 2 {
		t.Errorf("%d version updates, want 2", n)
	}
}

// TestIntegration_VersionUpdateWaitsForEveryZone: the scale-up phase
// passes only when a new node is in every zone that has old nodes: with no
// capacity left in one of them, no old node is drained, and the update
// fails with NodeCreationFailure once the join timeout has passed, naming
// the zone; the group goes back to how it was.
func TestIntegration_VersionUpdateWaitsForEveryZone(t *testing.T) {
	const scaleBy = 100
	k := start(t, options{scale: scaleBy})
	ng := group(t, "zones", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 3, MaxSize: 3, DesiredSize: 3}
		s.ReleaseVersion = "1.37.2-20261015"
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	zones := nodesPerZone(t, ng.Name)
	if len(zones) != 3 {
		t.Fatalf("nodes in zones %v, want one in each of 3", zones)
	}
	full := slices.Sorted(maps.Keys(zones))[0]
	if err := k.provider.SetCapacity(context.Background(), created.Spec.InstanceTypes[0], full, zones[full]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.provider.SetCapacity(context.Background(), created.Spec.InstanceTypes[0], full, -1) })

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
	failed := waitVersionUpdate(t, ng.Name, eksv1.UpdateFailed, 2*time.Minute)
	e := failed.Status.Errors[0]
	if e.ErrorCode != "NodeCreationFailure" || !strings.Contains(e.ErrorMessage, full) {
		t.Errorf("error %+v: want NodeCreationFailure naming zone %s", e, full)
	}
	if took := eventTime(t, ng.Name, "UpdateFailed").Sub(eventTime(t, ng.Name, "UpdateScaleUp")); took < 15*time.Minute/scaleBy {
		t.Errorf("failed %v into the scale-up phase, before the join timeout", took)
	}
	if n := len(events(t, ng.Name, "ReplacingNode")); n != 0 {
		t.Errorf("%d old nodes drained although zone %s had no new node", n, full)
	}
	testenv.Eventually(t, time.Minute, func() error {
		g, err := k.provider.GetGroup(context.Background(), resources.ASGName(created))
		if err != nil {
			return err
		}
		if g.DesiredCapacity != 3 || g.MaxSize != 3 || len(g.SuspendedProcesses) > 0 {
			return errorf("Auto Scaling group %d/%d, suspended %v", g.DesiredCapacity, g.MaxSize, g.SuspendedProcesses)
		}
		for _, n := range nodesOf(t, ng.Name) {
			if n.Spec.Unschedulable {
				return errorf("node %s is still cordoned", n.Name)
			}
		}
		return nil
	})
	waitReady(t, ng.Name, 3, time.Minute)
}

// TestIntegration_VersionUpdateSurvivesRestarts: kdp stopped and started
// again three times during one rolling update resumes it at its phase:
// one record, no instance launched beyond the plan, the budget kept, and
// the update finishes.
func TestIntegration_VersionUpdateSurvivesRestarts(t *testing.T) {
	// EKS's waits 10 times faster, not 100: a drain's 15-minute eviction
	// timeout runs on while kdp is down (as it would on EKS), and three
	// restarts on a busy machine, each followed by pods that must become
	// Ready again before the budget allows the next eviction, must not eat
	// a compressed 9 s of it (36 s at 25× still failed once in 8 runs).
	const scaleBy = 10
	k := start(t, options{scale: scaleBy})
	ns := env.Namespace(t)
	ng := group(t, "restart", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 4}
		s.ReleaseVersion = "1.37.2-20261015"
		s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](2)}
	})
	defer deleteGroup(t, ng.Name, 5*time.Minute) // its drains wait up to the hook's 30 minutes, compressed
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	deployment(t, ns, "web", ng.Name, 4, false)
	budget(t, ns, "web", nil, ptr.To(intstr.FromInt32(1)))
	waitAvailable(t, ns, "web", 4, time.Minute)
	testenv.Eventually(t, 30*time.Second, func() error { return budgetAllows(ns, "web", 1) })
	watcher := watchBudget(t, ns, "web", 4)
	old := launches(t, k.provider, created)

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
	for _, phase := range []eksv1.UpdatePhase{eksv1.PhaseScaleUp, eksv1.PhaseUpgrade, eksv1.PhaseScaleDown} {
		testenv.EventuallyEvery(t, 2*time.Minute, 20*time.Millisecond, func() error {
			records := versionUpdates(t, ng.Name)
			if len(records) == 1 && records[0].Status.Status != "" && records[0].Status.Status != eksv1.UpdateInProgress {
				t.Fatalf("update %s ended %s in phase %s before reaching %s: %+v", records[0].Name, records[0].Status.Status, records[0].Status.Phase, phase, records[0].Status.Errors)
			}
			if len(records) != 1 || records[0].Status.Phase != phase {
				var at []string
				for _, r := range records {
					at = append(at, fmt.Sprintf("%s %s/%s", r.Name, r.Status.Status, r.Status.Phase))
				}
				return errorf("waiting for phase %s; version updates: %v", phase, at)
			}
			return nil
		})
		k.stop()
		k = start(t, options{dir: k.dir, scale: scaleBy})
	}
	r := waitVersionUpdate(t, ng.Name, eksv1.UpdateSuccessful, 3*time.Minute)
	checkUpgraded(t, k.provider, ng.Name, r, "v1.37.2")
	if n := len(versionUpdates(t, ng.Name)); n != 1 {
		t.Errorf("%d version updates, want 1", n)
	}
	if all := launches(t, k.provider, created); len(all)-len(old) != 6+4 {
		t.Errorf("%d instances launched by the update, want 10 (a surge of 6, 4 replacements)", len(all)-len(old))
	}
	if fewest := watcher.Fewest(); fewest < 3 {
		t.Errorf("only %d of web's 4 pods were Ready at one moment", fewest)
	}
}

// TestIntegration_LaunchTemplateVersionUpdate: a group on a launch
// template of the user's, with its own image, moves to a new version of
// that template: one VersionUpdate with EKS's LaunchTemplateName and
// LaunchTemplateVersion params, and every node runs the new version's
// image, labelled with the template version it came from.
func TestIntegration_LaunchTemplateVersionUpdate(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	image := map[string]string{}
	for _, img := range k.cloud.Catalog().Images() {
		if img.Type == string(eksv1.AL2023x86Standard) && strings.HasPrefix(img.ReleaseVersion, "1.37.2-") {
			image[img.ReleaseVersion] = img.ID
		}
	}
	oldImage, newImage := image["1.37.2-20261015"], image["1.37.2-20261101"]
	lt, err := k.provider.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "own", LaunchTemplateData: cloud.LaunchTemplateData{ImageID: oldImage, InstanceType: "t3.medium"}})
	if err != nil {
		t.Fatal(err)
	}
	ng := group(t, "own-lt", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 2, DesiredSize: 2}
		s.LaunchTemplate = &eksv1.LaunchTemplateSpecification{Name: lt.Name}
		s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](2)}
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	if created.Spec.LaunchTemplate.Version != "1" || created.Status.ReleaseVersion != oldImage {
		t.Fatalf("created on launch template version %s, release %s; want 1, %s", created.Spec.LaunchTemplate.Version, created.Status.ReleaseVersion, oldImage)
	}
	if _, err := k.provider.CreateLaunchTemplateVersion(ctx, cloud.TemplateRef{ID: lt.ID}, cloud.LaunchTemplateVersionInput{LaunchTemplateData: cloud.LaunchTemplateData{ImageID: newImage}}); err != nil {
		t.Fatal(err)
	}

	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.LaunchTemplate.Version = "2" })
	r := waitVersionUpdate(t, ng.Name, eksv1.UpdateSuccessful, 3*time.Minute)
	if p := params(r); p[eksv1.ParamLaunchTemplateName] != "own" || p[eksv1.ParamLaunchTemplateVersion] != "2" {
		t.Errorf("params %v: want LaunchTemplateName own, LaunchTemplateVersion 2", p)
	}
	if r.Status.Rollout.ImageID != newImage {
		t.Errorf("the update's image is %s, want the template version's %s", r.Status.Rollout.ImageID, newImage)
	}
	checkUpgraded(t, k.provider, ng.Name, r, "v1.37.2")
	for _, n := range nodesOf(t, ng.Name) {
		if n.Labels[eksv1.LabelSourceLaunchTemplateVersion] != "2" || n.Labels[eksv1.LabelSourceLaunchTemplateID] != lt.ID {
			t.Errorf("node %s: source launch template %s version %s, want %s version 2", n.Name, n.Labels[eksv1.LabelSourceLaunchTemplateID], n.Labels[eksv1.LabelSourceLaunchTemplateVersion], lt.ID)
		}
	}
	if got := get(t, ng.Name); got.Status.ReleaseVersion != newImage || got.Status.Applied.LaunchTemplateVersion != "2" {
		t.Errorf("after the update: release %s, launch template version %s", got.Status.ReleaseVersion, got.Status.Applied.LaunchTemplateVersion)
	}
}

// TestIntegration_FailedScaleUpGivesBackItsSize: with no capacity left in
// any zone, none of the surge launches; the update fails with
// NodeCreationFailure and the Auto Scaling group goes back to its size
// before (the raise had no instances to take away).
func TestIntegration_FailedScaleUpGivesBackItsSize(t *testing.T) {
	ctx := testenv.Context(t)
	k := start(t, options{})
	ng := group(t, "nocapacity", func(s *eksv1.NodeGroupSpec) {
		s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 1, MaxSize: 4, DesiredSize: 3}
		s.ReleaseVersion = "1.37.2-20261015"
	})
	defer deleteGroup(t, ng.Name, 2*time.Minute)
	created := waitStatus(t, ng.Name, eksv1.StatusActive, time.Minute)
	zones := nodesPerZone(t, ng.Name)
	for z, n := range zones {
		if err := k.provider.SetCapacity(ctx, created.Spec.InstanceTypes[0], z, n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k.provider.SetCapacity(context.Background(), created.Spec.InstanceTypes[0], z, -1) })
	}
	edit(t, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
	failed := waitVersionUpdate(t, ng.Name, eksv1.UpdateFailed, 2*time.Minute)
	if e := failed.Status.Errors[0]; e.ErrorCode != "NodeCreationFailure" {
		t.Errorf("error %+v: want NodeCreationFailure", e)
	}
	testenv.Eventually(t, time.Minute, func() error {
		g, err := k.provider.GetGroup(ctx, resources.ASGName(created))
		if err != nil {
			return err
		}
		if g.MinSize != 1 || g.DesiredCapacity != 3 || g.MaxSize != 4 || len(g.SuspendedProcesses) > 0 {
			return errorf("Auto Scaling group %d/%d/%d, suspended %v; want 1/3/4 as before", g.MinSize, g.DesiredCapacity, g.MaxSize, g.SuspendedProcesses)
		}
		return nil
	})
	waitReady(t, ng.Name, 3, time.Minute)
}
