package eksapi

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseks "github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// TestClientKeepsProblems: an InvalidParameterException's problems, each
// with its member, reach kdp's Client (so that the kdp CLI names each
// one's flag), while the AWS SDK decodes the same answer as EKS's error.
func TestClientKeepsProblems(t *testing.T) {
	h := newHarness(t)
	problems := []eks.Problem{
		{Field: "version", Message: "unsupported Kubernetes version 1.20: kdp runs 1.37"},
		{Field: "resourcesVpcConfig.subnetIds[0]", Message: "The subnet ID 'subnet-nope' does not exist"},
		{Message: "a problem of no member"},
	}
	h.api.set("CreateCluster", nil, &eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "dev",
		Message: "three problems", Fields: []string{"version", "resourcesVpcConfig.subnetIds[0]"}, Problems: problems})
	ctx := context.Background()

	c := &Client{Endpoint: h.srv.URL, AccessKeyID: h.cred.AccessKeyID, SecretAccessKey: h.cred.SecretAccessKey, Region: testRegion}
	err := c.Call(ctx, "CreateCluster", &types.CreateClusterRequest{Name: "dev", RoleArn: "r", ResourcesVpcConfig: &types.VpcConfigRequest{}}, &types.CreateClusterResponse{})
	e, ok := eks.AsError(err)
	if !ok {
		t.Fatalf("Call: %v, not an *eks.Error", err)
	}
	want := &eks.Error{Code: eks.CodeInvalidParameter, ClusterName: "dev", Message: "three problems",
		Fields: []string{"version", "resourcesVpcConfig.subnetIds[0]"}, Problems: problems}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("Call's error:\n got %#v\nwant %#v", e, want)
	}

	_, err = h.client().CreateCluster(ctx, &awseks.CreateClusterInput{Name: aws.String("dev"), RoleArn: aws.String("r"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{}})
	var ipe *ekstypes.InvalidParameterException
	if !errors.As(err, &ipe) || aws.ToString(ipe.Message) != "three problems" || aws.ToString(ipe.ClusterName) != "dev" {
		t.Errorf("the SDK's error: %v", err)
	}
}
