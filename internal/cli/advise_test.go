package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the golden files: go test ./internal/cli/ -run TestAdvise -update
var update = flag.Bool("update", false, "rewrite testdata's golden files with what the tests print")

// golden compares got with testdata/advise/golden/name byte for byte, or
// writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, "advise", name, got, "TestAdvise")
}

// goldenFile compares got with testdata/dir/golden/name, or writes it
// there with -update; test names the test that rewrites it.
func goldenFile(t *testing.T, dir, name, got, test string) {
	t.Helper()
	path := filepath.Join("testdata", dir, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli/ -run %s -update to write it)", err, test)
	}
	if got != string(want) {
		t.Errorf("%s differs from what kdp prints (go test ./internal/cli/ -run %s -update rewrites it):\n--- got\n%s", path, test, got)
	}
}

func TestAdviseGolden(t *testing.T) {
	for _, c := range []struct{ output, golden string }{
		{"table", "table.golden"},
		{"markdown", "markdown.golden"},
		{"json", "json.golden"},
	} {
		t.Run(c.output, func(t *testing.T) {
			code, stdout, stderr := runKdp(t, "advise", "-f", "testdata/advise", "-o", c.output)
			// bad.yaml's Deployment cannot be read: skipped, the rest analysed.
			if code != 2 {
				t.Errorf("exit status %d, want 2 (a document skipped); stderr:\n%s", code, stderr)
			}
			wantErr := "kdp advise: testdata/advise/bad.yaml:6: Deployment \"broken\": "
			if !strings.HasPrefix(stderr, wantErr) || !strings.HasSuffix(stderr, "kdp: advise: 1 skipped (see above); the rest was analysed\n") {
				t.Errorf("stderr:\n%s\nwant it to start with %q and say 1 skipped", stderr, wantErr)
			}
			if c.output == "json" && !json.Valid([]byte(stdout)) {
				t.Errorf("-o json is not JSON:\n%s", stdout)
			}
			golden(t, c.golden, stdout)
		})
	}
}

func TestAdviseExitStatus(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\nkind: [oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nosuch.yaml")
	for _, c := range []struct {
		name       string
		args       []string
		code       int
		stderr     string // a part of it
		wantReport bool
	}{
		{"every document read", []string{"-f", good}, 0, "", true},
		{"a bad document: skipped, the rest analysed", []string{"-f", bad}, 2, "kdp advise: " + bad + ":5: ", true},
		{"a missing file: no report", []string{"-f", good, "-f", missing}, 1, "kdp: advise: cannot read " + missing + ": stat " + missing + ": no such file or directory\n", false},
		{"no -f", nil, 1, "kdp: advise: no manifests: name them with -f FILE|DIR|- (repeatable), or judge the cluster's workloads with --live\n", false},
		{"a bad output", []string{"-f", good, "-o", "yaml"}, 1, "kdp: advise: -o yaml: must be table, json, markdown or html\n", false},
		{"a bad region", []string{"-f", good, "--region", "us-eats-1"}, 1, `kdp: advise: --region "us-eats-1": not an AWS region name`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runKdp(t, append([]string{"advise"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			if c.stderr == "" && stderr != "" || !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr:\n%s\nwant %q", stderr, c.stderr)
			}
			if got := strings.Contains(stdout, "Pod default/p"); got != c.wantReport {
				t.Errorf("report printed: %v, want %v:\n%s", got, c.wantReport, stdout)
			}
		})
	}
}

// TestAdviseHTML: -o html writes the one-file report (its rendering in a
// browser is TestAdviseHTMLInChromium): the chart, the table, a
// workload's link to its manifest line.
func TestAdviseHTML(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runKdp(t, "advise", "-f", good, "-o", "html")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"<!DOCTYPE html>", `<svg id="cost-chart"`, `<table id="workloads"`, `href="file://` + good + `#L1"`, "Fargate: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
}

func TestAdviseStdinAndRegion(t *testing.T) {
	var out, errOut strings.Builder
	cmd := NewRootCommand(Deps{})
	cmd.SetIn(strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n"))
	code := Execute(t.Context(), cmd, []string{"advise", "-f", "-", "--region", "eu-west-1", "--graviton-ok", "-o", "json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut.String())
	}
	var r adviseReport
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Workloads) != 1 || r.Workloads[0].Source.File != "-" || r.Workloads[0].Source.Line != 1 || r.Region != "eu-west-1" {
		t.Errorf("workloads %+v region %s; want Pod default/p from -:1, eu-west-1", r.Workloads, r.Region)
	}
	if !strings.Contains(r.Prices.Note, "us-east-1's, for every region: eu-west-1 is priced at it") {
		t.Errorf("price note %q does not say eu-west-1 is priced at us-east-1's prices", r.Prices.Note)
	}
}
