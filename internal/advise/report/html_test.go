package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// workloads: a small web Deployment (Fargate), a privileged DaemonSet
// (nodes only), a GPU Job (managed nodes).
func workloads() []advise.Workload {
	pod := func(cpu, mem string, mutate ...func(*corev1.PodSpec)) corev1.PodTemplateSpec {
		spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}}
		for _, m := range mutate {
			m(&spec)
		}
		return corev1.PodTemplateSpec{Spec: spec}
	}
	return []advise.Workload{
		{Kind: advise.Deployment, Namespace: "default", Name: "web", Replicas: 3, HasPDB: true, Source: advise.Source{File: "manifests/web.yaml", Line: 1},
			Template: pod("500m", "1Gi")},
		{Kind: advise.DaemonSet, Namespace: "kube-system", Name: "agent", Source: advise.Source{File: "manifests/agent.yaml", Line: 12},
			Template: pod("100m", "128Mi", func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			})},
		{Kind: advise.Job, Namespace: "ml", Name: "train", Replicas: 1, Retries: true, Source: advise.Source{File: "manifests/train.yaml", Line: 3},
			Template: pod("4", "16Gi", func(s *corev1.PodSpec) {
				s.Containers[0].Resources.Requests["nvidia.com/gpu"] = resource.MustParse("1")
			})},
	}
}

func render(t *testing.T) string {
	t.Helper()
	cat, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	r := advise.Advise(advise.Input{Workloads: workloads(), Prices: advise.PricesFrom(cat)})
	var buf bytes.Buffer
	if err := HTML(&buf, r, Meta{Title: "kdp advise", Generated: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC), PriceNote: "Prices: test."}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestHTMLIsSelfContained: no script, no external reference; every
// workload's line links to its manifest.
func TestHTMLIsSelfContained(t *testing.T) {
	html := render(t)
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report has %q: it must need no network", bad)
		}
	}
	abs, _ := filepath.Abs("manifests/agent.yaml")
	if !strings.Contains(html, `href="file://`+abs+`#L12"`) {
		t.Errorf("no link to the DaemonSet's manifest line:\n%s", html)
	}
	if !strings.Contains(html, "securityContext.privileged") {
		t.Error("the DaemonSet's reasons do not name the privileged field")
	}
}

// TestHTMLInChromium opens the report in headless Chromium (Debian's
// chromium package; make test-deps installs it) and reads back the DOM it
// rendered: the chart with a bar per plan, the table with a row per
// workload. The screenshot is kept in bin/artifacts/advise-report.png.
func TestHTMLInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Fatal("no Chromium on this machine: run make test-deps (it installs Debian's chromium package)")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(render(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.CommandContext(ctx, browser, append(flags, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if n := len(regexp.MustCompile(`<rect class="bar`).FindAll(dom, -1)); n != 4 {
		t.Errorf("the rendered chart has %d bars, want 4 (the mix and each of the 3 options)", n)
	}
	if !bytes.Contains(dom, []byte(`<svg id="cost-chart"`)) || !bytes.Contains(dom, []byte(`<table id="workloads"`)) {
		t.Error("the rendered page lacks the chart or the table")
	}
	if n := bytes.Count(dom, []byte(`<tr class="workload"`)); n != 3 {
		t.Errorf("the rendered table has %d workload rows, want 3", n)
	}
	artifacts := filepath.Join("..", "..", "..", "bin", "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, _ := filepath.Abs(filepath.Join(artifacts, "advise-report.png"))
	os.Remove(shot)
	out, err := exec.CommandContext(ctx, browser, append(flags, "--screenshot="+shot, "--window-size=1280,900", "file://"+page)...).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium --screenshot: %v: %s", err, out)
	}
	if info, err := os.Stat(shot); err != nil || info.Size() < 1000 {
		t.Errorf("no screenshot at %s (%v)", shot, err)
	}
}
