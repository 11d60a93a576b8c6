package eks_test

import (
	"testing"

	"github.com/kdp-project/kdp/internal/eks"
)

func TestParseARN(t *testing.T) {
	const acct = "arn:aws:eks:us-east-1:111122223333:"
	for _, tc := range []struct {
		arn  string
		want eks.ResourceARN
		bad  bool
	}{
		{arn: acct + "cluster/kdp", want: eks.ResourceARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", Kind: eks.KindCluster, Cluster: "kdp"}},
		{arn: acct + "nodegroup/kdp/web/7f1c2c4e-0b7e-4b5e-9d7e-3a1f1b2c3d4e", want: eks.ResourceARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", Kind: eks.KindNodegroup, Cluster: "kdp", Name: "web", UID: "7f1c2c4e-0b7e-4b5e-9d7e-3a1f1b2c3d4e"}},
		{arn: acct + "fargateprofile/kdp/serverless/abc", want: eks.ResourceARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", Kind: eks.KindFargateProfile, Cluster: "kdp", Name: "serverless", UID: "abc"}},
		{arn: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/kdp", want: eks.ResourceARN{Partition: "aws-cn", Region: "cn-north-1", Account: "111122223333", Kind: eks.KindCluster, Cluster: "kdp"}},
		{arn: acct + "addon/kdp/vpc-cni/abc", want: eks.ResourceARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", Kind: "addon", Cluster: "kdp"}},
		{arn: "", bad: true},
		{arn: "kdp", bad: true},
		{arn: "arn:aws:eks:us-east-1:111122223333", bad: true},
		{arn: "arn::eks:us-east-1:111122223333:cluster/kdp", bad: true},
		{arn: "arn:aws:ec2:us-east-1:111122223333:cluster/kdp", bad: true},
		{arn: "arn:aws:eks::111122223333:cluster/kdp", bad: true},
		{arn: "arn:aws:eks:us-east-1:1234:cluster/kdp", bad: true},
		{arn: "arn:aws:eks:us-east-1:11112222333x:cluster/kdp", bad: true},
		{arn: acct + "cluster/", bad: true},
		{arn: acct + "cluster/kdp/extra", bad: true},
		{arn: acct + "nodegroup/kdp/web", bad: true},
		{arn: acct + "nodegroup/kdp//uid", bad: true},
		{arn: acct + "fargateprofile/kdp/p/uid/more", bad: true},
		{arn: acct + "widget/kdp", bad: true},
	} {
		got, err := eks.ParseARN(tc.arn)
		switch {
		case tc.bad && err == nil:
			t.Errorf("ParseARN(%q) = %+v, want an error", tc.arn, got)
		case !tc.bad && err != nil:
			t.Errorf("ParseARN(%q): %v", tc.arn, err)
		case !tc.bad && got != tc.want:
			t.Errorf("ParseARN(%q) = %+v, want %+v", tc.arn, got, tc.want)
		}
	}
}
