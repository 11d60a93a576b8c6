package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const helmOutput = `# Source: web/templates/deployment.yaml
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: web:1}]
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
--- # a comment after the separator
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: m:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: broken
spec: {}
---
kind: ConfigMap
metadata: {name: no-version}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---

`

func TestReadKeepsFileAndLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(file, []byte(helmOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	objects, problems := Read([]string{file}, nil)
	type seen struct {
		kind string
		line int
	}
	var got []seen
	for _, o := range objects {
		if o.Source.File != file {
			t.Errorf("%s from %s, want %s", o.Kind(), o.Source.File, file)
		}
		got = append(got, seen{o.Kind(), o.Source.Line})
	}
	want := []seen{{"Deployment", 3}, {"Service", 16}, {"Job", 21}, {"Widget", 38}}
	if len(got) != len(want) {
		t.Fatalf("objects %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d: %v, want %v", i, got[i], want[i])
		}
	}
	if d, ok := objects[0].Object.(*appsv1.Deployment); !ok || *d.Spec.Replicas != 3 || d.Spec.Template.Spec.Containers[0].Image != "web:1" {
		t.Errorf("the Deployment decoded as %T %+v", objects[0].Object, objects[0].Object)
	}
	if _, ok := objects[2].Object.(*batchv1.Job); !ok {
		t.Errorf("the Job decoded as %T", objects[2].Object)
	}
	if _, ok := objects[3].Object.(*unstructured.Unstructured); !ok {
		t.Errorf("a custom resource decoded as %T, want unstructured", objects[3].Object)
	}
	if len(problems) != 2 {
		t.Fatalf("problems %v, want the broken Pod and the ConfigMap without apiVersion", problems)
	}
	if p := problems[0]; p.Source.Line != 32 || !strings.HasPrefix(p.Error(), file+":") {
		t.Errorf("the broken Pod: %v, want line 32, where its unclosed mapping is", p)
	}
	if p := problems[1]; p.Source.Line != 35 || !strings.Contains(p.Err.Error(), "no apiVersion and kind") {
		t.Errorf("the ConfigMap without apiVersion: %v", p)
	}
}

func TestReadDirsListsJSONAndStdin(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"b.yml":        "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: i}]}\n",
		"sub/a.json":   `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a1"}}, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a2"}}]}`,
		"notes.txt":    "not a manifest",
		"sub/bad.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: many}\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdin := strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: from-stdin}\n")
	objects, problems := Read([]string{dir, "-", filepath.Join(dir, "missing.yaml")}, stdin)
	var names []string
	for _, o := range objects {
		names = append(names, o.Source.String()+" "+o.Kind())
	}
	want := []string{dir + "/b.yml:1 Pod", dir + "/sub/a.json:1 Pod", dir + "/sub/a.json:1 DaemonSet", "-:1 Pod"}
	if strings.Join(names, ", ") != strings.Join(want, ", ") {
		t.Errorf("objects %v, want %v", names, want)
	}
	if p, ok := objects[0].Object.(*corev1.Pod); !ok || p.Name != "b" {
		t.Errorf("b.yml decoded as %T", objects[0].Object)
	}
	if len(problems) != 2 || !strings.Contains(problems[0].Error(), "sub/bad.yaml:1: Deployment \"d\"") || !strings.Contains(problems[1].Error(), "missing.yaml") {
		t.Errorf("problems %v: want the Deployment whose replicas is no number, and the missing file", problems)
	}
}

// BenchmarkRead10000: 10,000 Deployments in one multi-document stream
// (kdp advise's target for the whole command: 10,000 workloads in ≤ 3 s).
func BenchmarkRead10000(b *testing.B) {
	var sb strings.Builder
	for i := range 10000 {
		sb.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString("}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: app\n        image: web:1\n        resources: {requests: {cpu: 250m, memory: 512Mi}}\n")
	}
	data := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		objects, problems := Read([]string{"-"}, strings.NewReader(data))
		if len(objects) != 10000 || len(problems) != 0 {
			b.Fatalf("%d objects, %v", len(objects), problems)
		}
	}
}
