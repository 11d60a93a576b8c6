package nodegroup_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/timescale"
)

// BenchmarkRollingUpdate30Nodes: a version update of a DEFAULT group of 30
// nodes across 3 zones, maxUnavailable 3, running 300 pods in 30
// Deployments each behind a PodDisruptionBudget of maxUnavailable 1, on a
// cloud without delays, EKS's waits compressed 10 times. It reports the
// wall time of each phase; for the upgrade phase, what EKS prescribes (60
// seconds after each drain, maxUnavailable nodes at a time) plus the
// drains as measured, and the ratio of the two; and the budget violations
// an independent process counted. See docs/benchmarks.md.
func BenchmarkRollingUpdate30Nodes(b *testing.B) { benchRollingUpdate(b, "DEFAULT") }

// BenchmarkRollingUpdate30NodesMinimal: the same with MINIMAL: it reports
// the most instances the group ever had at once (30: no surge).
func BenchmarkRollingUpdate30NodesMinimal(b *testing.B) { benchRollingUpdate(b, "MINIMAL") }

func benchRollingUpdate(b *testing.B, strategy string) {
	const scaleBy timescale.Scale = 10
	k := start(b, options{scale: scaleBy, profile: "instant"})
	run := 0
	ns := env.Namespace(b)
	var sums struct{ total, upgrade, expected, violations, peak float64 }
	for b.Loop() {
		b.StopTimer()
		name := fmt.Sprintf("rolling-%s-%d", strings.ToLower(strategy), run)
		ng := group(b, name, func(s *eksv1.NodeGroupSpec) {
			s.ScalingConfig = &eksv1.ScalingConfig{MinSize: 0, MaxSize: 30, DesiredSize: 30}
			s.ReleaseVersion = "1.37.2-20261015"
			s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](3), UpdateStrategy: strategy}
		})
		created := waitStatusFast(b, ng.Name, eksv1.StatusActive, 2*time.Minute)
		for i := range 30 {
			app := fmt.Sprintf("r%d-app-%02d", run, i)
			deployment(b, ns, app, ng.Name, 10, false)
			budget(b, ns, app, nil, ptr.To(intstr.FromInt32(1)))
		}
		for i := range 30 {
			waitAvailable(b, ns, fmt.Sprintf("r%d-app-%02d", run, i), 10, 2*time.Minute)
		}
		watcher := startBudgetWatcher(b, ns)
		peak := watchPeak(b, k.provider, created)
		b.StartTimer()

		t0 := time.Now()
		edit(b, ng.Name, func(s *eksv1.NodeGroupSpec) { s.ReleaseVersion = "1.37.2-20261101" })
		r := waitVersionUpdateFast(b, ng.Name, 10*time.Minute)
		took := time.Since(t0)

		b.StopTimer()
		peak.stop()
		violations, fewest := watcher.Stop(b)
		plan := r.Status.Rollout
		at := func(reason string) time.Time { return eventTime(b, ng.Name, reason) }
		started, scaleUp, upgrade, scaleDown, done := at("UpdateStarted"), at("UpdateScaleUp"), at("UpdateUpgrade"), at("UpdateScaleDown"), at("UpdateSuccessful")
		if strategy == "MINIMAL" {
			scaleUp = upgrade
		}
		var drains time.Duration
		for _, e := range events(b, ng.Name, "Drained") {
			if d, ok := drainTook(e.Message); ok && strings.Contains(e.Message, "Update "+r.Name) {
				drains += d
			}
		}
		after := scaleBy.Of(60 * time.Second)
		batches := (plan.NodesToReplace + plan.MaxUnavailable - 1) / plan.MaxUnavailable
		expected := time.Duration(batches)*after + drains/time.Duration(plan.MaxUnavailable)
		upgradeTook := scaleDown.Sub(upgrade)
		fmt.Fprintf(os.Stderr, "run %d (%s): %d nodes replaced in %.1f s: setup %.2f s, scale-up %.2f s, upgrade %.2f s (EKS's waits %d × %.0f s + drains %.2f s / %d = %.2f s: ×%.3f), scale-down %.2f s; %d budget violations (fewest Ready %d of 10), peak %d instances\n",
			run, strategy, plan.NodesReplaced, took.Seconds(), scaleUp.Sub(started).Seconds(), upgrade.Sub(scaleUp).Seconds(), upgradeTook.Seconds(),
			batches, after.Seconds(), drains.Seconds(), plan.MaxUnavailable, expected.Seconds(), upgradeTook.Seconds()/expected.Seconds(),
			done.Sub(scaleDown).Seconds(), violations, fewest, peak.Peak())
		sums.total += took.Seconds()
		sums.upgrade += upgradeTook.Seconds()
		sums.expected += expected.Seconds()
		sums.violations += float64(violations)
		sums.peak += float64(peak.Peak())
		deleteGroup(b, ng.Name, 5*time.Minute)
		run++
		b.StartTimer()
	}
	n := float64(run)
	b.ReportMetric(sums.total/n, "s-update")
	b.ReportMetric(sums.upgrade/n, "s-upgrade-phase")
	b.ReportMetric(sums.upgrade/sums.expected, "upgrade/prescribed")
	b.ReportMetric(sums.violations/n, "violations")
	b.ReportMetric(sums.peak/n, "peak-instances")
}

// drainTook reads the duration out of an update's Drained event ("...
// drained node N in 1.234s; ...").
func drainTook(note string) (time.Duration, bool) {
	_, rest, ok := strings.Cut(note, " in ")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSuffix(strings.Fields(rest)[0], ";"))
	return d, err == nil
}

// waitVersionUpdateFast waits, polling often, for the group's version
// update to succeed.
func waitVersionUpdateFast(b testing.TB, name string, timeout time.Duration) eksv1.NodeGroupUpdate {
	b.Helper()
	var r eksv1.NodeGroupUpdate
	testenv.EventuallyEvery(b, timeout, 20*time.Millisecond, func() error {
		records := versionUpdates(b, name)
		if len(records) == 0 {
			return errorf("no version update yet")
		}
		r = records[len(records)-1]
		switch r.Status.Status {
		case eksv1.UpdateSuccessful:
			return nil
		case eksv1.UpdateFailed:
			b.Fatalf("update %s failed: %+v", r.Name, r.Status.Errors)
		}
		return errorf("update %s: %s", r.Name, r.Status.Phase)
	})
	return r
}
