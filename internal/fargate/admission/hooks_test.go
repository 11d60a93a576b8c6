package admission

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/webhook"
)

// TestHooksAreServable: kdp's webhook server takes both hooks (names,
// paths, timeouts), and they are registered as EKS registers its own.
func TestHooksAreServable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	srv, err := webhook.New(&rest.Config{Host: "https://127.0.0.1:1"}, webhook.Options{Dir: t.TempDir(), Listener: l})
	if err != nil {
		t.Fatal(err)
	}
	hs := Hooks(testScheme(t), NewChecker(nil, subnets))
	for _, h := range hs {
		if err := srv.Add(h); err != nil {
			t.Fatal(err)
		}
	}
	profiles, pods := hs[0], hs[1]
	if profiles.Mutating || profiles.FailurePolicy != "" || !reflect.DeepEqual(profiles.Rules[0].Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Delete}) ||
		profiles.Rules[0].Resources[0] != "fargateprofiles" {
		t.Errorf("profile hook: %+v", profiles)
	}
	want := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
			Scope: ptr.To(admissionregistrationv1.NamespacedScope),
		},
	}}
	if !pods.Mutating || pods.FailurePolicy != admissionregistrationv1.Ignore || pods.TimeoutSeconds != 5 ||
		!reflect.DeepEqual(pods.Rules, want) || pods.ObjectSelector != nil || pods.NamespaceSelector != nil {
		t.Errorf("pod hook: %+v", pods)
	}
}

// TestPodHookOverHTTP: the patch, written by the handler itself, reaches
// the API server through controller-runtime's encoding of the review.
func TestPodHookOverHTTP(t *testing.T) {
	_, pods := hooks(t, profile("web", eksv1.FargateActive, "web"))
	req := createRequest(t, newPod("web", map[string]string{"app": "web"}), "web")
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req.AdmissionRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	httpReq := httptest.NewRequest(http.MethodPost, PodPath, bytes.NewReader(body))
	httpReq.Header.Set("Content-Type", "application/json")
	(&admission.Webhook{Handler: pods}).ServeHTTP(rec, httpReq)
	review := admissionv1.AdmissionReview{}
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil {
		t.Fatalf("%s: %v", rec.Body, err)
	}
	r := review.Response
	if r == nil || !r.Allowed || r.UID != "uid" || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("response %s", rec.Body)
	}
	wantPatch, _ := placement("web", true)
	if !bytes.Equal(r.Patch, wantPatch) {
		t.Fatalf("patch %s, want %s", r.Patch, wantPatch)
	}
}
