package eks_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/testenv"
)

// Tags on each kind of ARN kdp has: the cluster's (kept on a ConfigMap,
// shown by DescribeCluster), a node group's (its spec.tags) and a Fargate
// profile's (its spec.tags, which stay changeable, the profile ACTIVE).
func TestIntegration_TagsOnEveryKindOfARN(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	cleanupClusterTags(t)
	account := accountID(t, k)

	clusterARN := "arn:aws:eks:us-east-1:" + account + ":cluster/" + clusterName
	exerciseTags(t, k, clusterARN)
	tagResource(t, k, clusterARN, map[string]string{"env": "test"})
	if c := describeCluster(t, k); !maps.Equal(c.Tags, map[string]string{"env": "test"}) {
		t.Errorf("DescribeCluster shows tags %v", c.Tags)
	}

	ng := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "tagged"}, Spec: eksv1.NodeGroupSpec{
		ScalingConfig: &eksv1.ScalingConfig{MinSize: 0, MaxSize: 1, DesiredSize: 0},
		Tags:          map[string]string{"kept": "yes"},
	}}
	if err := env.Client.Create(ctx, ng); err != nil {
		t.Fatal(err)
	}
	cleanupNodeGroup(t, ng.Name)
	ngARN := "arn:aws:eks:us-east-1:" + account + ":nodegroup/" + clusterName + "/tagged/" + string(ng.UID)
	if got := listTags(t, k, ngARN); !maps.Equal(got, map[string]string{"kept": "yes"}) {
		t.Errorf("a new node group's tags: %v", got)
	}
	exerciseTags(t, k, ngARN)
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "tagged"}, ng); err != nil || !maps.Equal(ng.Spec.Tags, map[string]string{"kept": "yes"}) {
		t.Errorf("the node group's spec.tags: %v, %v", ng.Spec.Tags, err)
	}

	fp := createFargateProfile(t, k, "tagged", "tagged")
	waitFargateProfile(t, k, "tagged", types.FargateProfileStatusActive)
	exerciseTags(t, k, fp.FargateProfileArn)
	tagResource(t, k, fp.FargateProfileArn, map[string]string{"team": "web"})
	// Describe reads the cache, a moment behind.
	testenv.Eventually(t, 10*time.Second, func() error {
		if got := describeFargateProfile(t, k, "tagged"); !maps.Equal(got.Tags, map[string]string{"team": "web"}) || got.Status != types.FargateProfileStatusActive {
			return fmt.Errorf("DescribeFargateProfile shows tags %v, status %s", got.Tags, got.Status)
		}
		obj := &eksv1.FargateProfile{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "tagged"}, obj); err != nil || obj.Status.ObservedGeneration != obj.Generation {
			return fmt.Errorf("the retagged profile's status observes generation %d of %d (%v)", obj.Status.ObservedGeneration, obj.Generation, err)
		}
		return nil
	})
}

// exerciseTags tags a resource, changes a tag, untags one (and one it
// does not have), and checks ListTagsForResource at each step; the
// resource's tags are as they were at the end.
func exerciseTags(t *testing.T, k *kdp, arn string) {
	t.Helper()
	before := listTags(t, k, arn)
	want := maps.Clone(before)
	if want == nil {
		want = map[string]string{}
	}
	tagResource(t, k, arn, map[string]string{"a": "1", "b": "2", "path/with:odd chars@": "v"})
	maps.Copy(want, map[string]string{"a": "1", "b": "2", "path/with:odd chars@": "v"})
	if got := listTags(t, k, arn); !maps.Equal(got, want) {
		t.Errorf("%s: tags %v, want %v", arn, got, want)
	}
	tagResource(t, k, arn, map[string]string{"a": "changed"})
	want["a"] = "changed"
	if got := listTags(t, k, arn); !maps.Equal(got, want) {
		t.Errorf("%s: tags %v, want %v", arn, got, want)
	}
	if _, err := k.svc.UntagResource(context.Background(), &types.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"a", "never-there"}}); err != nil {
		t.Fatalf("untagging %s: %v", arn, err)
	}
	delete(want, "a")
	if got := listTags(t, k, arn); !maps.Equal(got, want) {
		t.Errorf("%s: tags %v, want %v", arn, got, want)
	}
	if _, err := k.svc.UntagResource(context.Background(), &types.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"b", "path/with:odd chars@"}}); err != nil {
		t.Fatalf("untagging %s: %v", arn, err)
	}
	if got := listTags(t, k, arn); !maps.Equal(got, before) {
		t.Errorf("%s: tags %v, want them as they were, %v", arn, got, before)
	}
}

// Malformed ARNs are BadRequestException, ARNs of nothing kdp has
// NotFoundException, a node group made again has a new ARN, and tags
// that break EKS's rules are BadRequestException naming the rule.
func TestIntegration_TagErrors(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	account := accountID(t, k)
	base := "arn:aws:eks:us-east-1:" + account + ":"

	for _, arn := range []string{"", "not-an-arn", "arn:aws:ec2:us-east-1:" + account + ":cluster/" + clusterName, base + "cluster/", base + "nodegroup/" + clusterName + "/x", base + "widget/x"} {
		_, err := k.svc.ListTagsForResource(ctx, &types.ListTagsForResourceRequest{ResourceArn: arn})
		assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest, Fields: []string{"resourceArn"}})
		_, err = k.svc.TagResource(ctx, &types.TagResourceRequest{ResourceArn: arn, Tags: map[string]string{"a": "1"}})
		assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest, Fields: []string{"resourceArn"}})
		_, err = k.svc.UntagResource(ctx, &types.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"a"}})
		assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest, Fields: []string{"resourceArn"}})
	}
	for _, arn := range []string{
		base + "cluster/other",
		"arn:aws:eks:eu-west-1:" + account + ":cluster/" + clusterName,
		"arn:aws:eks:us-east-1:999999999999:cluster/" + clusterName,
		base + "nodegroup/" + clusterName + "/nope/0b1c",
		base + "fargateprofile/" + clusterName + "/nope/0b1c",
		base + "addon/" + clusterName + "/vpc-cni/0b1c",
	} {
		_, err := k.svc.ListTagsForResource(ctx, &types.ListTagsForResourceRequest{ResourceArn: arn})
		assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
		_, err = k.svc.TagResource(ctx, &types.TagResourceRequest{ResourceArn: arn, Tags: map[string]string{"a": "1"}})
		assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
		_, err = k.svc.UntagResource(ctx, &types.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"a"}})
		assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
	}

	// A node group deleted and made again is another resource: the old
	// ARN names nothing.
	old := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "again"}, Spec: eksv1.NodeGroupSpec{ScalingConfig: &eksv1.ScalingConfig{MinSize: 0, MaxSize: 1, DesiredSize: 0}}}
	if err := env.Client.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	cleanupNodeGroup(t, old.Name)
	oldARN := base + "nodegroup/" + clusterName + "/again/" + string(old.UID)
	tagResource(t, k, oldARN, map[string]string{"generation": "1"})
	deleteNodeGroupAndWait(t, old.Name)
	again := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "again"}, Spec: eksv1.NodeGroupSpec{ScalingConfig: &eksv1.ScalingConfig{MinSize: 0, MaxSize: 1, DesiredSize: 0}}}
	if err := env.Client.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	_, err := k.svc.ListTagsForResource(ctx, &types.ListTagsForResourceRequest{ResourceArn: oldARN})
	assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
	_, err = k.svc.TagResource(ctx, &types.TagResourceRequest{ResourceArn: oldARN, Tags: map[string]string{"generation": "2"}})
	assertEKSError(t, err, eks.Error{Code: eks.CodeNotFound})
	newARN := base + "nodegroup/" + clusterName + "/again/" + string(again.UID)
	if got := listTags(t, k, newARN); len(got) != 0 {
		t.Errorf("the new group has tags %v", got)
	}

	// EKS's rules of tags, each named.
	tagResource(t, k, newARN, map[string]string{"one": "1", "two": "2"})
	fortyNine := map[string]string{}
	for i := range 49 {
		fortyNine[fmt.Sprintf("k%02d", i)] = "v"
	}
	for _, tc := range []struct {
		tags map[string]string
		says string
	}{
		{fortyNine, "tags: Too many: 51: must have at most 50 items"},
		{map[string]string{"aws:reserved": "x"}, "tags[aws:reserved]: Invalid value: \"aws:reserved\": a tag key must not begin with aws:"},
		{map[string]string{"AWS:Reserved": "x"}, "must not begin with aws:"},
		{map[string]string{strings.Repeat("k", 129): "x"}, "a tag key must be 1-128 characters"},
		{map[string]string{"": "x"}, "a tag key must be 1-128 characters"},
		{map[string]string{"long": strings.Repeat("v", 257)}, "a tag value is at most 256 characters"},
		{nil, "tags is required"},
	} {
		_, err := k.svc.TagResource(ctx, &types.TagResourceRequest{ResourceArn: newARN, Tags: tc.tags})
		if e := assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest, Fields: []string{"tags"}}); e != nil && !strings.Contains(e.Message, tc.says) {
			t.Errorf("message %q, want it to say %q", e.Message, tc.says)
		}
	}
	if got := listTags(t, k, newARN); !maps.Equal(got, map[string]string{"one": "1", "two": "2"}) {
		t.Errorf("refused tags changed the group's: %v", got)
	}
	fortyNine["one"] = "changed" // 50 in all: within the limit
	delete(fortyNine, "k00")
	tagResource(t, k, newARN, fortyNine)
	if got := listTags(t, k, newARN); len(got) != 50 {
		t.Errorf("%d tags, want 50", len(got))
	}
	_, err = k.svc.UntagResource(ctx, &types.UntagResourceRequest{ResourceArn: newARN})
	assertEKSError(t, err, eks.Error{Code: eks.CodeBadRequest, Fields: []string{"tagKeys"}})
}

func tagResource(t testing.TB, k *kdp, arn string, tags map[string]string) {
	t.Helper()
	if _, err := k.svc.TagResource(context.Background(), &types.TagResourceRequest{ResourceArn: arn, Tags: tags}); err != nil {
		t.Fatalf("tagging %s: %v", arn, err)
	}
}

func listTags(t testing.TB, k *kdp, arn string) map[string]string {
	t.Helper()
	out, err := k.svc.ListTagsForResource(context.Background(), &types.ListTagsForResourceRequest{ResourceArn: arn})
	if err != nil {
		t.Fatalf("listing the tags of %s: %v", arn, err)
	}
	return out.Tags
}

// cleanupClusterTags removes the cluster's tags when the test ends (every
// test of the package shares one API server).
func cleanupClusterTags(t testing.TB) {
	t.Cleanup(func() {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: eks.ClusterTagsNamespace, Name: eks.ClusterTagsName}}
		if err := env.Client.Delete(context.Background(), cm); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}

// cleanupNodeGroup deletes a node group when the test ends, and waits
// until it is gone.
func cleanupNodeGroup(t testing.TB, name string) {
	t.Cleanup(func() { deleteNodeGroupAndWait(t, name) })
}

func deleteNodeGroupAndWait(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Delete(ctx, &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &eksv1.NodeGroup{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("node group %s is still there (%v)", name, err)
	})
}
