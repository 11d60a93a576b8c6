package cli

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
)

// TestAdviseHTMLIsSelfContained: no script and nothing to fetch (the
// price sources' URLs are text, not references).
func TestAdviseHTMLIsSelfContained(t *testing.T) {
	_, html, _ := runKdp(t, "advise", "-f", "testdata/advise/", "-o", "html")
	for _, bad := range []string{"<script", "src=", `href="http`, "<link", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("the report has %q: it must need no network", bad)
		}
	}
	abs, _ := filepath.Abs("testdata/advise/daemonset.yaml")
	if !strings.Contains(html, `href="file://`+abs+`#L1"`) || !strings.Contains(html, "spec.template.spec.volumes[0] (fargate/volume)") {
		t.Errorf("the DaemonSet's line lacks its manifest's link or its reason:\n%s", html)
	}
}

// TestAdviseHTMLInChromium opens the report of testdata/advise in
// headless Chromium (Debian's chromium package; make test-deps installs
// it) and reads back the DOM it rendered: the chart with a bar per plan,
// the table with a row per workload. The screenshot is kept in
// bin/artifacts/advise-report.png.
func TestAdviseHTMLInChromium(t *testing.T) {
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
	_, html, _ := runKdp(t, "advise", "-f", "testdata/advise/", "-o", "html")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
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
	if n := bytes.Count(dom, []byte(`<tr class="workload"`)); n != 7 {
		t.Errorf("the rendered table has %d workload rows, want the 7 of testdata/advise", n)
	}
	artifacts := filepath.Join("..", "..", "bin", "artifacts")
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
