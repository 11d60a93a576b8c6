package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/testenv"
)

// TestE2E_NodegroupCLI drives kdp's node group commands as a user does,
// through the real binary: create --wait (plain lines, one per change,
// when not a terminal), errors naming their flags, the list and describe
// views, -o json equal to the aws CLI's output of the same group; then
// upgrades watched through a terminal (tmux): one that succeeds (exit 0,
// the bar full), one a PodDisruptionBudget blocks (the blocking pod and
// its wait on the screen, exit 1, the pod listed), one Ctrl-C stops
// watching while the update goes on (exit 130).
func TestE2E_NodegroupCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// 60×: EKS's 15-minute eviction timeout is 15 s.
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--time-scale", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	old := oldestRelease(t, dir)

	code, out, stderr := kdp(t, "nodegroup", "create", "web", "--data-dir", dir, "--release-version", old, "--instance-types", "m5.large",
		"--scaling-config", "minSize=1,maxSize=3,desiredSize=2", "--labels", "team=web", "--wait", "--wait-interval", "200ms")
	if code != 0 {
		t.Fatalf("nodegroup create --wait: exit %d\n%s%s", code, out, stderr)
	}
	checkLines(t, out, `node group web creation: (CREATING|ACTIVE); [0-2]/2 nodes Ready`, `node group web is ACTIVE with 2 nodes Ready \([0-9.]+m?s\)`)

	t.Run("errors name the command, the flag and the rule", func(t *testing.T) {
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"nodegroup", "create", "bad", "--scaling-config", "minSize=3,maxSize=1,desiredSize=2"},
				"kdp nodegroup create: --scaling-config: minSize (3) must not be greater than maxSize (1)\n" +
					"kdp nodegroup create: --scaling-config: desiredSize (2) must be between minSize (3) and maxSize (1)\n"},
			{[]string{"nodegroup", "create", "bad", "--scaling-config", "minSize=1,maxsize=3"},
				`kdp nodegroup create: --scaling-config: unknown member "maxsize": the members are desiredSize, maxSize, minSize` + "\n"},
			{[]string{"nodegroup", "scale", "web", "--desired", "9"},
				"kdp nodegroup scale: --desired: desiredSize (9) must be between minSize (1) and maxSize (3)\n"},
			{[]string{"nodegroup", "describe", "nope"},
				"kdp nodegroup describe: ResourceNotFoundException: No node group found for name: nope.\n"},
			{[]string{"nodegroup", "create", "web"},
				"kdp nodegroup create: ResourceInUseException: NodeGroup already exists with name web and cluster name kdp\n"},
			{[]string{"nodegroup", "list", "-o", "xml"}, `kdp nodegroup list: -o "xml": must be one of table, json, yaml` + "\n"},
			{[]string{"nodegroup", "create", "bad", "--scaling-config", "minSize=x", "--labels", "a"},
				`kdp nodegroup create: --scaling-config: minSize: "x" is not a whole number` + "\n" +
					`kdp nodegroup create: --labels: expected key=value at offset 0, found "a"` + "\n"},
			// Checked before anything is asked: web is not deleted.
			{[]string{"nodegroup", "delete", "web", "--wait", "--wait-interval", "0s"}, "kdp nodegroup delete: --wait-interval 0s: must be positive\n"},
			{[]string{"nodegroup", "delete", "web", "--wait", "-o", "json"},
				"kdp nodegroup delete: --wait and -o json: choose one (--wait shows a view, not a document); describe the resource with -o json after it\n"},
			{[]string{"fargate-profile", "create", "fp", "--selectors", "namespace=ns,label={a=b}"},
				`kdp fargate-profile create: --selectors: unknown member "label": the members are labels, namespace` + "\n"},
		}
		if code, _, stderr := kdp(t, "nodegroup", "creat", "x"); code != 1 || stderr != `kdp nodegroup: unknown command "creat" for "kdp nodegroup"; did you mean create?`+"\n" {
			t.Errorf("a typo'd subcommand: exit %d, %s", code, stderr)
		}
		for _, tc := range cases {
			code, _, stderr := kdp(t, append(tc.args, "--data-dir", dir)...)
			if code != 1 || stderr != tc.want {
				t.Errorf("kdp %s: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", strings.Join(tc.args, " "), code, stderr, tc.want)
			}
		}
	})

	t.Run("list and describe", func(t *testing.T) {
		_, table, _ := kdp(t, "nodegroup", "list", "--data-dir", dir)
		if !regexp.MustCompile(`(?m)^NAME +STATUS +INSTANCE TYPES +CAPACITY +READY +MIN +MAX +VERSION +RELEASE +AGE\nweb +ACTIVE +m5.large +ON_DEMAND +2/2 +1 +3 +\S+ +` + regexp.QuoteMeta(old) + ` +\S+\n$`).MatchString(table) {
			t.Errorf("nodegroup list:\n%s", table)
		}
		_, list, _ := kdp(t, "nodegroup", "list", "--data-dir", dir, "-o", "json")
		if strings.TrimSpace(list) != "{\n  \"nodegroups\": [\n    \"web\"\n  ]\n}" {
			t.Errorf("nodegroup list -o json:\n%s", list)
		}
		_, desc, _ := kdp(t, "nodegroup", "describe", "web", "--data-dir", dir)
		for _, want := range []string{"Status:               ACTIVE", "Labels:               team=web", "Nodes:                2 Ready of 2 registered, 2 instances", "Release version:      " + old} {
			if !strings.Contains(desc, want) {
				t.Errorf("nodegroup describe lacks %q:\n%s", want, desc)
			}
		}
		// A script written for aws eks reads kdp's JSON: the same document,
		// times in RFC 3339 where the aws CLI 1 writes epoch seconds.
		_, mine, _ := kdp(t, "nodegroup", "describe", "web", "--data-dir", dir, "-o", "json")
		theirs := awsEKS(t, eksEnv(t, dir), "describe-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "web")
		a, b := sameTimes(t, mine), sameTimes(t, theirs)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("kdp nodegroup describe -o json:\n%s\naws eks describe-nodegroup:\n%s", mine, theirs)
		}
	})

	t.Run("shell completion names what the cluster has", func(t *testing.T) {
		_, out, _ := kdp(t, "__complete", "nodegroup", "describe", "--data-dir", dir, "")
		if !strings.HasPrefix(out, "web\n") {
			t.Errorf("completing a node group: %q", out)
		}
		_, out, _ = kdp(t, "__complete", "nodegroup", "upgrade", "--data-dir", dir, "w")
		if !strings.HasPrefix(out, "web\n") {
			t.Errorf("completing a node group from w: %q", out)
		}
		_, out, _ = kdp(t, "__complete", "nodes", "describe", "--data-dir", dir, "ip-")
		if strings.Count(out, ".ec2.internal\n") != 2 {
			t.Errorf("completing a node: %q", out)
		}
		for _, shell := range []string{"bash", "zsh", "fish"} {
			if code, out, stderr := kdp(t, "completion", shell); code != 0 || !strings.Contains(out, "__complete") {
				t.Errorf("kdp completion %s: exit %d %s", shell, code, stderr)
			}
		}
	})

	t.Run("a Fargate profile: create --wait, list, describe, delete --wait", func(t *testing.T) {
		fns := e.Namespace(t)
		code, out, stderr := kdp(t, "fargate-profile", "create", "serverless", "--data-dir", dir, "--selectors", "namespace="+fns+",labels={run=here}",
			"--wait", "--wait-interval", "200ms")
		if code != 0 {
			t.Fatalf("fargate-profile create: exit %d\n%s%s", code, out, stderr)
		}
		checkLines(t, out, `Fargate profile serverless creation: (CREATING|ACTIVE)`, `Fargate profile serverless is ACTIVE \(\S+\)`)
		_, table, _ := kdp(t, "fargate-profile", "list", "--data-dir", dir)
		if !regexp.MustCompile(`(?m)^NAME +STATUS +SELECTORS +SUBNETS +AGE\nserverless +ACTIVE +` + fns + `\{run=here\} +subnet-\S+ +\S+\n$`).MatchString(table) {
			t.Errorf("fargate-profile list:\n%s", table)
		}
		_, doc, _ := kdp(t, "fargate-profile", "describe", "serverless", "--data-dir", dir, "-o", "json")
		theirs := awsEKS(t, eksEnv(t, dir), "describe-fargate-profile", "--cluster-name", "kdp", "--fargate-profile-name", "serverless")
		if a, b := sameTimes(t, doc), sameTimes(t, theirs); !reflect.DeepEqual(a, b) {
			t.Errorf("kdp fargate-profile describe -o json:\n%s\naws eks describe-fargate-profile:\n%s", doc, theirs)
		}
		code, out, stderr = kdp(t, "fargate-profile", "delete", "serverless", "--data-dir", dir, "--wait", "--wait-interval", "200ms")
		if code != 0 {
			t.Fatalf("fargate-profile delete: exit %d\n%s%s", code, out, stderr)
		}
		checkLines(t, out, `Fargate profile serverless deletion: (DELETING|gone)`, `Fargate profile serverless is deleted \(\S+\)`)
	})

	ns := e.Namespace(t)
	// Two replicas, one may go at a time: the upgrade's drains go on.
	workload(t, e, ns, "shop", "web", 2, intstr.FromInt32(1), false)
	scr := newScreen(t)

	t.Run("an upgrade that succeeds, watched in a terminal", func(t *testing.T) {
		scr.run(t, "nodegroup", "upgrade", "web", "--data-dir", dir, "--wait", "--wait-interval", "200ms")
		sawBar := false
		final := scr.waitExit(t, 3*time.Minute, func(s string) {
			sawBar = sawBar || strings.Contains(s, "· phase Upgrade") && regexp.MustCompile(`[░█]+ [0-2]/2 old nodes replaced`).MatchString(s)
		})
		if !sawBar {
			t.Errorf("never saw the Upgrade phase with its bar")
		}
		for _, want := range []string{"Successful · phase ScaleDown", "2/2 old nodes replaced", "pods evicted: 2", "is Successful: 2 of 2 old nodes replaced, 2 pods evicted", "EXIT=0"} {
			if !strings.Contains(final, want) {
				t.Errorf("final screen lacks %q:\n%s", want, final)
			}
		}
	})

	// One replica that may not go: every drain of its node is refused.
	code, _, stderr = kdp(t, "nodegroup", "create", "guarded", "--data-dir", dir, "--release-version", old, "--instance-types", "m5.large",
		"--scaling-config", "minSize=1,maxSize=2,desiredSize=1", "--wait")
	if code != 0 {
		t.Fatalf("nodegroup create guarded: %s", stderr)
	}
	workload(t, e, ns, "keep", "guarded", 1, intstr.FromInt32(0), true)

	t.Run("an upgrade a PodDisruptionBudget blocks, watched in a terminal", func(t *testing.T) {
		scr.run(t, "nodegroup", "upgrade", "guarded", "--data-dir", dir, "--wait", "--wait-interval", "200ms")
		// (A line longer than the terminal wraps at a space.)
		blocked := regexp.MustCompile(strings.ReplaceAll(`pod `+ns+`/keep-\S+ blocked by PodDisruptionBudget `+ns+`/keep \(0 disruptions allowed\), [0-9.]+s of 15s`, " ", `\s+`))
		sawBlocked := false
		final := scr.waitExit(t, 2*time.Minute, func(s string) { sawBlocked = sawBlocked || blocked.MatchString(s) })
		if !sawBlocked {
			t.Errorf("never saw the blocked pod with its wait")
		}
		for _, want := range []string{"Failed · phase Upgrade", "0/1 old nodes replaced", "PodEvictionFailure", "blocking: " + ns + "/keep-", "EXIT=1"} {
			if !strings.Contains(final, want) {
				t.Errorf("final screen lacks %q:\n%s", want, final)
			}
		}
	})

	t.Run("the same failure in plain lines", func(t *testing.T) {
		code, out, stderr := kdp(t, "nodegroup", "upgrade", "guarded", "--data-dir", dir, "--wait", "--wait-interval", "200ms")
		if code != 1 || !strings.Contains(stderr, "kdp nodegroup upgrade: PodEvictionFailure: ") || !strings.Contains(stderr, "blocking: "+ns+"/keep-") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		checkLines(t, out, `node group guarded upgrade \S+: .*`, `update \S+ is Failed \(\S+\)`)
		if !regexp.MustCompile(`draining node \S+ \(i-\w+\); pod ` + ns + `/keep-\S+ blocked by PodDisruptionBudget ` + ns + `/keep \(0 disruptions allowed\), [0-9.]+m?s of 15s\n`).MatchString(out) {
			t.Errorf("no line names the blocked pod:\n%s", out)
		}
	})

	t.Run("Ctrl-C stops watching, not the update", func(t *testing.T) {
		scr.run(t, "nodegroup", "upgrade", "guarded", "--data-dir", dir, "--wait", "--wait-interval", "200ms")
		testenv.EventuallyEvery(t, time.Minute, 100*time.Millisecond, func() error {
			if s := scr.capture(t); !strings.Contains(s, "blocked by PodDisruptionBudget") {
				return fmt.Errorf("not blocked yet:\n%s", s)
			}
			return nil
		})
		scr.keys(t, "C-c")
		final := scr.waitExit(t, 30*time.Second, nil)
		if !strings.Contains(final, "stopped watching; the operation goes on") || !strings.Contains(final, "EXIT=130") {
			t.Errorf("after Ctrl-C:\n%s", final)
		}
		_, ids, _ := kdp(t, "update", "list", "guarded", "--data-dir", dir, "-o", "json")
		var list struct{ UpdateIds []string }
		if err := json.Unmarshal([]byte(ids), &list); err != nil || len(list.UpdateIds) == 0 {
			t.Fatalf("update list -o json: %v\n%s", err, ids)
		}
		last := list.UpdateIds[len(list.UpdateIds)-1]
		_, doc, _ := kdp(t, "update", "describe", last, "--data-dir", dir, "-o", "json")
		var u struct{ Update struct{ Status string } }
		if err := json.Unmarshal([]byte(doc), &u); err != nil || u.Update.Status != "InProgress" {
			t.Errorf("update %s after Ctrl-C: %v\n%s", last, err, doc)
		}
	})
}

// oldestRelease is the oldest release of the default image type for the
// cluster's version, so that an upgrade has something to roll onto.
func oldestRelease(t *testing.T, dir string) string {
	t.Helper()
	code, out, stderr := kdp(t, "sim", "images", "--data-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("kdp sim images: %s", stderr)
	}
	var images []cloud.Image
	if err := json.Unmarshal([]byte(out), &images); err != nil {
		t.Fatal(err)
	}
	var newest cloud.Image
	for _, img := range images {
		if img.Type == string(eksv1.AL2023x86Standard) && img.Released.After(newest.Released) {
			newest = img
		}
	}
	oldest := newest
	for _, img := range images {
		if img.Type == newest.Type && img.KubernetesVersion == newest.KubernetesVersion && img.Released.Before(oldest.Released) {
			oldest = img
		}
	}
	if oldest.ReleaseVersion == newest.ReleaseVersion {
		t.Fatalf("the catalogue has one release of %s %s: nothing to upgrade to", newest.Type, newest.KubernetesVersion)
	}
	return oldest.ReleaseVersion
}

var stamp = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `

// checkLines checks --wait's plain output: every line timestamped, each
// unlike the one before, the body lines matching body and the last last.
func checkLines(t *testing.T, out, body, last string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("want lines and an outcome, got:\n%s", out)
	}
	bodyRE, lastRE := regexp.MustCompile("^"+stamp+body+"$"), regexp.MustCompile("^"+stamp+last+"$")
	for i, l := range lines[:len(lines)-1] {
		if !bodyRE.MatchString(l) {
			t.Errorf("line %d %q does not match %s", i+1, l, bodyRE)
		}
		if i > 0 && l[21:] == lines[i-1][21:] {
			t.Errorf("line %d repeats the one before: %q", i+1, l)
		}
	}
	if l := lines[len(lines)-1]; !lastRE.MatchString(l) {
		t.Errorf("last line %q does not match %s", l, lastRE)
	}
}

// awsEKS runs the aws CLI's eks command against kdp's EKS API.
func awsEKS(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"eks"}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws eks %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sameTimes decodes a document with its createdAt/modifiedAt as instants,
// so that RFC 3339 and the aws CLI's epoch seconds compare equal.
func sameTimes(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "createdAt" || k == "modifiedAt" {
					var at time.Time
					switch x := x.(type) {
					case string:
						var err error
						if at, err = time.Parse(time.RFC3339Nano, x); err != nil {
							t.Fatalf("%s %q: %v", k, x, err)
						}
					case float64: // the aws CLI 1's default: epoch seconds, as on the wire
						at = time.UnixMilli(int64(x * 1000))
					}
					v[k] = at.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(m)
	return m
}

// workload runs replicas of a Deployment on a node group's nodes, with a
// PodDisruptionBudget of maxUnavailable (minAvailable: all, if strict).
func workload(t *testing.T, e *testenv.Env, ns, name, group string, replicas int32, maxUnavailable intstr.IntOrString, strict bool) {
	t.Helper()
	ctx := testenv.Context(t)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			NodeSelector: map[string]string{eksv1.LabelNodegroup: group},
			Containers:   []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
		}},
	}}
	if err := e.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: policyv1.PodDisruptionBudgetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels}, MaxUnavailable: &maxUnavailable,
	}}
	if strict {
		all := intstr.FromInt32(replicas)
		pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable = nil, &all
	}
	if err := e.Client.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		got := &policyv1.PodDisruptionBudget{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
			return err
		}
		if got.Status.CurrentHealthy != replicas {
			return fmt.Errorf("budget %s/%s: %d of %d pods healthy", ns, name, got.Status.CurrentHealthy, replicas)
		}
		return nil
	})
}

// screen is a terminal: a tmux server of the test's own, one window of
// 150×40 in which commands run.
type screen struct {
	socket string
	n      int
}

func newScreen(t *testing.T) *screen {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("the terminal tests need tmux (make test-deps installs it): %v", err)
	}
	s := &screen{socket: fmt.Sprintf("kdp-test-%d", os.Getpid())}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// run starts kdp with args in a new window and prints its exit status
// after it ("EXIT=N").
func (s *screen) run(t *testing.T, args ...string) {
	t.Helper()
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	s.n++
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := fmt.Sprintf("%s %s; echo EXIT=$?; sleep 3600", bin, strings.Join(quoted, " "))
	_ = exec.Command("tmux", "-L", s.socket, "kill-session", "-t", "w").Run()
	cmd := exec.Command("tmux", "-L", s.socket, "new-session", "-d", "-s", "w", "-x", "150", "-y", "40", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
}

// capture is the screen's text now.
func (s *screen) capture(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-t", "w").CombinedOutput()
	if err != nil {
		t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return string(out)
}

func (s *screen) keys(t *testing.T, keys ...string) {
	t.Helper()
	if out, err := exec.Command("tmux", append([]string{"-L", s.socket, "send-keys", "-t", "w"}, keys...)...).CombinedOutput(); err != nil {
		t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// waitExit reads the screen until the command has exited, showing each
// screen to seen, and returns the last.
func (s *screen) waitExit(t *testing.T, timeout time.Duration, seen func(string)) string {
	t.Helper()
	var last string
	exited := regexp.MustCompile(`(?m)^EXIT=\d+$`)
	testenv.EventuallyEvery(t, timeout, 100*time.Millisecond, func() error {
		last = s.capture(t)
		if seen != nil {
			seen(last)
		}
		if !exited.MatchString(last) {
			return fmt.Errorf("still running:\n%s", last)
		}
		return nil
	})
	return last
}
