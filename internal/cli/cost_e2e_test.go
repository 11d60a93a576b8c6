package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_Cost: kdp cost prices what runs: a managed node group's
// on-demand nodes at the catalogue's price, with per-line and total
// hourly and monthly figures, as the metric kdp_cost_dollars_per_hour has
// them; bad flags get clear errors.
func TestE2E_Cost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "priced"}, Spec: eksv1.NodeGroupSpec{
		InstanceTypes: []string{"m5.large"}, ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2},
	}}
	if err := e.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	waitNodeGroup(t, e.Client, "priced", 2)

	var bill struct {
		Lines []struct {
			DataPlane, Group, InstanceType, CapacityType string
			Running                                      int
			HourlyUsd, MonthlyUsd, AccruedUsd            float64
		}
		HourlyUsd, MonthlyUsd, AccruedUsd float64
		Since, Currency                   string
	}
	code, out, stderr := kdp(t, "cost", "--data-dir", dir, "--since", "1h", "-o", "json")
	if code != 0 {
		t.Fatalf("kdp cost: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &bill); err != nil {
		t.Fatalf("kdp cost -o json: %v:\n%s", err, out)
	}
	const m5large = 0.096 // the catalogue's on-demand price
	if len(bill.Lines) != 1 {
		t.Fatalf("lines %+v, want the node group's", bill.Lines)
	}
	l := bill.Lines[0]
	if l.DataPlane != "managed" || l.Group != "priced" || l.InstanceType != "m5.large" || l.CapacityType != "ON_DEMAND" || l.Running != 2 ||
		math.Abs(l.HourlyUsd-2*m5large) > 1e-9 || math.Abs(l.MonthlyUsd-2*m5large*730) > 1e-6 {
		t.Errorf("line %+v, want 2 on-demand m5.large at $%v/h", l, m5large)
	}
	// Launched seconds ago: each billed its minute, at least.
	if l.AccruedUsd < 2*m5large/60-1e-9 || l.AccruedUsd > 2*m5large/60*3 || bill.Since != "1h0m0s" || bill.Currency != "USD" {
		t.Errorf("accrued $%v since %q (%s), want about two minutes' worth", l.AccruedUsd, bill.Since, bill.Currency)
	}

	code, out, _ = kdp(t, "cost", "--data-dir", dir)
	if code != 0 || !regexp.MustCompile(`managed\s+priced\s+m5.large\s+ON_DEMAND\s+2\s+0.1920\s+140.1600`).MatchString(out) || !strings.Contains(out, "prices: ") {
		t.Errorf("kdp cost:\n%s", out)
	}

	metrics := metricsURL(t, e.Stdout())
	resp, err := http.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `kdp_cost_dollars_per_hour{data_plane="managed",group="priced"} 0.192`) {
		t.Errorf("metrics lack the node group's cost:\n%s", grepLines(string(body), "kdp_cost"))
	}

	t.Run("kdp advise --live judges the cluster's workloads", func(t *testing.T) { adviseLive(t, e, dir) })

	for _, bad := range [][]string{{"-o", "yaml"}, {"--since", "-1h"}, {"--since", "soon"}} {
		if code, _, stderr := kdp(t, append([]string{"cost", "--data-dir", dir}, bad...)...); code == 0 || stderr == "" {
			t.Errorf("kdp cost %v: exit %d, %q; want an error", bad, code, stderr)
		}
	}
}

// metricsURL is the metrics endpoint kdp up printed.
func metricsURL(t *testing.T, stdout string) string {
	t.Helper()
	m := regexp.MustCompile(`metrics:\s+(http://\S+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("kdp up printed no metrics URL:\n%s", stdout)
	}
	return m[1]
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// adviseLive: a Deployment and a privileged DaemonSet applied to the
// cluster are judged by kdp advise --live as their manifests would be:
// the Deployment fits Fargate, the DaemonSet does not; their ReplicaSet
// and pods are the Deployment's, not workloads of their own.
func adviseLive(t *testing.T, e *testenv.Env, dir string) {
	ctx := testenv.Context(t)
	ns := e.Namespace(t)
	labels := map[string]string{"app": "live"}
	pod := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: pod}}
	agent := pod.DeepCopy()
	agent.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"}, Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: *agent}}
	for _, o := range []client.Object{dep, ds} {
		if err := e.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// The Deployment's ReplicaSet exists once its controller made it.
	testenv.Eventually(t, 30*time.Second, func() error {
		var rs appsv1.ReplicaSetList
		if err := e.Client.List(ctx, &rs, client.InNamespace(ns)); err != nil || len(rs.Items) == 0 {
			return fmt.Errorf("no ReplicaSet yet (%v)", err)
		}
		return nil
	})
	code, out, stderr := kdp(t, "advise", "--live", "--data-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("kdp advise --live: exit %d: %s", code, stderr)
	}
	var report struct {
		Workloads []struct {
			Source struct {
				File string
				Line int
			}
			Kind, Namespace, Name string
			Options               []struct {
				Option   string
				Feasible bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("kdp advise --live -o json: %v", err)
	}
	fargate := map[string]bool{}
	for _, w := range report.Workloads {
		if w.Namespace != ns {
			continue
		}
		if w.Source.File != "(cluster)" || w.Source.Line != 0 {
			t.Errorf("%s %s from %+v, want the cluster", w.Kind, w.Name, w.Source)
		}
		for _, o := range w.Options {
			if o.Option == "fargate" {
				fargate[w.Kind+"/"+w.Name] = o.Feasible
			}
		}
	}
	if len(fargate) != 2 || !fargate["Deployment/web"] || fargate["DaemonSet/agent"] {
		t.Errorf("workloads of %s on Fargate: %v, want the Deployment yes and the DaemonSet no, and nothing else", ns, fargate)
	}
}
