package admission

import (
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

const (
	privateSubnet = "subnet-0aaaaaaaaaaaaaaa1"
	publicSubnet  = "subnet-0bbbbbbbbbbbbbbb1"
	role          = "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole"
)

var subnets = []cloud.Subnet{
	{ID: privateSubnet, Zone: "us-east-1a", CIDR: "10.0.0.0/20"},
	{ID: publicSubnet, Zone: "us-east-1a", CIDR: "10.0.16.0/20", Public: true},
}

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := eksv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// profile is a valid profile in a status, with selectors of namespace
// patterns.
func profile(name string, status eksv1.FargateProfileStatusValue, namespaces ...string) *eksv1.FargateProfile {
	fp := &eksv1.FargateProfile{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       eksv1.FargateProfileSpec{PodExecutionRoleArn: role, Subnets: []string{privateSubnet}},
		Status:     eksv1.FargateProfileStatus{Status: status},
	}
	for _, ns := range namespaces {
		fp.Spec.Selectors = append(fp.Spec.Selectors, eksv1.FargateProfileSelector{Namespace: ns})
	}
	return fp
}

// beingDeleted marks a profile deleted, holding on to its finalizer.
func beingDeleted(fp *eksv1.FargateProfile) *eksv1.FargateProfile {
	fp.DeletionTimestamp = &metav1.Time{Time: metav1.Now().Time}
	fp.Finalizers = []string{eksv1.FargateFinalizer}
	return fp
}

// hooks are the hooks of a Checker whose reader holds profiles: a fake
// client, standing in for the manager's cache.
func hooks(t testing.TB, profiles ...*eksv1.FargateProfile) (validate, pods admission.Handler) {
	t.Helper()
	scheme := testScheme(t)
	objs := make([]client.Object, len(profiles))
	for i, fp := range profiles {
		objs[i] = fp
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	hs := Hooks(scheme, NewChecker(reader, subnets))
	return hs[0].Handler, hs[1].Handler
}

// createRequest is the admission request of creating obj.
func createRequest(t testing.TB, obj runtime.Object, namespace string) admission.Request {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid",
		Operation: admissionv1.Create,
		Namespace: namespace,
		Object:    runtime.RawExtension{Raw: raw},
	}}
}

// newPod is a pod as the API server hands it to webhooks: defaulted to
// the default scheduler.
func newPod(namespace string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: namespace, Labels: labels},
		Spec: corev1.PodSpec{
			SchedulerName: corev1.DefaultSchedulerName,
			Priority:      new(int32), // the Priority plugin's, without a class
			Containers:    []corev1.Container{{Name: "app", Image: "nginx"}},
		},
	}
}
