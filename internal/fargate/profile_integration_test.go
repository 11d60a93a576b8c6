package fargate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/kubelet"
	"github.com/kdp-project/kdp/internal/testenv"
)

// A profile with every rule broken is refused with every problem, each on
// its field, and nothing is created; a good one (wildcards and all)
// becomes ACTIVE with EKS's status, its pods' identity granted its join;
// its spec never changes but for its tags.
func TestIntegration_ProfileRules(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	subnets, err := k.Provider.Subnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	public, private := "", 0
	for _, s := range subnets {
		if s.Public {
			public = s.ID
		} else {
			private++
		}
	}
	bad := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: eksv1.FargateProfileSpec{
		PodExecutionRoleArn: "not-an-arn",
		Subnets:             []string{public, "subnet-nope"},
		Selectors: []eksv1.FargateProfileSelector{
			{Labels: map[string]string{"a": "1"}},
			selector("ns", "k1", "v", "k2", "v", "k3", "v", "k4", "v", "k5", "v", "k6", "v"),
			selector("a"), selector("b"), selector("c"), selector("d"),
		},
	}}
	err = env.Client.Create(ctx, bad)
	for _, want := range []string{"spec.podExecutionRoleArn", "spec.subnets[0]", "public", "spec.subnets[1]", "subnet-nope",
		"spec.selectors: Too many", "spec.selectors[0].namespace", "spec.selectors[1].labels"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("creating a bad profile: %v; want it to say %q", err, want)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "bad"}, &eksv1.FargateProfile{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused profile exists: %v", err)
	}

	fp := profile(t, "wild", selector("prod-*", "app?", "we*"))
	if !strings.HasPrefix(fp.Status.FargateProfileArn, "arn:aws:eks:us-east-1:") || !strings.Contains(fp.Status.FargateProfileArn, ":fargateprofile/"+clusterName+"/wild/"+string(fp.UID)) {
		t.Errorf("arn %s", fp.Status.FargateProfileArn)
	}
	if fp.Status.CreatedAt == nil || fp.Status.ClusterName != clusterName || len(fp.Status.Subnets) != private {
		t.Errorf("status %+v: want createdAt, the cluster, and the %d private subnets", fp.Status, private)
	}
	for name := range resources.Bindings(fp) {
		crb := &rbacv1.ClusterRoleBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, crb); err != nil || crb.Subjects[0].Name != resources.Group(fp) {
			t.Errorf("binding %s: %+v, %v", name, crb.Subjects, err)
		}
	}
	changed := fp.DeepCopy()
	changed.Spec.Selectors[0].Namespace = "dev"
	if err := env.Client.Update(ctx, changed); err == nil || !strings.Contains(err.Error(), "cannot be changed") {
		t.Errorf("changing a profile's spec: %v", err)
	}
	// Its tags may change (EKS's TagResource), within EKS's rules, and
	// the profile stays ACTIVE.
	tag := func(tags string) error {
		return env.Client.Patch(ctx, fp.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"tags":`+tags+`}}`)))
	}
	if err := tag(`{"team":"web"}`); err != nil {
		t.Errorf("changing a profile's tags: %v", err)
	}
	if err := tag(`{"AWS:reserved":"x"}`); err == nil || !strings.Contains(err.Error(), "spec.tags") {
		t.Errorf("giving a profile a tag in aws:'s namespace: %v", err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		fp := waitProfile(t, "wild", eksv1.FargateActive)
		if fp.Spec.Tags["team"] != "web" || fp.Status.ObservedGeneration != fp.Generation {
			return fmt.Errorf("a retagged profile: tags %v, observed generation %d of %d", fp.Spec.Tags, fp.Status.ObservedGeneration, fp.Generation)
		}
		return nil
	})

	// Deleting revokes the grant.
	deleteProfile(t, "wild")
	for name := range resources.Bindings(fp) {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &rbacv1.ClusterRoleBinding{}); !apierrors.IsNotFound(err) {
			t.Errorf("binding %s of a deleted profile: %v", name, err)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "bootstrap-token-" + resources.TokenID(fp)}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("token of a deleted profile: %v", err)
	}
}

// A cluster has at most 10 profiles, and deletes one at a time: while one
// is DELETING no profile is created or deleted, and the error names it.
func TestIntegration_ProfileQuotaAndOneDeleting(t *testing.T) {
	start(t, "")
	ctx := context.Background()
	ns := env.Namespace(t)
	for i := range 10 {
		profile(t, fmt.Sprintf("quota-%02d", i), selector(fmt.Sprintf("%s-%d", ns, i)))
	}
	eleventh := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "quota-10"}, Spec: eksv1.FargateProfileSpec{PodExecutionRoleArn: role, Selectors: []eksv1.FargateProfileSelector{selector("x")}}}
	if err := env.Client.Create(ctx, eleventh); err == nil || !strings.Contains(err.Error(), "ResourceLimitExceeded") {
		t.Errorf("an eleventh profile: %v", err)
	}
	deleteProfile(t, "quota-09")

	// A pod that takes 20 s to stop keeps its profile DELETING.
	slow := profile(t, "slow", selector(ns))
	create(t, pod(ns, "slow-to-stop", "", "", func(p *corev1.Pod) {
		p.Annotations = map[string]string{kubelet.AnnotationStopSeconds: "20"}
		p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](60)
	}))
	running(t, ns, "slow-to-stop")
	if err := env.Client.Delete(ctx, slow); err != nil {
		t.Fatal(err)
	}
	waitProfile(t, "slow", eksv1.FargateDeleting)
	another := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "another"}, Spec: eksv1.FargateProfileSpec{PodExecutionRoleArn: role, Selectors: []eksv1.FargateProfileSelector{selector("x")}}}
	if err := env.Client.Create(ctx, another); err == nil || !strings.Contains(err.Error(), `Fargate profile "slow" is being deleted`) {
		t.Errorf("creating a profile while one is deleting: %v", err)
	}
	err := env.Client.Delete(ctx, &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "quota-00"}})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `ResourceInUse: Fargate profile "slow" is being deleted`) {
		t.Errorf("deleting a profile while one is deleting: %v", err)
	}
	// The recorder writes events asynchronously: wait for the one event.
	testenv.Eventually(t, 10*time.Second, func() error {
		if evs := events(t, ns, "slow-to-stop", "FargateProfileDeleted"); len(evs) != 1 {
			return fmt.Errorf("the deleted profile's pod has events %+v", evs)
		}
		return nil
	})
	deleteProfile(t, "slow")
}

// Deleting a profile deletes the pods it placed; their Deployment's new
// pods go through the next matching profile, or, with none, stay off
// Fargate.
func TestIntegration_ProfileDeletionMovesPods(t *testing.T) {
	start(t, "")
	ns := env.Namespace(t)
	profile(t, "first", selector(ns))
	profile(t, "second", selector(ns, "app", "web"))
	deploy := deployment(ns, "web", 2)
	create(t, deploy)
	onProfile(t, ns, "web", "first", 2)
	deleteProfile(t, "first")
	onProfile(t, ns, "web", "second", 2)
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, p := range podsOf(t, ns, "web") {
			if p.Spec.NodeName != "" && !strings.HasPrefix(p.Spec.NodeName, "fargate-") {
				return fmt.Errorf("pod %s on %s", p.Name, p.Spec.NodeName)
			}
		}
		return nil
	})
}

// onProfile waits until the app's n pods all run on Fargate through the
// profile.
func onProfile(t testing.TB, ns, app, profile string, n int) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, func() error {
		pods := podsOf(t, ns, app)
		ok := 0
		for _, p := range pods {
			if p.DeletionTimestamp == nil && p.Labels[eksv1.LabelFargateProfile] == profile && p.Status.Phase == corev1.PodRunning && strings.HasPrefix(p.Spec.NodeName, "fargate-ip-") {
				ok++
			}
		}
		if ok != n || len(pods) != n {
			return fmt.Errorf("%d of %d pods of %s run through profile %s, want %d", ok, len(pods), app, profile, n)
		}
		return nil
	})
}

func podsOf(t testing.TB, ns, app string) []corev1.Pod {
	t.Helper()
	pods := &corev1.PodList{}
	if err := env.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}
