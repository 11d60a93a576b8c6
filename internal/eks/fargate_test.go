package eks_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/testenv"
)

// A profile made through the API is what CreateFargateProfile answers
// and DescribeFargateProfile then shows: CREATING, then ACTIVE; Delete
// answers it DELETING (twice over), and then it is gone.
func TestIntegration_FargateProfileLifecycle(t *testing.T) {
	k := start(t, "")
	ctx := eks.WithPrincipal(context.Background(), "arn:aws:iam::111122223333:user/alice")
	private := privateSubnets(t, k)

	created, err := k.svc.CreateFargateProfile(ctx, &types.CreateFargateProfileRequest{
		ClusterName: clusterName, FargateProfileName: "life", PodExecutionRoleArn: podRole, ClientRequestToken: "tok-life",
		Selectors: []types.FargateProfileSelector{{Namespace: "prod-*", Labels: map[string]string{"app": "web"}}, {Namespace: "batch"}},
		Tags:      map[string]string{"team": "web"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cleanupFargateProfiles(t, "life")
	fp := created.FargateProfile
	obj := &eksv1.FargateProfile{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "life"}, obj); err != nil {
		t.Fatal(err)
	}
	want := &types.FargateProfile{
		FargateProfileName: "life", ClusterName: clusterName, PodExecutionRoleArn: podRole,
		FargateProfileArn: "arn:aws:eks:us-east-1:" + accountID(t, k) + ":fargateprofile/" + clusterName + "/life/" + string(obj.UID),
		CreatedAt:         types.NewTimestamp(obj.CreationTimestamp.Time),
		Subnets:           private,
		Selectors:         []types.FargateProfileSelector{{Namespace: "prod-*", Labels: map[string]string{"app": "web"}}, {Namespace: "batch"}},
		Status:            types.FargateProfileStatusCreating,
		Tags:              map[string]string{"team": "web"},
	}
	if !reflect.DeepEqual(fp, want) {
		t.Errorf("created\n %+v, want\n %+v", fp, want)
	}
	if got := obj.Annotations[eks.AnnotationCreatedBy]; got != "arn:aws:iam::111122223333:user/alice" {
		t.Errorf("created by %q", got)
	}
	if obj.Annotations[eks.AnnotationClientRequestToken] != "tok-life" || obj.Annotations[eks.AnnotationRequestHash] == "" {
		t.Errorf("annotations %v: want the token and the request's hash", obj.Annotations)
	}

	// Describe, at once: what Create answered, then ACTIVE.
	described := describeFargateProfile(t, k, "life")
	described.Status = types.FargateProfileStatusCreating
	if !reflect.DeepEqual(described, want) {
		t.Errorf("described\n %+v, want what Create answered\n %+v", described, want)
	}
	active := waitFargateProfile(t, k, "life", types.FargateProfileStatusActive)
	active.Status = types.FargateProfileStatusCreating
	if !reflect.DeepEqual(active, want) {
		t.Errorf("ACTIVE\n %+v, want what Create answered\n %+v", active, want)
	}

	list, err := k.svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: clusterName})
	if err != nil || !slices.Contains(list.FargateProfileNames, "life") || list.NextToken != "" {
		t.Errorf("list: %+v, %v", list, err)
	}

	for i := range 2 {
		deleted, err := k.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "life"})
		if err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		if deleted.FargateProfile.Status != types.FargateProfileStatusDeleting || deleted.FargateProfile.FargateProfileArn != want.FargateProfileArn {
			t.Errorf("delete %d answers %+v, want it DELETING", i, deleted.FargateProfile)
		}
	}
	waitFargateProfileGone(t, k, "life")
	_, err = k.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "life"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceNotFound, ClusterName: clusterName, FargateProfileName: "life", Message: "No Fargate Profile found with name: life."})
	_, err = k.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "life"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceNotFound, ClusterName: clusterName, FargateProfileName: "life", Message: "No Fargate Profile found with name: life."})

	// Another cluster's name is no cluster of kdp's, whatever the call.
	other := eks.Error{Code: eks.CodeResourceNotFound, ClusterName: "other", Message: "No cluster found for name: other."}
	_, err = k.svc.CreateFargateProfile(ctx, &types.CreateFargateProfileRequest{ClusterName: "other", FargateProfileName: "x", PodExecutionRoleArn: podRole, Selectors: []types.FargateProfileSelector{{Namespace: "x"}}})
	assertEKSError(t, err, other)
	_, err = k.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: "other", FargateProfileName: "x"})
	assertEKSError(t, err, other)
	_, err = k.svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: "other"})
	assertEKSError(t, err, other)
	_, err = k.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: "other", FargateProfileName: "x"})
	assertEKSError(t, err, other)
}

// The same clientRequestToken with the same request answers the profile
// it made; with another request it is an error; another token for a name
// taken is ResourceInUseException.
func TestIntegration_FargateProfileIdempotency(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	req := func(token string) *types.CreateFargateProfileRequest {
		return &types.CreateFargateProfileRequest{
			ClusterName: clusterName, FargateProfileName: "idem", PodExecutionRoleArn: podRole, ClientRequestToken: token,
			Selectors: []types.FargateProfileSelector{{Namespace: "idem", Labels: map[string]string{"a": "1", "b": "2"}}},
		}
	}
	first, err := k.svc.CreateFargateProfile(ctx, req("tok-1"))
	if err != nil {
		t.Fatal(err)
	}
	cleanupFargateProfiles(t, "idem")
	again, err := k.svc.CreateFargateProfile(ctx, req("tok-1"))
	if err != nil {
		t.Fatalf("the same request again: %v", err)
	}
	if again.FargateProfile.FargateProfileArn != first.FargateProfile.FargateProfileArn {
		t.Errorf("the same request again made %s, not %s", again.FargateProfile.FargateProfileArn, first.FargateProfile.FargateProfileArn)
	}
	waitFargateProfile(t, k, "idem", types.FargateProfileStatusActive)
	if again, err = k.svc.CreateFargateProfile(ctx, req("tok-1")); err != nil || again.FargateProfile.Status != types.FargateProfileStatusActive {
		t.Errorf("the same request once the profile is ACTIVE: %+v, %v", again, err)
	}

	changed := req("tok-1")
	changed.Selectors[0].Labels["b"] = "3"
	_, err = k.svc.CreateFargateProfile(ctx, changed)
	e := assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: clusterName, FargateProfileName: "idem", Fields: []string{"clientRequestToken"}})
	if e != nil && !strings.Contains(e.Message, "clientRequestToken tok-1 was used with a different request") {
		t.Errorf("message %q", e.Message)
	}
	renamed := req("tok-1")
	renamed.FargateProfileName = "idem-2"
	_, err = k.svc.CreateFargateProfile(ctx, renamed)
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidRequest, ClusterName: clusterName, FargateProfileName: "idem-2", Fields: []string{"clientRequestToken"}})

	inUse := eks.Error{Code: eks.CodeResourceInUse, ClusterName: clusterName, FargateProfileName: "idem", Fields: []string{"fargateProfileName"},
		Message: "A Fargate Profile already exists with this name in this cluster."}
	_, err = k.svc.CreateFargateProfile(ctx, req("tok-2"))
	assertEKSError(t, err, inUse)
	_, err = k.svc.CreateFargateProfile(ctx, req(""))
	assertEKSError(t, err, inUse)
}

// A bad request is refused with every problem, each naming its member as
// EKS spells it, and nothing is created.
func TestIntegration_FargateProfileInvalid(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	labels := map[string]string{}
	for i := range 6 {
		labels[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err := k.svc.CreateFargateProfile(ctx, &types.CreateFargateProfileRequest{
		ClusterName: clusterName, FargateProfileName: "bad", PodExecutionRoleArn: "not-an-arn",
		Subnets:   []string{"subnet-nope"},
		Selectors: []types.FargateProfileSelector{{Labels: map[string]string{"a": "1"}}, {Namespace: "ns", Labels: labels}},
		Tags:      map[string]string{"aws:x": "y"},
	})
	e := assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, FargateProfileName: "bad"})
	if e != nil {
		for _, f := range []string{"podExecutionRoleArn", "subnets[0]", "selectors[0].namespace", "selectors[1].labels", "tags[aws:x]"} {
			if !slices.Contains(e.Fields, f) || !strings.Contains(e.Message, f+": ") {
				t.Errorf("fields %v, message %q: want %s named", e.Fields, e.Message, f)
			}
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "bad"}, &eksv1.FargateProfile{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused profile exists: %v", err)
	}

	_, err = k.svc.CreateFargateProfile(ctx, &types.CreateFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "Bad_Name", PodExecutionRoleArn: podRole, Selectors: []types.FargateProfileSelector{{Namespace: "x"}}})
	if e := assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, FargateProfileName: "Bad_Name", Fields: []string{"fargateProfileName"}}); e != nil && !strings.HasPrefix(e.Message, "fargateProfileName: ") {
		t.Errorf("message %q", e.Message)
	}
	_, err = k.svc.CreateFargateProfile(ctx, &types.CreateFargateProfileRequest{ClusterName: clusterName, PodExecutionRoleArn: podRole})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, Fields: []string{"fargateProfileName"}})
	_, err = k.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: clusterName})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, Fields: []string{"fargateProfileName"}})
}

// Ten profiles are a cluster's most (the eleventh is
// ResourceLimitExceededException); they list a page at a time; while one
// is DELETING no profile is created or deleted (ResourceInUseException,
// in EKS's words).
func TestIntegration_FargateProfileQuotaPagesAndOneDeleting(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	ns := env.Namespace(t)
	var names []string
	for i := range 9 {
		names = append(names, fmt.Sprintf("page-%d", i))
		createFargateProfile(t, k, names[i], fmt.Sprintf("%s-%d", ns, i))
	}
	createFargateProfile(t, k, "slow", ns)
	names = append(names, "slow")
	_, err := k.svc.CreateFargateProfile(ctx, fargateProfileRequest("eleventh", "x"))
	e := assertEKSError(t, err, eks.Error{Code: eks.CodeResourceLimitExceeded, ClusterName: clusterName, FargateProfileName: "eleventh", Fields: []string{"fargateProfileName"}})
	if e != nil && !strings.Contains(e.Message, "10 Fargate profiles") {
		t.Errorf("message %q", e.Message)
	}

	// Pages of two, in name order.
	var got []string
	token, pages := "", 0
	for {
		page, err := k.svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: clusterName, MaxResults: ptr.To[int32](2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.FargateProfileNames) > 2 {
			t.Errorf("a page of %d", len(page.FargateProfileNames))
		}
		got, token, pages = append(got, page.FargateProfileNames...), page.NextToken, pages+1
		if token == "" || pages > 10 {
			break
		}
	}
	if slices.Sort(names); !slices.Equal(got, names) || pages != 5 {
		t.Errorf("listed %v in %d pages, want %v in 5", got, pages, names)
	}
	for _, bad := range []*types.ListFargateProfilesRequest{
		{ClusterName: clusterName, MaxResults: ptr.To[int32](0)},
		{ClusterName: clusterName, MaxResults: ptr.To[int32](101)},
	} {
		_, err := k.svc.ListFargateProfiles(ctx, bad)
		assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, Fields: []string{"maxResults"}})
	}
	_, err = k.svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: clusterName, NextToken: "garbage"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, Fields: []string{"nextToken"}})

	// Make room, then keep "slow" DELETING with a pod that takes 20 s to
	// stop.
	deleteFargateProfileAndWait(t, k, "page-8")
	waitFargateProfile(t, k, "slow", types.FargateProfileStatusActive)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slow-to-stop", Annotations: map[string]string{kubelet.AnnotationStopSeconds: "20"}},
		Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To[int64](60), Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		if pod.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod is %s", pod.Status.Phase)
		}
		return nil
	})
	if _, err := k.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "slow"}); err != nil {
		t.Fatal(err)
	}
	_, err = k.svc.CreateFargateProfile(ctx, fargateProfileRequest("another", "x"))
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: clusterName, FargateProfileName: "another", Fields: []string{"fargateProfileName"},
		Message: "Cannot create Fargate Profile another because cluster " + clusterName + " currently has Fargate profile slow in status DELETING"})
	bad := fargateProfileRequest("another", "")
	_, err = k.svc.CreateFargateProfile(ctx, bad)
	if e := assertEKSError(t, err, eks.Error{Code: eks.CodeInvalidParameter, ClusterName: clusterName, FargateProfileName: "another"}); e != nil && !slices.Contains(e.Fields, "selectors[0].namespace") {
		t.Errorf("a bad request while one is deleting: fields %v (%s), want its own problem first", e.Fields, e.Message)
	}
	_, err = k.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: clusterName, FargateProfileName: "page-0"})
	assertEKSError(t, err, eks.Error{Code: eks.CodeResourceInUse, ClusterName: clusterName, FargateProfileName: "page-0",
		Message: "Cannot Delete Fargate Profile page-0 because cluster " + clusterName + " currently has Fargate profile slow in status DELETING"})
	if fp := describeFargateProfile(t, k, "page-0"); fp.Status != types.FargateProfileStatusActive {
		t.Errorf("a profile whose deletion was refused is %s", fp.Status)
	}
	waitFargateProfileGone(t, k, "slow")
}

// fargateProfileRequest asks for a profile of one namespace-only
// selector.
func fargateProfileRequest(name, namespace string) *types.CreateFargateProfileRequest {
	return &types.CreateFargateProfileRequest{ClusterName: clusterName, FargateProfileName: name, PodExecutionRoleArn: podRole,
		Selectors: []types.FargateProfileSelector{{Namespace: namespace}}}
}

// createFargateProfile creates a profile through the API (not waiting for
// it to be ACTIVE) and deletes it when the test ends.
func createFargateProfile(t testing.TB, k *kdp, name, namespace string) *types.FargateProfile {
	t.Helper()
	out, err := k.svc.CreateFargateProfile(context.Background(), fargateProfileRequest(name, namespace))
	if err != nil {
		t.Fatalf("creating Fargate profile %s: %v", name, err)
	}
	cleanupFargateProfiles(t, name)
	return out.FargateProfile
}

// cleanupFargateProfiles deletes profiles when the test ends, one at a
// time (a cluster deletes one at a time), before kdp stops: every test
// of the package shares one API server.
func cleanupFargateProfiles(t testing.TB, names ...string) {
	t.Cleanup(func() {
		for _, name := range names {
			testenv.Eventually(t, 60*time.Second, func() error {
				err := env.Client.Delete(context.Background(), &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: name}})
				if err != nil && !apierrors.IsNotFound(err) {
					return err // another is being deleted: in a moment
				}
				err = env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &eksv1.FargateProfile{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return errors.Join(err, fmt.Errorf("Fargate profile %s is still there", name))
			})
		}
	})
}

// deleteFargateProfileAndWait deletes a profile through the API and waits
// until it is gone.
func deleteFargateProfileAndWait(t testing.TB, k *kdp, name string) {
	t.Helper()
	if _, err := k.svc.DeleteFargateProfile(context.Background(), &types.DeleteFargateProfileRequest{ClusterName: clusterName, FargateProfileName: name}); err != nil {
		t.Fatal(err)
	}
	waitFargateProfileGone(t, k, name)
}

func describeFargateProfile(t testing.TB, k *kdp, name string) *types.FargateProfile {
	t.Helper()
	out, err := k.svc.DescribeFargateProfile(context.Background(), &types.DescribeFargateProfileRequest{ClusterName: clusterName, FargateProfileName: name})
	if err != nil {
		t.Fatalf("describing Fargate profile %s: %v", name, err)
	}
	return out.FargateProfile
}

// waitFargateProfile waits until DescribeFargateProfile shows the status.
func waitFargateProfile(t testing.TB, k *kdp, name string, want types.FargateProfileStatus) *types.FargateProfile {
	t.Helper()
	var fp *types.FargateProfile
	testenv.Eventually(t, 30*time.Second, func() error {
		out, err := k.svc.DescribeFargateProfile(context.Background(), &types.DescribeFargateProfileRequest{ClusterName: clusterName, FargateProfileName: name})
		if err != nil {
			return err
		}
		if fp = out.FargateProfile; fp.Status != want {
			return fmt.Errorf("Fargate profile %s is %s (health %+v), want %s", name, fp.Status, fp.Health, want)
		}
		return nil
	})
	return fp
}

// waitFargateProfileGone waits until DescribeFargateProfile finds no
// profile of the name (the FargateProfileDeleted waiter's success).
func waitFargateProfileGone(t testing.TB, k *kdp, name string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, func() error {
		_, err := k.svc.DescribeFargateProfile(context.Background(), &types.DescribeFargateProfileRequest{ClusterName: clusterName, FargateProfileName: name})
		if e, ok := eks.AsError(err); ok && e.Code == eks.CodeResourceNotFound {
			return nil
		}
		return fmt.Errorf("Fargate profile %s: %v", name, err)
	})
}

// assertEKSError checks that err is an *eks.Error with want's code and
// context members, and want's fields and message where want has them,
// and returns it.
func assertEKSError(t testing.TB, err error, want eks.Error) *eks.Error {
	t.Helper()
	e, ok := eks.AsError(err)
	if !ok {
		t.Errorf("error %v, want %s", err, want.Code)
		return nil
	}
	if e.Code != want.Code || e.ClusterName != want.ClusterName || e.NodegroupName != want.NodegroupName || e.FargateProfileName != want.FargateProfileName {
		t.Errorf("error %s (cluster %q, node group %q, profile %q: %s), want %s (cluster %q, node group %q, profile %q)",
			e.Code, e.ClusterName, e.NodegroupName, e.FargateProfileName, e.Message, want.Code, want.ClusterName, want.NodegroupName, want.FargateProfileName)
	}
	if want.Fields != nil && !slices.Equal(e.Fields, want.Fields) {
		t.Errorf("error %s: fields %v, want %v (%s)", e.Code, e.Fields, want.Fields, e.Message)
	}
	if want.Message != "" && e.Message != want.Message {
		t.Errorf("error %s: message\n %q, want\n %q", e.Code, e.Message, want.Message)
	}
	return e
}

// privateSubnets are the cloud's private subnets, in its order.
func privateSubnets(t testing.TB, k *kdp) []string {
	t.Helper()
	subnets, err := k.Provider.Subnets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var private []string
	for _, s := range subnets {
		if !s.Public {
			private = append(private, s.ID)
		}
	}
	return private
}

// accountID is the cloud's account id.
func accountID(t testing.TB, k *kdp) string {
	t.Helper()
	a, err := k.Provider.Account(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
