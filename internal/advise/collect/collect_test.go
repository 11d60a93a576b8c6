package collect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/advise/manifest"
)

// collect reads docs as one file, m.yaml, and collects its workloads.
func collect(t *testing.T, opts Options, docs ...string) Result {
	t.Helper()
	file := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, problems := manifest.Read([]string{file}, nil)
	if len(problems) > 0 {
		t.Fatalf("reading: %v", problems)
	}
	return Workloads(objs, opts)
}

const podSpec = `
      containers: [{name: app, image: nginx}]`

func deployment(name string, extra string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
` + extra + `  template:
    metadata: {labels: {app: ` + name + `}}
    spec:` + podSpec + "\n"
}

func TestWorkloadKindsAndDefaults(t *testing.T) {
	for _, c := range []struct {
		name         string
		doc          string
		kind         advise.Kind
		namespace    string
		replicas     int32
		retries      bool
		claimTmpls   int
		wantTemplate bool
	}{
		{"a Deployment without replicas has 1, in default", deployment("web", ""), advise.Deployment, "default", 1, false, 0, true},
		{"a Deployment's replicas", deployment("web", "  replicas: 3\n"), advise.Deployment, "default", 3, false, 0, true},
		{"a Deployment scaled to 0", deployment("web", "  replicas: 0\n"), advise.Deployment, "default", 0, false, 0, true},
		{"a StatefulSet with claim templates", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  volumeClaimTemplates:
  - metadata: {name: pgdata}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
  template:
    metadata: {labels: {app: db}}
    spec:` + podSpec + "\n", advise.StatefulSet, "data", 2, false, 1, true},
		{"a DaemonSet", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:` + podSpec + "\n", advise.DaemonSet, "kube-system", 0, false, 0, true},
		{"a ReplicaSet no one owns", `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec:` + podSpec + "\n", advise.ReplicaSet, "default", 1, false, 0, true},
		{"a Job retries by default (backoffLimit 6)", `apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  template:
    spec:
      restartPolicy: Never` + podSpec + "\n", advise.Job, "default", 1, true, 0, true},
		{"a Job with backoffLimit 0 does not retry; parallelism is its replicas", `apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  backoffLimit: 0
  parallelism: 4
  template:
    spec:
      restartPolicy: Never` + podSpec + "\n", advise.Job, "default", 4, false, 0, true},
		{"a CronJob is its job template", `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      backoffLimit: 2
      parallelism: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: app, image: nginx}]
`, advise.CronJob, "default", 2, true, 0, true},
		{"a bare Pod", `apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: ops, labels: {app: debug}}
spec:
  containers: [{name: app, image: busybox}]
`, advise.Pod, "ops", 1, false, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := collect(t, Options{}, c.doc)
			if len(r.Problems) > 0 || len(r.Workloads) != 1 {
				t.Fatalf("got %d workloads, problems %v; want 1 and none", len(r.Workloads), r.Problems)
			}
			w := r.Workloads[0]
			if w.Kind != c.kind || w.Namespace != c.namespace || w.Replicas != c.replicas || w.Retries != c.retries || len(w.VolumeClaimTemplates) != c.claimTmpls {
				t.Errorf("got %s %s/%s replicas %d retries %v claim templates %d; want %s %s replicas %d retries %v claim templates %d",
					w.Kind, w.Namespace, w.Name, w.Replicas, w.Retries, len(w.VolumeClaimTemplates), c.kind, c.namespace, c.replicas, c.retries, c.claimTmpls)
			}
			if len(w.Template.Spec.Containers) != 1 || w.Template.Spec.Containers[0].Name != "app" {
				t.Errorf("template's containers: %+v", w.Template.Spec.Containers)
			}
			if w.Source.File == "" || w.Source.Line != 1 {
				t.Errorf("source %+v, want m.yaml:1", w.Source)
			}
		})
	}
}

func TestWorkloadPDB(t *testing.T) {
	pdb := func(ns, selector string) string {
		return "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, namespace: " + ns + "}\nspec:\n  minAvailable: 1\n" + selector
	}
	for _, c := range []struct {
		name string
		pdb  string
		want bool
	}{
		{"selects the template's labels", pdb("default", "  selector: {matchLabels: {app: web}}\n"), true},
		{"by expression", pdb("default", "  selector: {matchExpressions: [{key: app, operator: In, values: [web, api]}]}\n"), true},
		{"an empty selector selects every pod of its namespace", pdb("default", "  selector: {}\n"), true},
		{"no selector selects none", pdb("default", ""), false},
		{"other labels", pdb("default", "  selector: {matchLabels: {app: api}}\n"), false},
		{"another namespace", pdb("prod", "  selector: {matchLabels: {app: web}}\n"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := collect(t, Options{}, deployment("web", "  replicas: 3\n"), c.pdb)
			if len(r.Workloads) != 1 || r.Workloads[0].HasPDB != c.want {
				t.Errorf("HasPDB = %v, want %v (%d workloads, problems %v)", r.Workloads[0].HasPDB, c.want, len(r.Workloads), r.Problems)
			}
		})
	}
}

func TestWorkloadClaimsAndStorageClasses(t *testing.T) {
	pod := `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers: [{name: app, image: nginx}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: other, persistentVolumeClaim: {claimName: elsewhere}}
`
	claim := `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`
	otherNS := `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: elsewhere, namespace: prod}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`
	fast := `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: ebs.csi.aws.com
`
	efs := `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: efs, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: efs.csi.aws.com
`
	r := collect(t, Options{}, pod, claim, otherNS, fast, efs)
	if len(r.Workloads) != 1 {
		t.Fatalf("%d workloads, want 1", len(r.Workloads))
	}
	claims := r.Workloads[0].Claims
	if len(claims) != 1 || *claims["data"].StorageClassName != "fast" {
		t.Errorf("claims %v, want data of class fast only (elsewhere is another namespace's)", claims)
	}
	want := advise.StorageClasses{Provisioners: map[string]string{"fast": "ebs.csi.aws.com", "efs": "efs.csi.aws.com"}, Default: "efs"}
	if r.StorageClasses.Default != want.Default || len(r.StorageClasses.Provisioners) != 2 ||
		r.StorageClasses.Provisioners["fast"] != "ebs.csi.aws.com" || r.StorageClasses.Provisioners["efs"] != "efs.csi.aws.com" {
		t.Errorf("storage classes %+v, want %+v", r.StorageClasses, want)
	}
}

func TestWorkloadSkipped(t *testing.T) {
	ownedPod := `apiVersion: v1
kind: Pod
metadata:
  name: web-abc
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4, uid: "1", controller: true}]
spec:
  containers: [{name: app, image: nginx}]
`
	ownedRS := `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-6d4
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: "2", controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:` + podSpec + "\n"
	service := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"
	cr := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
	old := "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\nspec: {}\n"
	r := collect(t, Options{}, deployment("web", ""), ownedPod, ownedRS, service, cr, deployment("web", "  replicas: 2\n"), old)
	if len(r.Workloads) != 1 || r.Workloads[0].Replicas != 1 {
		t.Fatalf("workloads %d (want 1: the first Deployment web only)", len(r.Workloads))
	}
	if len(r.Problems) != 2 {
		t.Fatalf("problems %v, want the duplicate and the old version", r.Problems)
	}
	dup, ver := r.Problems[0], r.Problems[1]
	if dup.Source.Line != 39 || !strings.Contains(dup.Error(), "Deployment default/web is defined twice (first at ") || !strings.Contains(dup.Error(), "m.yaml:1)") {
		t.Errorf("duplicate: %v, want at line 39, naming the first at m.yaml:1", dup)
	}
	if ver.Source.Line != 49 || !strings.Contains(ver.Error(), "extensions/v1beta1 Deployment is not a version kdp advise reads") {
		t.Errorf("old version: %v", ver)
	}
}

func TestWorkloadMultiArchAndOrder(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{"b.yaml": deployment("b", ""), "a.yaml": deployment("a", "") + "---\n" + deployment("a2", "")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs, problems := manifest.Read([]string{filepath.Join(dir, "b.yaml"), dir}, nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	r := Workloads(objs, Options{MultiArch: true})
	var got []string
	for _, w := range r.Workloads {
		got = append(got, w.Name)
		if !w.MultiArch {
			t.Errorf("%s: MultiArch false with --graviton-ok", w.ID())
		}
	}
	// b.yaml is named twice (itself, and in the directory): the second is a duplicate.
	if strings.Join(got, ",") != "a,a2,b" || len(r.Problems) != 1 {
		t.Errorf("workloads %v problems %v; want a,a2,b in file order and b's duplicate", got, r.Problems)
	}
}
