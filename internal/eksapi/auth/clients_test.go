package auth

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// goSDKCalls makes the calls testdata/sign.py makes, with aws-sdk-go-v2's
// EKS client, and returns each one's error.
func goSDKCalls(t *testing.T, endpoint string, cred Credential, arn string) map[string]error {
	t.Helper()
	c := eks.New(eks.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}, nil
		}),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	errs := map[string]error{}
	_, errs["ListNodegroups"] = c.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("kdp"), MaxResults: aws.Int32(5), NextToken: aws.String("abc/def==")})
	_, errs["CreateNodegroup"] = c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("ng"),
		Subnets: []string{"subnet-1"}, NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Labels: map[string]string{"team": "web"},
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredSize: aws.Int32(2)}})
	_, errs["DescribeNodegroup"] = c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("ng")})
	_, errs["TagResource"] = c.TagResource(ctx, &eks.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"team": "web"}})
	_, errs["UntagResource"] = c.UntagResource(ctx, &eks.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "b"}})
	_, errs["DeleteNodegroup"] = c.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("kdp"), NodegroupName: aws.String("ng")})
	return errs
}
