package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// runKdp runs kdp with args and returns its exit code, stdout and stderr.
func runKdp(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), NewRootCommand(Deps{}), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// credentialsDir is a data dir whose credentials file kdp up created, with
// its admin credential.
func credentialsDir(t *testing.T) (string, *auth.Store) {
	t.Helper()
	dir := t.TempDir()
	s, err := auth.Open(cluster.Layout{Root: dir}.EKSCredentials(), auth.Settings{Account: sim.Account, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureDefault(defaultCredential); err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func TestCredentialsWithoutKdpUp(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"create", "ci"}, {"list"}, {"revoke", "ci"}} {
		code, _, stderr := runKdp(t, append([]string{"credentials"}, append(args, "--data-dir", dir)...)...)
		if code == 0 || !strings.Contains(stderr, "run `kdp up --data-dir "+dir+"` first") {
			t.Errorf("kdp credentials %s on an empty dir: exit %d, %q", args[0], code, stderr)
		}
	}
}

func TestCredentialsCreateListRevoke(t *testing.T) {
	dir, s := credentialsDir(t)

	code, stdout, stderr := runKdp(t, "credentials", "create", "ci", "-o", "json", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("create: exit %d, %s", code, stderr)
	}
	var ci map[string]any
	if err := json.Unmarshal([]byte(stdout), &ci); err != nil {
		t.Fatalf("create -o json: %v\n%s", err, stdout)
	}
	secret, _ := ci["secretAccessKey"].(string)
	if len(secret) != 40 || ci["name"] != "ci" || ci["arn"] != "arn:aws:iam::"+sim.Account+":user/ci" ||
		!strings.HasPrefix(ci["accessKeyId"].(string), "AKIA") || ci["createdAt"] == nil {
		t.Errorf("create -o json: %s", stdout)
	}
	if !strings.Contains(stderr, "only time") {
		t.Errorf("create says nothing of the secret's being shown once: %q", stderr)
	}
	if c, ok := s.Lookup(ci["accessKeyId"].(string)); !ok || c.SecretAccessKey != secret {
		t.Errorf("the server's store does not know the new key: %+v", c)
	}

	code, stdout, _ = runKdp(t, "credentials", "create", "deploy", "--data-dir", dir)
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); code != 0 || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "NAME    ACCESS KEY ID         SECRET ACCESS KEY") || !strings.HasPrefix(lines[1], "deploy  AKIA") {
		t.Errorf("create (table): exit %d\n%s", code, stdout)
	}

	for _, tc := range []struct{ args, err string }{
		{"create ci", `credential "ci" already exists`},
		{"create a/b", "must be 1 to 64 letters, digits and + = , . @ _ -"},
		{"create x -o yaml", `-o "yaml": must be table or json`},
		{"revoke nobody", `credential "nobody": not found`},
	} {
		code, _, stderr := runKdp(t, append(append([]string{"credentials"}, strings.Fields(tc.args)...), "--data-dir", dir)...)
		if code == 0 || !strings.Contains(stderr, tc.err) {
			t.Errorf("kdp credentials %s: exit %d, %q; want %q", tc.args, code, stderr, tc.err)
		}
	}

	code, stdout, _ = runKdp(t, "credentials", "list", "--data-dir", dir)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "admin ") ||
		!strings.HasPrefix(lines[2], "ci ") || !strings.HasPrefix(lines[3], "deploy ") {
		t.Errorf("list: exit %d\n%s", code, stdout)
	}
	code, jsonOut, _ := runKdp(t, "credentials", "list", "-o", "json", "--data-dir", dir)
	var listed []map[string]any
	if err := json.Unmarshal([]byte(jsonOut), &listed); code != 0 || err != nil || len(listed) != 3 || listed[1]["accessKeyId"] != ci["accessKeyId"] {
		t.Errorf("list -o json: exit %d, %v\n%s", code, err, jsonOut)
	}
	creds, _ := s.List()
	for _, c := range creds {
		if strings.Contains(stdout+jsonOut, c.SecretAccessKey) {
			t.Errorf("list shows %s's secret", c.Name)
		}
	}
	if strings.Contains(jsonOut, "secretAccessKey") {
		t.Errorf("list -o json has a secretAccessKey field:\n%s", jsonOut)
	}

	code, stdout, stderr = runKdp(t, "credentials", "revoke", "ci", "--data-dir", dir)
	if code != 0 || stdout != "credential ci ("+ci["accessKeyId"].(string)+") revoked\n" {
		t.Errorf("revoke: exit %d, %q, %q", code, stdout, stderr)
	}
	if _, ok := s.Lookup(ci["accessKeyId"].(string)); ok {
		t.Error("the server's store still knows the revoked key")
	}
}

// envDir is a data dir with the kubeconfig kdp env needs.
func envDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	layout := cluster.Layout{Root: dir}
	if err := os.WriteFile(layout.AdminKubeconfig(), []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEnvWithoutEKSAPI(t *testing.T) {
	dir := envDir(t)
	code, stdout, stderr := runKdp(t, "env", "--data-dir", dir)
	want := "export KUBECONFIG=" + cluster.Layout{Root: dir}.AdminKubeconfig() + "\nexport KDP_DATA_DIR=" + dir + "\n"
	if code != 0 || stdout != want {
		t.Errorf("kdp env: exit %d, %q (%s); want %q", code, stdout, stderr, want)
	}
}

func TestEnvEKSAPI(t *testing.T) {
	dir := envDir(t)
	layout := cluster.Layout{Root: dir}
	s, err := auth.Open(layout.EKSCredentials(), auth.Settings{Account: sim.Account, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layout.EKSEndpoint(), []byte("http://127.0.0.1:17090\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No credential at all: a comment, and nothing to export.
	code, stdout, _ := runKdp(t, "env", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "# the EKS API at http://127.0.0.1:17090 has no credentials: kdp credentials create NAME") ||
		strings.Contains(stdout, "AWS_") {
		t.Errorf("kdp env without credentials: exit %d\n%s", code, stdout)
	}

	if _, err := s.Create("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureDefault("admin"); err != nil {
		t.Fatal(err)
	}
	creds, _ := s.List()
	admin, ci := creds[0], creds[1]
	got := evalEnv(t, dir)
	want := map[string]string{
		"KUBECONFIG": layout.AdminKubeconfig(), "KDP_DATA_DIR": dir,
		"AWS_ENDPOINT_URL_EKS": "http://127.0.0.1:17090", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:17090", "AWS_ACCESS_KEY_ID": admin.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": admin.SecretAccessKey, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_SESSION_TOKEN": "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("after eval \"$(kdp env)\": %s=%q, want %q", k, got[k], v)
		}
	}

	// Admin revoked: the first credential by name.
	if err := s.Revoke("admin"); err != nil {
		t.Fatal(err)
	}
	if got := evalEnv(t, dir); got["AWS_ACCESS_KEY_ID"] != ci.AccessKeyID || got["AWS_SECRET_ACCESS_KEY"] != ci.SecretAccessKey {
		t.Errorf("admin revoked: AWS_ACCESS_KEY_ID=%s, want ci's %s", got["AWS_ACCESS_KEY_ID"], ci.AccessKeyID)
	}
}

// evalEnv evaluates kdp env's output in a shell, as a user does, with an
// AWS_SESSION_TOKEN left from elsewhere, and returns the variables it set.
func evalEnv(t *testing.T, dir string) map[string]string {
	t.Helper()
	code, stdout, stderr := runKdp(t, "env", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("kdp env: exit %d, %s", code, stderr)
	}
	names := []string{"KUBECONFIG", "KDP_DATA_DIR", "AWS_ENDPOINT_URL_EKS", "AWS_ENDPOINT_URL_STS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"}
	script := "eval \"$KDP_ENV\"\n"
	for _, n := range names {
		script += "printf '%s\\n' \"$" + n + "\"\n"
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "KDP_ENV="+stdout, "AWS_SESSION_TOKEN=stale")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("eval of %q: %v", stdout, err)
	}
	values := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	got := map[string]string{}
	for i, n := range names {
		got[n] = values[i]
	}
	return got
}
