package cli_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
