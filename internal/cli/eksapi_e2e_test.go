package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/testenv"
)

const (
	e2eNodeRole = "arn:aws:iam::123456789012:role/KdpNodeRole"
	e2ePodRole  = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole"
)

// eksEnv is what `eval "$(kdp env)"` exports, read from kdp env's output.
func eksEnv(t testing.TB, dir string) map[string]string {
	t.Helper()
	code, out, stderr := kdp(t, "env", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("kdp env: exit %d: %s", code, stderr)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = strings.Trim(v, "'")
		}
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_EKS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if vars[k] == "" {
			t.Fatalf("kdp env exports no %s:\n%s", k, out)
		}
	}
	return vars
}

// sdkClient is an EKS client of the AWS SDK for Go on kdp's EKS API, with
// the credentials kdp env exports (or those given).
func sdkClient(vars map[string]string, key, secret string) *eks.Client {
	if key == "" {
		key, secret = vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"]
	}
	return eks.New(eks.Options{
		BaseEndpoint: aws.String(vars["AWS_ENDPOINT_URL_EKS"]), Region: vars["AWS_REGION"],
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

// subnetIDs are the simulated cloud's private subnets.
func subnetIDs(t testing.TB, dir string) []string {
	t.Helper()
	code, out, stderr := kdp(t, "sim", "subnets", "--data-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("kdp sim subnets: exit %d: %s", code, stderr)
	}
	var subnets []cloud.Subnet
	if err := json.Unmarshal([]byte(out), &subnets); err != nil {
		t.Fatalf("kdp sim subnets -o json: %v:\n%s", err, out)
	}
	var ids []string
	for _, s := range subnets {
		if !s.Public {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// TestE2E_EKSAPI: kdp up serves the EKS API; with what kdp env exports,
// the AWS SDK for Go and the aws CLI create, scale, upgrade and delete
// node groups and Fargate profiles, with the results the Kubernetes
// resources show, and AWS's error shapes for bad input and bad
// signatures.
func TestE2E_EKSAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	if !strings.Contains(e.Stdout(), "EKS API:") {
		t.Errorf("kdp up's output does not say where the EKS API is:\n%s", e.Stdout())
	}
	vars := eksEnv(t, dir)
	subnets := subnetIDs(t, dir)
	t.Run("the AWS SDK for Go", func(t *testing.T) { sdkOperations(t, e, vars, subnets) })
	t.Run("authentication", func(t *testing.T) { authFailures(t, dir, vars) })
	t.Run("the aws CLI", func(t *testing.T) { awsCLI(t, vars, subnets) })
}

func sdkOperations(t *testing.T, e *testenv.Env, vars map[string]string, subnets []string) {
	ctx := testenv.Context(t)
	c := sdkClient(vars, "", "")
	fast := func(min, max time.Duration) (time.Duration, time.Duration) { return min, max }
	minDelay, maxDelay := fast(200*time.Millisecond, time.Second)

	clusters, err := c.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil || !slices.Equal(clusters.Clusters, []string{"kdp"}) {
		t.Fatalf("ListClusters: %v, %+v", err, clusters)
	}
	cl, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("kdp")})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := base64.StdEncoding.DecodeString(aws.ToString(cl.Cluster.CertificateAuthority.Data))
	if cl.Cluster.Status != ekstypes.ClusterStatusActive || aws.ToString(cl.Cluster.Endpoint) != e.Config.Host ||
		!bytes.Contains(ca, []byte("BEGIN CERTIFICATE")) || cl.Cluster.CreatedAt == nil ||
		!strings.HasPrefix(aws.ToString(cl.Cluster.Arn), "arn:aws:eks:"+vars["AWS_REGION"]+":") ||
		aws.ToString(cl.Cluster.KubernetesNetworkConfig.ServiceIpv4Cidr) == "" {
		t.Errorf("DescribeCluster: %+v", cl.Cluster)
	}
	var notFound *ekstypes.ResourceNotFoundException
	if _, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Errorf("DescribeCluster of another cluster: %v", err)
	}

	// A node group, created (idempotently), ACTIVE by the SDK's waiter.
	create := &eks.CreateNodegroupInput{
		ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk"), NodeRole: aws.String(e2eNodeRole), Subnets: subnets,
		ScalingConfig:      &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredSize: aws.Int32(1)},
		Labels:             map[string]string{"team": "sdk"},
		Tags:               map[string]string{"owner": "sdk-test"},
		ClientRequestToken: aws.String("create-sdk-1"),
	}
	created, err := c.CreateNodegroup(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	if created.Nodegroup.Status != ekstypes.NodegroupStatusCreating || created.Nodegroup.CreatedAt == nil {
		t.Errorf("created %+v", created.Nodegroup)
	}
	if again, err := c.CreateNodegroup(ctx, create); err != nil || aws.ToString(again.Nodegroup.NodegroupArn) != aws.ToString(created.Nodegroup.NodegroupArn) {
		t.Errorf("the same CreateNodegroup again: %v", err)
	}
	changed := *create
	changed.Labels = map[string]string{"team": "other"}
	var invalidRequest *ekstypes.InvalidRequestException
	if _, err := c.CreateNodegroup(ctx, &changed); !errors.As(err, &invalidRequest) {
		t.Errorf("the token again with another request: %v", err)
	}
	changed.ClientRequestToken = nil // the SDK fills in a new one
	var inUse *ekstypes.ResourceInUseException
	if _, err := c.CreateNodegroup(ctx, &changed); !errors.As(err, &inUse) || aws.ToString(inUse.NodegroupName) != "sdk" {
		t.Errorf("a second group of the name: %v", err)
	}
	if err := eks.NewNodegroupActiveWaiter(c, func(o *eks.NodegroupActiveWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay }).
		Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk")}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	ng, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk")})
	if err != nil {
		t.Fatal(err)
	}
	if ng.Nodegroup.Resources == nil || len(ng.Nodegroup.Resources.AutoScalingGroups) != 1 || ng.Nodegroup.Labels["team"] != "sdk" {
		t.Errorf("DescribeNodegroup: %+v", ng.Nodegroup)
	}

	// Typed errors with their context.
	_, err = c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("nope")})
	if !errors.As(err, &notFound) || aws.ToString(notFound.NodegroupName) != "nope" || aws.ToString(notFound.ClusterName) != "kdp" {
		t.Errorf("DescribeNodegroup of a missing group: %v", err)
	}
	var invalid *ekstypes.InvalidParameterException
	bad := &eks.CreateNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("bad"), NodeRole: aws.String(e2eNodeRole), Subnets: subnets,
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(3), MaxSize: aws.Int32(2), DesiredSize: aws.Int32(2)}}
	if _, err := c.CreateNodegroup(ctx, bad); !errors.As(err, &invalid) || !strings.Contains(aws.ToString(invalid.Message), "scalingConfig.minSize") {
		t.Errorf("a bad CreateNodegroup: %v", err)
	}
	if _, err := c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("x"), RoleArn: aws.String(e2eNodeRole),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{}}); !errors.As(err, &invalid) || !strings.Contains(aws.ToString(invalid.Message), "resourcesVpcConfig.subnetIds is required") {
		t.Errorf("CreateCluster without subnets: %v", err)
	}

	// Pages of ListNodegroups.
	second := &eks.CreateNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk-2"), NodeRole: aws.String(e2eNodeRole), Subnets: subnets,
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(0), MaxSize: aws.Int32(1), DesiredSize: aws.Int32(0)}}
	if _, err := c.CreateNodegroup(ctx, second); err != nil {
		t.Fatal(err)
	}
	var names []string
	pages := eks.NewListNodegroupsPaginator(c, &eks.ListNodegroupsInput{ClusterName: aws.String("kdp"), MaxResults: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Nodegroups) > 1 {
			t.Errorf("a page of %d, want 1", len(page.Nodegroups))
		}
		names = append(names, page.Nodegroups...)
	}
	if !slices.Equal(names, []string{"sdk", "sdk-2"}) {
		t.Errorf("pages gave %v", names)
	}

	// A config update, then a version update, each followed to its end.
	scaled, err := c.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk"),
		ScalingConfig: &ekstypes.NodegroupScalingConfig{DesiredSize: aws.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	sdkWaitUpdate(t, c, "sdk", aws.ToString(scaled.Update.Id))
	if _, err := c.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("nope"),
		ScalingConfig: &ekstypes.NodegroupScalingConfig{DesiredSize: aws.Int32(2)}}); !errors.As(err, &notFound) {
		t.Errorf("updating a missing group: %v", err)
	}
	upgraded, err := c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk"),
		ReleaseVersion: aws.String(newestRelease(t, e.DataDir, c, "sdk"))})
	if err != nil {
		var invalid *ekstypes.InvalidParameterException
		if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "nothing to update") {
			t.Fatal(err)
		}
	} else {
		sdkWaitUpdate(t, c, "sdk", aws.ToString(upgraded.Update.Id))
	}
	updates, err := c.ListUpdates(ctx, &eks.ListUpdatesInput{Name: aws.String("kdp"), NodegroupName: aws.String("sdk")})
	if err != nil || !slices.Contains(updates.UpdateIds, aws.ToString(scaled.Update.Id)) {
		t.Errorf("ListUpdates: %v, %+v", err, updates)
	}
	ng, err = c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("sdk")})
	if err != nil || aws.ToInt32(ng.Nodegroup.ScalingConfig.DesiredSize) != 2 {
		t.Errorf("after the update: %v, %+v", err, ng)
	}

	// Tags.
	arn := ng.Nodegroup.NodegroupArn
	if _, err := c.TagResource(ctx, &eks.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || tags.Tags["env"] != "test" || tags.Tags["owner"] != "sdk-test" {
		t.Errorf("tags %v, %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &eks.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env", "owner"}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: arn}); err != nil || len(tags.Tags) != 0 {
		t.Errorf("tags after untagging: %v, %v", tags, err)
	}
	var tagNotFound *ekstypes.NotFoundException
	if _, err := c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: aws.String(strings.Replace(aws.ToString(arn), "/sdk/", "/gone/", 1))}); !errors.As(err, &tagNotFound) {
		t.Errorf("tags of a missing group: %v", err)
	}
	var badRequest *ekstypes.BadRequestException
	if _, err := c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: aws.String("not-an-arn")}); !errors.As(err, &badRequest) {
		t.Errorf("tags of a malformed ARN: %v", err)
	}

	// A Fargate profile, ACTIVE and then deleted by the SDK's waiters.
	fp, err := c.CreateFargateProfile(ctx, &eks.CreateFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("sdk"),
		PodExecutionRoleArn: aws.String(e2ePodRole), Subnets: subnets, Selectors: []ekstypes.FargateProfileSelector{{Namespace: aws.String("serverless")}}})
	if err != nil {
		t.Fatal(err)
	}
	if fp.FargateProfile.Status != ekstypes.FargateProfileStatusCreating {
		t.Errorf("created profile %+v", fp.FargateProfile)
	}
	if err := eks.NewFargateProfileActiveWaiter(c, func(o *eks.FargateProfileActiveWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay }).
		Wait(ctx, &eks.DescribeFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("sdk")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	profiles, err := c.ListFargateProfiles(ctx, &eks.ListFargateProfilesInput{ClusterName: aws.String("kdp")})
	if err != nil || !slices.Equal(profiles.FargateProfileNames, []string{"sdk"}) {
		t.Errorf("ListFargateProfiles: %v, %+v", err, profiles)
	}
	if _, err := c.DeleteFargateProfile(ctx, &eks.DeleteFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("sdk")}); err != nil {
		t.Fatal(err)
	}
	if err := eks.NewFargateProfileDeletedWaiter(c, func(o *eks.FargateProfileDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay }).
		Wait(ctx, &eks.DescribeFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("sdk")}, time.Minute); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"sdk", "sdk-2"} {
		deleted, err := c.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String(name)})
		if err != nil || deleted.Nodegroup.Status != ekstypes.NodegroupStatusDeleting {
			t.Fatalf("DeleteNodegroup %s: %v, %+v", name, err, deleted)
		}
	}
	for _, name := range []string{"sdk", "sdk-2"} {
		if err := eks.NewNodegroupDeletedWaiter(c, func(o *eks.NodegroupDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay }).
			Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String(name)}, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

// newestRelease is the newest release of the group's Kubernetes version
// (kdp's images), or the group's own if it runs the newest.
func newestRelease(t *testing.T, dir string, c *eks.Client, name string) string {
	t.Helper()
	ng, err := c.DescribeNodegroup(context.Background(), &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := kdp(t, "sim", "images", "--data-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("kdp sim images: %s", stderr)
	}
	var images []cloud.Image
	if err := json.Unmarshal([]byte(out), &images); err != nil {
		t.Fatalf("kdp sim images -o json: %v", err)
	}
	best := cloud.Image{}
	for _, img := range images {
		if img.Type == string(ng.Nodegroup.AmiType) && strings.HasPrefix(img.KubernetesVersion, aws.ToString(ng.Nodegroup.Version)+".") && img.Released.After(best.Released) {
			best = img
		}
	}
	return best.ReleaseVersion
}

func sdkWaitUpdate(t *testing.T, c *eks.Client, group, id string) {
	t.Helper()
	testenv.Eventually(t, 3*time.Minute, func() error {
		out, err := c.DescribeUpdate(context.Background(), &eks.DescribeUpdateInput{Name: aws.String("kdp"), NodegroupName: aws.String(group), UpdateId: aws.String(id)})
		if err != nil {
			return err
		}
		switch out.Update.Status {
		case ekstypes.UpdateStatusSuccessful:
			return nil
		case ekstypes.UpdateStatusInProgress:
			return fmt.Errorf("update %s is in progress", id)
		}
		t.Fatalf("update %s ended %s: %+v", id, out.Update.Status, out.Update.Errors)
		return nil
	})
}

// authFailures: requests without a valid signature are refused with the
// error codes AWS clients know, and none reaches the node groups.
func authFailures(t *testing.T, dir string, vars map[string]string) {
	ctx := testenv.Context(t)
	endpoint := vars["AWS_ENDPOINT_URL_EKS"]
	list := &eks.ListNodegroupsInput{ClusterName: aws.String("kdp")}
	code := func(err error) string {
		var api smithy.APIError
		if errors.As(err, &api) {
			return api.ErrorCode()
		}
		return fmt.Sprint(err)
	}

	resp, err := http.Get(endpoint + "/clusters/kdp/node-groups")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("unsigned: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := sdkClient(vars, "AKIAUNKNOWNUNKNOWN00", "whatever").ListNodegroups(ctx, list); code(err) != "UnrecognizedClientException" {
		t.Errorf("an unknown key: %v", err)
	}
	if _, err := sdkClient(vars, vars["AWS_ACCESS_KEY_ID"], "wrong-secret").ListNodegroups(ctx, list); code(err) != "InvalidSignatureException" {
		t.Errorf("a wrong secret: %v", err)
	}

	// Signed ten minutes ago: past the 5 minutes of skew.
	req, _ := http.NewRequest(http.MethodGet, endpoint+"/clusters/kdp/node-groups", nil)
	creds := aws.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"]}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "eks", vars["AWS_REGION"], time.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("a stale signature: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}

	// A credential of its own, then revoked.
	status, out, stderr := kdp(t, "credentials", "create", "ci", "--data-dir", dir, "-o", "json")
	if status != 0 {
		t.Fatalf("kdp credentials create: %s", stderr)
	}
	var cred struct{ AccessKeyID, SecretAccessKey, ARN string }
	if err := json.Unmarshal([]byte(out), &cred); err != nil || cred.AccessKeyID == "" {
		t.Fatalf("kdp credentials create -o json: %v: %s", err, out)
	}
	if _, err := sdkClient(vars, cred.AccessKeyID, cred.SecretAccessKey).ListNodegroups(ctx, list); err != nil {
		t.Errorf("a new credential: %v", err)
	}
	if status, _, stderr := kdp(t, "credentials", "revoke", "ci", "--data-dir", dir); status != 0 {
		t.Fatalf("kdp credentials revoke: %s", stderr)
	}
	if _, err := sdkClient(vars, cred.AccessKeyID, cred.SecretAccessKey).ListNodegroups(ctx, list); code(err) != "UnrecognizedClientException" {
		t.Errorf("a revoked credential: %v", err)
	}
}

// awsCLI drives the EKS API with the aws CLI of this machine, with the
// environment kdp env exports.
func awsCLI(t *testing.T, vars map[string]string, subnets []string) {
	cli := newAWS(t, vars)
	run := func(args ...string) (int, string, string) { return cli.run(append([]string{"eks"}, args...)...) }
	ok := func(args ...string) map[string]any {
		t.Helper()
		return cli.ok(append([]string{"eks"}, args...)...)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, _, stderr := run(args...)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("aws eks %s: exit %d, %q; want an error with %q", strings.Join(args, " "), code, stderr, want)
		}
	}
	followUpdate := func(group string, out map[string]any) {
		t.Helper()
		id := out["update"].(map[string]any)["id"].(string)
		testenv.Eventually(t, 3*time.Minute, func() error {
			u := ok("describe-update", "--name", "kdp", "--nodegroup-name", group, "--update-id", id)["update"].(map[string]any)
			if u["status"] != "Successful" {
				return fmt.Errorf("update %s is %v: %v", id, u["status"], u["errors"])
			}
			return nil
		})
	}

	if got := ok("list-clusters")["clusters"]; fmt.Sprint(got) != "[kdp]" {
		t.Errorf("list-clusters: %v", got)
	}
	create := append([]string{"create-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "cli", "--node-role", e2eNodeRole,
		"--scaling-config", "minSize=1,maxSize=3,desiredSize=1", "--labels", "team=cli", "--subnets"}, subnets...)
	ng := ok(create...)["nodegroup"].(map[string]any)
	if ng["status"] != "CREATING" || ng["nodegroupName"] != "cli" {
		t.Errorf("create-nodegroup: %v", ng)
	}
	ok("wait", "nodegroup-active", "--cluster-name", "kdp", "--nodegroup-name", "cli")
	followUpdate("cli", ok("update-nodegroup-config", "--cluster-name", "kdp", "--nodegroup-name", "cli", "--scaling-config", "desiredSize=2"))
	got := ok("describe-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "cli")["nodegroup"].(map[string]any)
	if sc := got["scalingConfig"].(map[string]any); sc["desiredSize"] != 2.0 || got["status"] != "ACTIVE" {
		t.Errorf("after scaling: %v", got)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(got["createdAt"])); err != nil {
		t.Errorf("createdAt %v: the CLI renders the epoch seconds as ISO 8601: %v", got["createdAt"], err)
	}
	code, out, stderr := run("update-nodegroup-version", "--cluster-name", "kdp", "--nodegroup-name", "cli")
	switch {
	case code == 0:
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		followUpdate("cli", v)
	case !strings.Contains(stderr, "nothing to update"):
		t.Errorf("update-nodegroup-version: exit %d: %s", code, stderr)
	}

	fails("(ResourceNotFoundException) when calling the DescribeNodegroup operation: No node group found for name: nope.",
		"describe-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "nope")
	fails("(InvalidParameterException) when calling the CreateNodegroup operation", "create-nodegroup", "--cluster-name", "kdp",
		"--nodegroup-name", "bad", "--node-role", e2eNodeRole, "--subnets", subnets[0], "--scaling-config", "minSize=3,maxSize=2,desiredSize=2")
	fails("(ResourceNotFoundException) when calling the ListNodegroups operation: No cluster found for name: other.", "list-nodegroups", "--cluster-name", "other")
	fails("(InvalidRequestException) when calling the DeleteCluster operation: Cluster kdp is the one kdp runs", "delete-cluster", "--name", "kdp")

	fp := ok("create-fargate-profile", "--cluster-name", "kdp", "--fargate-profile-name", "cli", "--pod-execution-role-arn", e2ePodRole,
		"--subnets", subnets[0], "--selectors", "namespace=cli-serverless")["fargateProfile"].(map[string]any)
	if fp["status"] != "CREATING" {
		t.Errorf("create-fargate-profile: %v", fp)
	}
	ok("wait", "fargate-profile-active", "--cluster-name", "kdp", "--fargate-profile-name", "cli")
	ok("delete-fargate-profile", "--cluster-name", "kdp", "--fargate-profile-name", "cli")
	ok("wait", "fargate-profile-deleted", "--cluster-name", "kdp", "--fargate-profile-name", "cli")

	ok("delete-nodegroup", "--cluster-name", "kdp", "--nodegroup-name", "cli")
	ok("wait", "nodegroup-deleted", "--cluster-name", "kdp", "--nodegroup-name", "cli")
	// None left: an empty list, as EKS answers it (a script reads
	// .nodegroups), not an empty object.
	if got, present := ok("list-nodegroups", "--cluster-name", "kdp")["nodegroups"]; !present || fmt.Sprint(got) != "[]" {
		t.Errorf("list-nodegroups of a cluster with none: %v (present %v), want []", got, present)
	}
}

// TestE2E_EKSAPIOverTLS: with --eks-api-tls the EKS API is served over
// HTTPS with a certificate of kdp's CA, and kdp env exports that CA as
// AWS_CA_BUNDLE: the aws CLI and the Go SDK (given the bundle, as the
// SDKs read it) trust it; without the bundle a client refuses the server.
func TestE2E_EKSAPIOverTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true, Args: []string{"--eks-api-tls"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Stop(); e.Cleanup() }()
	vars := eksEnv(t, dir)
	if !strings.HasPrefix(vars["AWS_ENDPOINT_URL_EKS"], "https://") || vars["AWS_CA_BUNDLE"] == "" {
		t.Fatalf("kdp env with --eks-api-tls: endpoint %q, AWS_CA_BUNDLE %q", vars["AWS_ENDPOINT_URL_EKS"], vars["AWS_CA_BUNDLE"])
	}
	ctx := testenv.Context(t)

	// The SDK without kdp's CA refuses the server's certificate.
	if _, err := sdkClient(vars, "", "").ListClusters(ctx, &eks.ListClustersInput{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without kdp's CA: %v, want a certificate error", err)
	}
	// With it, as the SDKs take AWS_CA_BUNDLE.
	pem, err := os.ReadFile(vars["AWS_CA_BUNDLE"])
	if err != nil {
		t.Fatal(err)
	}
	c := eks.New(eks.Options{
		BaseEndpoint: aws.String(vars["AWS_ENDPOINT_URL_EKS"]), Region: vars["AWS_REGION"],
		Credentials: credentials.NewStaticCredentialsProvider(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: poolOf(t, pem)}}},
	})
	out, err := c.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil || !slices.Equal(out.Clusters, []string{"kdp"}) {
		t.Errorf("ListClusters over TLS: %v, %+v", err, out)
	}

	// The aws CLI, with what kdp env exports.
	cmd := exec.Command("aws", "eks", "list-clusters")
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), `"kdp"`) {
		t.Errorf("aws eks list-clusters over TLS: %v: %s", err, b)
	}
}

func poolOf(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("AWS_CA_BUNDLE holds no certificate")
	}
	return pool
}
