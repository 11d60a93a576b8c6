package eksapi

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awseks "github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

const nodegroupARN = "arn:aws:eks:us-west-2:111122223333:nodegroup/kdp/web/6ec9b1a4-2f36-4e4b-9b1e-0d6ad4a0f3c1"

func ptr[T any](v T) *T { return &v }

// Test_Unit_SDKLabelsAndOutput: URI labels reach the Service decoded, the
// principal is the signer's ARN, the output (timestamps with a fraction
// included) comes back as the SDK reads it, with the request id.
func Test_Unit_SDKLabelsAndOutput(t *testing.T) {
	h := newHarness(t)
	created := time.Date(2026, 12, 1, 22, 22, 18, 250e6, time.UTC)
	h.api.set("DescribeNodegroup", &types.DescribeNodegroupResponse{Nodegroup: &types.Nodegroup{
		NodegroupName: "web", ClusterName: "kdp", NodegroupArn: nodegroupARN, Status: types.NodegroupStatusActive,
		CreatedAt: types.NewTimestamp(created), ScalingConfig: &types.NodegroupScalingConfig{MinSize: ptr[int32](0), MaxSize: ptr[int32](5), DesiredSize: ptr[int32](3)},
		Labels: map[string]string{"team": "web"}, Taints: []types.Taint{{Key: "dedicated", Value: "web", Effect: types.TaintEffectNoSchedule}},
	}}, nil)
	out, err := h.client().DescribeNodegroup(context.Background(), &awseks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("web.v1~x")})
	if err != nil {
		t.Fatal(err)
	}
	in := h.api.input("DescribeNodegroup").(*types.DescribeNodegroupRequest)
	if in.ClusterName != "kdp" || in.NodegroupName != "web.v1~x" {
		t.Errorf("the Service got %+v", in)
	}
	if h.api.principal != h.cred.ARN || !strings.HasPrefix(h.cred.ARN, "arn:aws:iam::"+testAccount+":user/") {
		t.Errorf("principal %q, want %q", h.api.principal, h.cred.ARN)
	}
	ng := out.Nodegroup
	if !ng.CreatedAt.Equal(created) || *ng.ScalingConfig.MinSize != 0 || *ng.ScalingConfig.DesiredSize != 3 ||
		ng.Status != ekstypes.NodegroupStatusActive || ng.Taints[0].Effect != ekstypes.TaintEffectNoSchedule || ng.Labels["team"] != "web" {
		t.Errorf("the SDK read %+v", ng)
	}
	if ng.ModifiedAt != nil || ng.Resources != nil {
		t.Errorf("absent members came back: %+v", ng)
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || len(id) != 36 {
		t.Errorf("request id %q", id)
	}
}

// Test_Unit_SDKQueryAndARNs: query members (repeated keys for lists), and
// ARNs in the path, percent-encoded as the SDK sends them.
func Test_Unit_SDKQueryAndARNs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.client()

	h.api.set("ListUpdates", &types.ListUpdatesResponse{UpdateIds: []string{"u1", "u2"}, NextToken: "tok/2=="}, nil)
	lu, err := c.ListUpdates(ctx, &awseks.ListUpdatesInput{Name: aws.String("kdp"), NodegroupName: aws.String("web"), MaxResults: aws.Int32(2), NextToken: aws.String("a+b/c=")})
	if err != nil {
		t.Fatal(err)
	}
	got := h.api.input("ListUpdates").(*types.ListUpdatesRequest)
	if got.Name != "kdp" || got.NodegroupName != "web" || got.MaxResults == nil || *got.MaxResults != 2 || got.NextToken != "a+b/c=" {
		t.Errorf("ListUpdates got %+v", got)
	}
	if !reflect.DeepEqual(lu.UpdateIds, []string{"u1", "u2"}) || aws.ToString(lu.NextToken) != "tok/2==" {
		t.Errorf("ListUpdates answered %+v", lu)
	}

	if _, err := c.UntagResource(ctx, &awseks.UntagResourceInput{ResourceArn: aws.String(nodegroupARN), TagKeys: []string{"team", "cost center"}}); err != nil {
		t.Fatal(err)
	}
	untag := h.api.input("UntagResource").(*types.UntagResourceRequest)
	slices.Sort(untag.TagKeys) // the signer puts the query in canonical order
	if untag.ResourceArn != nodegroupARN || !reflect.DeepEqual(untag.TagKeys, []string{"cost center", "team"}) {
		t.Errorf("UntagResource got %+v", untag)
	}

	h.api.set("ListTagsForResource", &types.ListTagsForResourceResponse{Tags: map[string]string{"team": "web"}}, nil)
	lt, err := c.ListTagsForResource(ctx, &awseks.ListTagsForResourceInput{ResourceArn: aws.String(nodegroupARN)})
	if err != nil {
		t.Fatal(err)
	}
	if arn := h.api.input("ListTagsForResource").(*types.ListTagsForResourceRequest).ResourceArn; arn != nodegroupARN || lt.Tags["team"] != "web" {
		t.Errorf("ListTagsForResource got %q, answered %v", arn, lt.Tags)
	}

	if _, err := c.TagResource(ctx, &awseks.TagResourceInput{ResourceArn: aws.String(nodegroupARN), Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	if tag := h.api.input("TagResource").(*types.TagResourceRequest); tag.ResourceArn != nodegroupARN || tag.Tags["a"] != "1" {
		t.Errorf("TagResource got %+v", tag)
	}

	if _, err := c.ListClusters(ctx, &awseks.ListClustersInput{Include: []string{"all", "none"}}); err != nil {
		t.Fatal(err)
	}
	if lc := h.api.input("ListClusters").(*types.ListClustersRequest); !reflect.DeepEqual(lc.Include, []string{"all", "none"}) || lc.MaxResults != nil {
		t.Errorf("ListClusters got %+v", lc)
	}
}

// Test_Unit_SDKBody: a body with nested members, lists, maps and the
// idempotency token the SDK fills in.
func Test_Unit_SDKBody(t *testing.T) {
	h := newHarness(t)
	_, err := h.client().CreateNodegroup(context.Background(), &awseks.CreateNodegroupInput{
		ClusterName: aws.String("kdp"), NodegroupName: aws.String("web"), NodeRole: aws.String("arn:aws:iam::111122223333:role/node"),
		Subnets: []string{"subnet-1", "subnet-2"}, InstanceTypes: []string{"m5.large"}, CapacityType: ekstypes.CapacityTypesSpot,
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(0), MaxSize: aws.Int32(5), DesiredSize: aws.Int32(0)},
		Labels:        map[string]string{"team": "web"}, Tags: map[string]string{"cost": "1"},
		Taints:       []ekstypes.Taint{{Key: aws.String("dedicated"), Value: aws.String("web"), Effect: ekstypes.TaintEffectNoExecute}},
		UpdateConfig: &ekstypes.NodegroupUpdateConfig{MaxUnavailablePercentage: aws.Int32(33), UpdateStrategy: ekstypes.NodegroupUpdateStrategiesMinimal},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := h.api.input("CreateNodegroup").(*types.CreateNodegroupRequest)
	want := types.CreateNodegroupRequest{
		ClusterName: "kdp", NodegroupName: "web", NodeRole: "arn:aws:iam::111122223333:role/node",
		Subnets: []string{"subnet-1", "subnet-2"}, InstanceTypes: []string{"m5.large"}, CapacityType: types.CapacityTypesSpot,
		ScalingConfig: &types.NodegroupScalingConfig{MinSize: ptr[int32](0), MaxSize: ptr[int32](5), DesiredSize: ptr[int32](0)},
		Labels:        map[string]string{"team": "web"}, Tags: map[string]string{"cost": "1"},
		Taints:       []types.Taint{{Key: "dedicated", Value: "web", Effect: types.TaintEffectNoExecute}},
		UpdateConfig: &types.NodegroupUpdateConfig{MaxUnavailablePercentage: ptr[int32](33), UpdateStrategy: types.NodegroupUpdateStrategiesMinimal},
	}
	if len(in.ClientRequestToken) != 36 {
		t.Errorf("clientRequestToken %q: the SDK fills in a UUID", in.ClientRequestToken)
	}
	want.ClientRequestToken = in.ClientRequestToken
	if !reflect.DeepEqual(*in, want) {
		t.Errorf("the Service got\n%+v\nwant\n%+v", *in, want)
	}
}

// Test_Unit_SDKTypedErrors: the SDK decodes each error as its typed error,
// with the context members, conformed to what the operation declares.
func Test_Unit_SDKTypedErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.client()
	notFound := &eks.Error{Code: eks.CodeResourceNotFound, Message: "No node group found for name: web.", ClusterName: "kdp", NodegroupName: "web", FargateProfileName: "fp"}

	h.api.set("DescribeNodegroup", nil, notFound)
	_, err := c.DescribeNodegroup(ctx, &awseks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("web")})
	var rnf *ekstypes.ResourceNotFoundException
	if !errors.As(err, &rnf) || aws.ToString(rnf.ClusterName) != "kdp" || aws.ToString(rnf.NodegroupName) != "web" || rnf.ErrorMessage() != notFound.Message {
		t.Fatalf("DescribeNodegroup: %v", err)
	}
	if status := httpStatus(err); status != 404 {
		t.Errorf("status %d", status)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || len(re.ServiceRequestID()) != 36 {
		t.Errorf("request id %q", re.ServiceRequestID())
	}

	h.api.set("DescribeFargateProfile", nil, &eks.Error{Code: eks.CodeResourceNotFound, Message: "no profile", ClusterName: "kdp", FargateProfileName: "fp"})
	_, err = c.DescribeFargateProfile(ctx, &awseks.DescribeFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("fp")})
	if !errors.As(err, &rnf) || aws.ToString(rnf.FargateProfileName) != "fp" {
		t.Errorf("DescribeFargateProfile: %v", err)
	}

	// The tag operations declare NotFoundException and BadRequestException.
	h.api.set("ListTagsForResource", nil, notFound)
	_, err = c.ListTagsForResource(ctx, &awseks.ListTagsForResourceInput{ResourceArn: aws.String(nodegroupARN)})
	var nf *ekstypes.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != notFound.Message || httpStatus(err) != 404 {
		t.Errorf("ListTagsForResource: %v", err)
	}
	h.api.set("TagResource", nil, &eks.Error{Code: eks.CodeInvalidParameter, Message: "bad tag"})
	_, err = c.TagResource(ctx, &awseks.TagResourceInput{ResourceArn: aws.String(nodegroupARN), Tags: map[string]string{"a": "b"}})
	var br *ekstypes.BadRequestException
	if !errors.As(err, &br) || br.ErrorMessage() != "bad tag" || httpStatus(err) != 400 {
		t.Errorf("TagResource: %v", err)
	}

	h.api.set("DeleteNodegroup", nil, &eks.Error{Code: eks.CodeResourceInUse, Message: "in use", ClusterName: "kdp", NodegroupName: "web"})
	_, err = c.DeleteNodegroup(ctx, &awseks.DeleteNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("web")})
	var riu *ekstypes.ResourceInUseException
	if !errors.As(err, &riu) || aws.ToString(riu.NodegroupName) != "web" || httpStatus(err) != 409 {
		t.Errorf("DeleteNodegroup: %v", err)
	}

	// CreateFargateProfile does not declare ResourceInUseException: the
	// request is invalid given the state of the cluster.
	h.api.set("CreateFargateProfile", nil, &eks.Error{Code: eks.CodeResourceInUse, Message: "exists", ClusterName: "kdp", FargateProfileName: "fp"})
	_, err = c.CreateFargateProfile(ctx, &awseks.CreateFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("fp"), PodExecutionRoleArn: aws.String("arn:aws:iam::1:role/x")})
	var ce *ekstypes.InvalidRequestException
	if !errors.As(err, &ce) || aws.ToString(ce.ClusterName) != "kdp" || httpStatus(err) != 400 {
		t.Errorf("CreateFargateProfile (in use): %v", err)
	}
	h.api.set("CreateFargateProfile", nil, &eks.Error{Code: eks.CodeUnsupportedAZ, Message: "zone", ValidZones: []string{"us-west-2a", "us-west-2b"}})
	_, err = c.CreateFargateProfile(ctx, &awseks.CreateFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("fp"), PodExecutionRoleArn: aws.String("arn:aws:iam::1:role/x")})
	var uaz *ekstypes.UnsupportedAvailabilityZoneException
	if !errors.As(err, &uaz) || !reflect.DeepEqual(uaz.ValidZones, []string{"us-west-2a", "us-west-2b"}) {
		t.Errorf("CreateFargateProfile (zones): %v", err)
	}

	h.api.set("UpdateNodegroupVersion", nil, &eks.Error{Code: eks.CodeInvalidParameter, Message: "version: 1.99 is not a version kdp runs", Fields: []string{"version"}, NodegroupName: "web"})
	_, err = c.UpdateNodegroupVersion(ctx, &awseks.UpdateNodegroupVersionInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("web"), Version: aws.String("1.99")})
	var ip *ekstypes.InvalidParameterException
	if !errors.As(err, &ip) || aws.ToString(ip.NodegroupName) != "web" || aws.ToString(ip.ClusterName) != "" {
		t.Errorf("UpdateNodegroupVersion: %v", err)
	}
}

// Test_Unit_SDKFaults: a fault (an error that is no *eks.Error, a panic,
// a ServerException) is a 500 ServerException; only the Service's own
// message reaches the client, never the error behind it.
func Test_Unit_SDKFaults(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.client()
	for name, fault := range map[string]error{
		"plain error": errors.New("etcd is on fire: secret=hunter2"),
		"panic":       errPanic,
		"wrapped":     errors.Join(errors.New("secret=hunter2"), &eks.Error{Code: "NoSuchCode", Message: "secret=hunter2"}),
	} {
		h.api.set("ListNodegroups", nil, fault)
		_, err := c.ListNodegroups(ctx, &awseks.ListNodegroupsInput{ClusterName: aws.String("kdp")})
		var se *ekstypes.ServerException
		if !errors.As(err, &se) || httpStatus(err) != 500 {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Contains(se.ErrorMessage(), "hunter2") || !strings.Contains(se.ErrorMessage(), "request id ") {
			t.Errorf("%s: message %q", name, se.ErrorMessage())
		}
	}
	h.api.set("ListNodegroups", nil, &eks.Error{Code: eks.CodeServer, Message: "kdp could not complete the request: listing failed; see kdp's log", ClusterName: "kdp", Err: errors.New("secret=hunter2")})
	_, err := c.ListNodegroups(ctx, &awseks.ListNodegroupsInput{ClusterName: aws.String("kdp")})
	var se *ekstypes.ServerException
	if !errors.As(err, &se) || !strings.HasPrefix(se.ErrorMessage(), "kdp could not complete the request: listing failed") ||
		strings.Contains(se.ErrorMessage(), "hunter2") || aws.ToString(se.ClusterName) != "kdp" {
		t.Errorf("ServerException: %v", err)
	}
}

// Test_Unit_SDKValidation: the model's constraints, in AWS's words, as the
// operation's InvalidParameterException (BadRequestException for the tag
// operations).
func Test_Unit_SDKValidation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.client()
	_, err := c.ListNodegroups(ctx, &awseks.ListNodegroupsInput{ClusterName: aws.String("kdp"), MaxResults: aws.Int32(0)})
	var ip *ekstypes.InvalidParameterException
	want := "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
	if !errors.As(err, &ip) || ip.ErrorMessage() != want || aws.ToString(ip.ClusterName) != "kdp" {
		t.Errorf("maxResults 0: %v", err)
	}
	if h.api.input("ListNodegroups") != nil {
		t.Error("the Service was called with an invalid input")
	}
	_, err = c.UntagResource(ctx, &awseks.UntagResourceInput{ResourceArn: aws.String(nodegroupARN), TagKeys: []string{}})
	var br *ekstypes.BadRequestException
	if !errors.As(err, &br) || !strings.Contains(br.ErrorMessage(), "Value null at 'tagKeys' failed to satisfy constraint: Member must not be null") {
		t.Errorf("no tag keys: %v", err)
	}
}

// Test_Unit_SDKUnsupported: an operation kdp does not serve answers an
// error it declares, naming it and what kdp serves.
func Test_Unit_SDKUnsupported(t *testing.T) {
	h := newHarness(t)
	_, err := h.client().CreateEksAnywhereSubscription(context.Background(), &awseks.CreateEksAnywhereSubscriptionInput{Name: aws.String("sub"), Term: &ekstypes.EksAnywhereSubscriptionTerm{Duration: 12, Unit: ekstypes.EksAnywhereSubscriptionTermUnitMonths}})
	var ce *ekstypes.ClientException
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.ErrorMessage(), "CreateEksAnywhereSubscription is not supported by kdp; it serves: AssociateAccessPolicy, CreateAccessEntry, CreateCluster,") || httpStatus(err) != 400 {
		t.Fatalf("CreateEksAnywhereSubscription: %v", err)
	}
	_, err = h.client().ListAddons(context.Background(), &awseks.ListAddonsInput{ClusterName: aws.String("kdp")})
	var ir *ekstypes.InvalidRequestException
	if !errors.As(err, &ir) || !strings.Contains(ir.ErrorMessage(), "ListAddons is not supported by kdp") {
		t.Fatalf("ListAddons: %v", err)
	}
	recs := h.audit.records(t)
	if len(recs) != 1 || recs[0].Operation != "CreateEksAnywhereSubscription" || recs[0].ErrorCode != eks.CodeClient || recs[0].Status != 400 {
		t.Errorf("audit: %+v", recs)
	}
}

// Test_Unit_SDKAuthFailures: a wrong secret and an unknown key, as the SDK
// sees them; both audited.
func Test_Unit_SDKAuthFailures(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, tc := range []struct {
		cred aws.Credentials
		code string
	}{
		{aws.Credentials{AccessKeyID: h.cred.AccessKeyID, SecretAccessKey: "wrong"}, "InvalidSignatureException"},
		{aws.Credentials{AccessKeyID: "AKIANOTAKEYOFKDP0000", SecretAccessKey: "x"}, "UnrecognizedClientException"},
		{aws.Credentials{AccessKeyID: h.cred.AccessKeyID, SecretAccessKey: h.cred.SecretAccessKey, SessionToken: "tok"}, "UnrecognizedClientException"},
	} {
		_, err := h.client(tc.cred).DescribeCluster(ctx, &awseks.DescribeClusterInput{Name: aws.String("kdp")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || httpStatus(err) != 403 || strings.Contains(ae.ErrorMessage(), h.cred.SecretAccessKey) {
			t.Errorf("%s: %v", tc.code, err)
		}
	}
	if h.api.input("DescribeCluster") != nil {
		t.Error("an unauthenticated request reached the Service")
	}
	recs := h.audit.records(t)
	if len(recs) != 3 || recs[0].ErrorCode != "InvalidSignatureException" || recs[0].AccessKeyID != h.cred.AccessKeyID || recs[0].Principal != "" ||
		recs[0].Operation != "DescribeCluster" || recs[0].Status != 403 || recs[1].AccessKeyID != "AKIANOTAKEYOFKDP0000" {
		t.Errorf("audit: %+v", recs)
	}
}

// Test_Unit_AuditAndMetrics: a mutating request is audited with who, what
// and how it ended; a read is not; both are counted.
func Test_Unit_AuditAndMetrics(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.client()
	before := testutil.ToFloat64(requestsTotal.WithLabelValues("DeleteFargateProfile", "200"))
	if _, err := c.DeleteFargateProfile(ctx, &awseks.DeleteFargateProfileInput{ClusterName: aws.String("kdp"), FargateProfileName: aws.String("fp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeCluster(ctx, &awseks.DescribeClusterInput{Name: aws.String("kdp")}); err != nil {
		t.Fatal(err)
	}
	h.api.set("CreateNodegroup", nil, &eks.Error{Code: eks.CodeResourceInUse, Message: "exists"})
	_, _ = c.CreateNodegroup(ctx, &awseks.CreateNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("web"), NodeRole: aws.String("r"), Subnets: []string{"s"}})
	_, _ = c.UntagResource(ctx, &awseks.UntagResourceInput{ResourceArn: aws.String(nodegroupARN), TagKeys: []string{"a"}})

	recs := h.audit.records(t)
	if len(recs) != 3 {
		t.Fatalf("audit: %+v", recs)
	}
	r := recs[0]
	if _, err := time.Parse(time.RFC3339, r.Time); err != nil || len(r.RequestID) != 36 || r.Principal != h.cred.ARN || r.AccessKeyID != h.cred.AccessKeyID ||
		r.Operation != "DeleteFargateProfile" || r.Resource != "fargateprofile/kdp/fp" || r.Status != 200 || r.ErrorCode != "" ||
		!strings.HasSuffix(r.Duration, "s") || r.SourceIP != "127.0.0.1" || !strings.Contains(r.UserAgent, "aws-sdk-go-v2") {
		t.Errorf("audit record %+v", r)
	}
	if r := recs[1]; r.Operation != "CreateNodegroup" || r.Resource != "nodegroup/kdp/web" || r.Status != 409 || r.ErrorCode != eks.CodeResourceInUse {
		t.Errorf("audit record %+v", r)
	}
	if r := recs[2]; r.Operation != "UntagResource" || r.Resource != nodegroupARN {
		t.Errorf("audit record %+v", r)
	}
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues("DeleteFargateProfile", "200")); got != before+1 {
		t.Errorf("kdp_eks_api_requests_total{DeleteFargateProfile,200}: %v, want %v", got, before+1)
	}
	if n := testutil.CollectAndCount(requestDuration, "kdp_eks_api_request_duration_seconds"); n == 0 {
		t.Error("no duration observed")
	}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
