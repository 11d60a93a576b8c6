package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kdp-project/kdp/internal/testenv"
)

// awsRunner runs the aws CLI with kdp env's exports.
type awsRunner struct {
	t      *testing.T
	vars   map[string]string
	config string
	extra  []string
}

func newAWS(t *testing.T, vars map[string]string) *awsRunner {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is not installed: this test needs it (pip install awscli)")
	}
	// The CLI renders timestamps as ISO 8601 with this setting (v1's
	// default prints them as they came): botocore parses kdp's.
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[default]\ncli_timestamp_format = iso8601\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &awsRunner{t: t, vars: vars, config: config}
}

func (a *awsRunner) env() []string {
	env := append(os.Environ(), "AWS_CONFIG_FILE="+a.config, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	for k, v := range a.vars {
		env = append(env, k+"="+v)
	}
	return append(env, a.extra...)
}

func (a *awsRunner) run(args ...string) (int, string, string) {
	cmd := exec.Command("aws", args...)
	cmd.Env = a.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		a.t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func (a *awsRunner) ok(args ...string) map[string]any {
	a.t.Helper()
	code, out, stderr := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	var v map[string]any
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			a.t.Fatalf("aws %s: %v:\n%s", strings.Join(args, " "), err, out)
		}
	}
	return v
}

// fails runs a command that must fail with an error naming code (and
// saying want).
func (a *awsRunner) fails(code, want string, args ...string) {
	a.t.Helper()
	exit, _, stderr := a.run(args...)
	if exit == 0 || !strings.Contains(stderr, "("+code+")") || !strings.Contains(stderr, want) {
		a.t.Errorf("aws %s: exit %d, %s; want (%s) saying %q", strings.Join(args, " "), exit, stderr, code, want)
	}
}

func kubectl(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestE2E_ClustersThroughTheAWSCLI: the EKS getting-started flow with the
// aws CLI against kdp: create a cluster (a control plane of its own),
// wait for it, update-kubeconfig, kubectl through the IAM token path, a
// node group whose nodes join that cluster and not kdp's, the errors on
// the way, and deletion in EKS's order.
func TestE2E_ClustersThroughTheAWSCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	vars := eksEnv(t, dir)
	if vars["AWS_ENDPOINT_URL_STS"] != vars["AWS_ENDPOINT_URL_EKS"] {
		t.Errorf("kdp env: AWS_ENDPOINT_URL_STS=%q, want the EKS API's %q", vars["AWS_ENDPOINT_URL_STS"], vars["AWS_ENDPOINT_URL_EKS"])
	}
	cli := newAWS(t, vars)
	subnetList := subnetIDs(t, dir)
	subnets := strings.Join(subnetList, ",")
	role := "arn:aws:iam::123456789012:role/EKSClusterRole"

	if id := cli.ok("sts", "get-caller-identity"); id["Arn"] != "arn:aws:iam::123456789012:user/admin" || id["Account"] != "123456789012" {
		t.Errorf("aws sts get-caller-identity: %v", id)
	}
	cli.fails("InvalidParameterException", "unsupported Kubernetes version 1.20: kdp runs",
		"eks", "create-cluster", "--name", "old", "--kubernetes-version", "1.20", "--role-arn", role, "--resources-vpc-config", "subnetIds="+subnets)

	start := time.Now()
	created := cli.ok("eks", "create-cluster", "--name", "dev", "--role-arn", role, "--resources-vpc-config", "subnetIds="+subnets, "--tags", "team=web")
	if c := created["cluster"].(map[string]any); c["status"] != "CREATING" || c["arn"] != "arn:aws:eks:us-east-1:123456789012:cluster/dev" {
		t.Errorf("create-cluster: %v", c)
	}
	cli.fails("InvalidRequestException", "Cluster 'dev' is not in ACTIVE status",
		append([]string{"eks", "create-nodegroup", "--cluster-name", "dev", "--nodegroup-name", "early", "--node-role", e2eNodeRole, "--subnets"}, subnetList...)...)
	cli.ok("eks", "wait", "cluster-active", "--name", "dev")
	t.Logf("dev ACTIVE %.1fs after create-cluster", time.Since(start).Seconds())
	dev := cli.ok("eks", "describe-cluster", "--name", "dev")["cluster"].(map[string]any)
	endpoint, _ := dev["endpoint"].(string)
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") || strings.Contains(e.Stdout(), endpoint) {
		t.Errorf("dev's endpoint %q (kdp's own is in %q)", endpoint, e.Stdout())
	}
	if list := cli.ok("eks", "list-clusters"); fmt.Sprint(list["clusters"]) != "[dev kdp]" {
		t.Errorf("list-clusters: %v", list)
	}

	// update-kubeconfig, then kubectl through aws eks get-token and kdp's
	// token webhook: the creator is cluster admin.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if code, out, stderr := cli.run("eks", "update-kubeconfig", "--name", "dev", "--kubeconfig", kubeconfig); code != 0 || !strings.Contains(out, "Added new context arn:aws:eks:us-east-1:123456789012:cluster/dev") {
		t.Fatalf("aws eks update-kubeconfig: exit %d: %s%s", code, out, stderr)
	}
	kenv := append(cli.env(), "KUBECONFIG="+kubeconfig)
	out, err := kubectl(t, kenv, "get", "ns")
	if err != nil || !strings.Contains(out, "kube-system") {
		t.Fatalf("kubectl get ns through the token path: %v\n%s", err, out)
	}
	if out, err := kubectl(t, kenv, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); err != nil || out != "arn:aws:iam::123456789012:user/admin" {
		t.Errorf("kubectl auth whoami: %q, %v", out, err)
	}
	// Another user: no access until an access entry, then what its
	// policy grants (view: read, not write).
	code, out, stderr := kdp(t, "credentials", "create", "bob", "--data-dir", dir, "-o", "json")
	var bob struct{ AccessKeyID, SecretAccessKey string }
	if i := strings.LastIndex(out, "}"); code != 0 || i < 0 || json.Unmarshal([]byte(out[:i+1]), &bob) != nil {
		t.Fatalf("kdp credentials create bob: exit %d: %s%s", code, out, stderr)
	}
	asBob := append(kenv, "AWS_ACCESS_KEY_ID="+bob.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+bob.SecretAccessKey)
	if out, err := kubectl(t, asBob, "get", "ns"); err == nil || !strings.Contains(out, "Unauthorized") && !strings.Contains(out, "must be logged in") {
		t.Errorf("kubectl as bob, without an access entry: %v\n%s", err, out)
	}
	cli.ok("eks", "create-access-entry", "--cluster-name", "dev", "--principal-arn", "arn:aws:iam::123456789012:user/bob")
	cli.ok("eks", "associate-access-policy", "--cluster-name", "dev", "--principal-arn", "arn:aws:iam::123456789012:user/bob",
		"--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "--access-scope", "type=cluster")
	testenv.Eventually(t, 30*time.Second, func() error { // the API server caches a refusal for a moment
		if out, err := kubectl(t, asBob, "get", "ns"); err != nil || !strings.Contains(out, "kube-system") {
			return fmt.Errorf("kubectl get ns as bob, a viewer: %v\n%s", err, out)
		}
		return nil
	})
	if out, err := kubectl(t, asBob, "create", "namespace", "bobs"); err == nil || !strings.Contains(out, "Forbidden") && !strings.Contains(out, "forbidden") {
		t.Errorf("kubectl create namespace as bob, a viewer: %v\n%s", err, out)
	}

	// A key kdp does not know gets no token that works.
	bad := append(kenv, "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	if out, err := kubectl(t, bad, "get", "ns"); err == nil || !strings.Contains(out, "Unauthorized") && !strings.Contains(out, "must be logged in") {
		t.Errorf("kubectl with an unknown key: %v\n%s", err, out)
	}

	// A node group of dev: its nodes join dev, not kdp's own cluster.
	cli.ok(append([]string{"eks", "create-nodegroup", "--cluster-name", "dev", "--nodegroup-name", "web", "--node-role", e2eNodeRole,
		"--scaling-config", "minSize=1,maxSize=2,desiredSize=2", "--subnets"}, subnetList...)...)
	// (aws eks wait polls every 30 s: the node group's own waits are
	// EKS API polls here, the cluster's stay the aws CLI's.)
	testenv.Eventually(t, 60*time.Second, func() error {
		ng := cli.ok("eks", "describe-nodegroup", "--cluster-name", "dev", "--nodegroup-name", "web")["nodegroup"].(map[string]any)
		if ng["status"] != "ACTIVE" {
			return fmt.Errorf("node group web is %v", ng["status"])
		}
		return nil
	})
	testenv.Eventually(t, 60*time.Second, func() error {
		out, err := kubectl(t, kenv, "get", "nodes", "-l", "eks.amazonaws.com/nodegroup=web", "-o", "name")
		if err != nil || strings.Count(out, "node/") != 2 {
			return fmt.Errorf("dev's nodes of web: %v %s", err, out)
		}
		return nil
	})
	own, err := kubectl(t, append(os.Environ(), "KUBECONFIG="+filepath.Join(dir, "kubeconfig")), "get", "nodes", "-l", "eks.amazonaws.com/nodegroup=web", "-o", "name")
	if err != nil || strings.TrimSpace(own) != "" {
		t.Errorf("kdp's own cluster has nodes of dev's group: %v %q", err, own)
	}
	if l := cli.ok("eks", "list-nodegroups", "--cluster-name", "kdp"); fmt.Sprint(l["nodegroups"]) != "[]" {
		t.Errorf("kdp's own node groups: %v", l)
	}

	// Deletion in EKS's order.
	cli.fails("ResourceInUseException", "Cluster has nodegroups attached", "eks", "delete-cluster", "--name", "dev")
	cli.ok("eks", "delete-nodegroup", "--cluster-name", "dev", "--nodegroup-name", "web")
	testenv.Eventually(t, 60*time.Second, func() error {
		if code, _, _ := cli.run("eks", "describe-nodegroup", "--cluster-name", "dev", "--nodegroup-name", "web"); code == 0 {
			return fmt.Errorf("node group web is still there")
		}
		return nil
	})
	pid := childPID(t, dir, "dev")
	cli.ok("eks", "delete-cluster", "--name", "dev")
	cli.ok("eks", "wait", "cluster-deleted", "--name", "dev")
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("dev's control plane (pid %d) runs after its deletion", pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "clusters", "dev")); !os.IsNotExist(err) {
		t.Errorf("dev's data after its deletion: %v", err)
	}
}

// childPID is the pid of the control plane of a created cluster, from the
// lock of its data dir.
func childPID(t testing.TB, dir, name string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "clusters", name, "data", "kdp.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(raw), &pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestE2E_ClustersSurviveRestarts, with the AWS SDK for Go: two created
// clusters; kill -9 of one's control plane is noticed, restarted and told
// in its health; kill -9 of kdp takes no control plane with it... nor
// leaves one running; the next kdp starts both again on their endpoints,
// with the node group of one, and the errors of the way are EKS's.
func TestE2E_ClustersSurviveRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	ctx := testenv.Context(t)
	c := sdkClient(eksEnv(t, dir), "", "")
	subnets := subnetIDs(t, dir)
	role := aws.String("arn:aws:iam::123456789012:role/EKSClusterRole")

	_, err = c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("old"), Version: aws.String("1.20"), RoleArn: role, ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets}})
	var ipe *ekstypes.InvalidParameterException
	if !errors.As(err, &ipe) || !strings.Contains(ipe.ErrorMessage(), "unsupported Kubernetes version 1.20") {
		t.Errorf("a version kdp does not run: %v", err)
	}
	for _, name := range []string{"alpha", "beta"} {
		if _, err := c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String(name), RoleArn: role, ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("early"), NodeRole: aws.String(e2eNodeRole), Subnets: subnets})
	var ire *ekstypes.InvalidRequestException
	if !errors.As(err, &ire) || ire.ErrorMessage() != "Cluster 'alpha' is not in ACTIVE status" {
		t.Errorf("a node group of a CREATING cluster: %v", err)
	}
	endpoints := map[string]string{}
	for _, name := range []string{"alpha", "beta"} {
		endpoints[name] = aws.ToString(waitClusterActive(t, c, name).Endpoint)
	}
	if _, err := c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("web"), NodeRole: aws.String(e2eNodeRole), Subnets: subnets,
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(1), DesiredSize: aws.Int32(1)}}); err != nil {
		t.Fatal(err)
	}
	waitNodegroupActive(t, c, "alpha", "web")
	_, err = c.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("alpha")})
	var riu *ekstypes.ResourceInUseException
	if !errors.As(err, &riu) || riu.ErrorMessage() != "Cluster has nodegroups attached" {
		t.Errorf("deleting a cluster with a node group: %v", err)
	}

	// kill -9 of beta's control plane: noticed, restarted, told.
	beta := childPID(t, dir, "beta")
	if err := syscall.Kill(beta, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		d := describe(t, c, "beta")
		if d.Status != ekstypes.ClusterStatusActive || d.Health == nil || len(d.Health.Issues) != 1 || d.Health.Issues[0].Code != ekstypes.ClusterIssueCodeOther ||
			!strings.Contains(aws.ToString(d.Health.Issues[0].Message), "kdp restarted the control plane 1 time(s)") || childPID(t, dir, "beta") == beta {
			return fmt.Errorf("beta after a kill -9 of its control plane: %s %+v", d.Status, d.Health)
		}
		return nil
	})

	resp, err := http.Get(metricsURL(t, e.Stdout()))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`kdp_cluster_control_plane_restarts_total{cluster="beta"} 1`, `kdp_clusters{status="ACTIVE"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics: no %s in\n%s", want, grepLines(string(metrics), "kdp_cluster"))
		}
	}

	// kill -9 of kdp: no control plane outlives it.
	pids := []int{childPID(t, dir, "alpha"), childPID(t, dir, "beta")}
	e.Kill()
	testenv.Eventually(t, 10*time.Second, func() error {
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); err == nil {
				return fmt.Errorf("control plane %d runs after kdp was killed", pid)
			}
		}
		return nil
	})

	// The next kdp starts both, on their endpoints, with alpha's group.
	if e, err = testenv.Start(testenv.Options{DataDir: dir, Full: true}); err != nil {
		t.Fatal(err)
	}
	c = sdkClient(eksEnv(t, dir), "", "")
	for _, name := range []string{"alpha", "beta"} {
		if d := waitClusterActive(t, c, name); aws.ToString(d.Endpoint) != endpoints[name] {
			t.Errorf("%s's endpoint after kdp's restart: %s, was %s", name, aws.ToString(d.Endpoint), endpoints[name])
		}
	}
	waitNodegroupActive(t, c, "alpha", "web")
	list, err := c.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil || fmt.Sprint(list.Clusters) != "[alpha beta kdp]" {
		t.Errorf("ListClusters after the restart: %v, %v", list, err)
	}
	if _, err := c.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		_, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("web")})
		var nf *ekstypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return fmt.Errorf("node group web: %v", err)
		}
		return nil
	})
	for _, name := range []string{"alpha", "beta"} {
		deleteCluster(t, c, name)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "clusters")); len(entries) != 0 {
		t.Errorf("clusters left in the data dir: %v", entries)
	}
}

func describe(t *testing.T, c *eks.Client, name string) *ekstypes.Cluster {
	t.Helper()
	out, err := c.DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Cluster
}

func waitClusterActive(t *testing.T, c *eks.Client, name string) *ekstypes.Cluster {
	t.Helper()
	var d *ekstypes.Cluster
	testenv.Eventually(t, 90*time.Second, func() error {
		if d = describe(t, c, name); d.Status != ekstypes.ClusterStatusActive {
			return fmt.Errorf("cluster %s is %s", name, d.Status)
		}
		return nil
	})
	return d
}

func waitNodegroupActive(t *testing.T, c *eks.Client, cluster, name string) {
	t.Helper()
	testenv.Eventually(t, 90*time.Second, func() error {
		out, err := c.DescribeNodegroup(context.Background(), &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
		if err != nil {
			return err
		}
		if out.Nodegroup.Status != ekstypes.NodegroupStatusActive {
			return fmt.Errorf("node group %s/%s is %s", cluster, name, out.Nodegroup.Status)
		}
		return nil
	})
}

// TestE2E_ClusterCLI: kdp cluster create --wait (lines, not a terminal) of
// a name EKS allows and a DNS label does not (a capital, an underscore),
// list, describe -o json (the EKS API's document), the errors of bad
// input with the command and flag named, and delete --wait.
func TestE2E_ClusterCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	d := "--data-dir=" + dir

	code, out, stderr := kdp(t, "cluster", "create", "Dev_1", "--tags", "team=web", "--wait", "--wait-interval", "200ms", d)
	if code != 0 || !strings.Contains(out, "cluster Dev_1 creation") || !strings.Contains(out, "CREATING") ||
		!strings.Contains(out, "cluster Dev_1 is ACTIVE at https://127.0.0.1:") || !strings.Contains(out, "aws eks update-kubeconfig --name Dev_1") {
		t.Fatalf("kdp cluster create --wait: exit %d\n%s%s", code, out, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if _, err := time.Parse(time.RFC3339, strings.Fields(line)[0]); err != nil {
			t.Errorf("a line of --wait without a time: %q", line)
		}
	}
	code, out, stderr = kdp(t, "cluster", "list", d)
	if code != 0 || !strings.HasPrefix(out, "NAME") || !regexpMatch(`(?m)^Dev_1\s+ACTIVE\s+1\.\d+\s+https://127\.0\.0\.1:\d+\s`, out) || !regexpMatch(`(?m)^kdp\s+ACTIVE\s`, out) {
		t.Errorf("kdp cluster list: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = kdp(t, "cluster", "describe", "Dev_1", "-o", "json", d)
	var doc struct {
		Cluster map[string]any `json:"cluster"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Cluster["status"] != "ACTIVE" || doc.Cluster["roleArn"] != "arn:aws:iam::123456789012:role/KdpClusterRole" ||
		fmt.Sprint(doc.Cluster["tags"]) != "map[team:web]" {
		t.Errorf("kdp cluster describe -o json: exit %d\n%s%s", code, out, stderr)
	}
	if at, _ := doc.Cluster["createdAt"].(string); !regexpMatch(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`, at) {
		t.Errorf("createdAt %q is not RFC 3339", doc.Cluster["createdAt"])
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		// The EKS API's problems name their flags, as the library's do in process.
		{[]string{"cluster", "create", "old", "--kubernetes-version", "1.20"}, "kdp cluster create: --kubernetes-version: unsupported Kubernetes version 1.20: kdp runs 1."},
		{[]string{"cluster", "create", "x", "--resources-vpc-config", "subnetIds=subnet-nope"}, "kdp cluster create: --resources-vpc-config: subnetIds[0]: The subnet ID 'subnet-nope' does not exist"},
		{[]string{"cluster", "create", "bad.name"}, `kdp cluster create: --name: name "bad.name" must begin with a letter or digit and have only letters, digits, hyphens and underscores`},
		{[]string{"cluster", "create", "Dev_1"}, "kdp cluster create: ResourceInUseException: Cluster already exists with name: Dev_1"},
		{[]string{"cluster", "create", "x", "--wait", "-o", "json"}, "kdp cluster create: --wait and -o json: choose one"},
		{[]string{"cluster", "create", "x", "--resources-vpc-config", "subnetIds=[a"}, "kdp cluster create: --resources-vpc-config:"},
		{[]string{"cluster", "delete", "kdp"}, "kdp cluster delete: InvalidRequestException: Cluster kdp is the one kdp runs"},
		{[]string{"cluster", "describe", "nope"}, "kdp cluster describe: ResourceNotFoundException: No cluster found for name: nope."},
		{[]string{"cluster", "lst"}, `unknown command "lst" for "kdp cluster"; did you mean list?`},
	} {
		code, _, stderr := kdp(t, append(c.args, d)...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("kdp %s: exit %d, %q; want %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}

	code, out, stderr = kdp(t, "cluster", "delete", "Dev_1", "--wait", "--wait-interval", "200ms", d)
	if code != 0 || !strings.Contains(out, "cluster Dev_1 is deleted") {
		t.Errorf("kdp cluster delete --wait: exit %d\n%s%s", code, out, stderr)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
