package admission

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

func TestPodHookPlacesMatchingPods(t *testing.T) {
	_, pods := hooks(t,
		profile("prod-workload", eksv1.FargateActive, "prod"),
		profile("beta-workload", eksv1.FargateActive, "prod", "beta"),
	)
	tail := []patchOp{
		{Op: "add", Path: "/spec/schedulerName", Value: "fargate-scheduler"},
		{Op: "add", Path: "/spec/priorityClassName", Value: "system-node-critical"},
		{Op: "add", Path: "/spec/priority", Value: float64(2000001000)},
	}
	for _, c := range []struct {
		name    string
		pod     *corev1.Pod
		profile string
		first   patchOp // the label's operation
	}{
		{
			name:    "a pod with labels: the first profile by name",
			pod:     newPod("prod", map[string]string{"app": "web"}),
			profile: "beta-workload",
			first:   patchOp{Op: "add", Path: "/metadata/labels/eks.amazonaws.com~1fargate-profile", Value: "beta-workload"},
		},
		{
			name:    "a pod with no labels: the labels object is added",
			pod:     newPod("prod", nil),
			profile: "beta-workload",
			first:   patchOp{Op: "add", Path: "/metadata/labels", Value: map[string]any{"eks.amazonaws.com/fargate-profile": "beta-workload"}},
		},
		{
			name:    "pinned to a profile that matches: that one",
			pod:     newPod("prod", map[string]string{eksv1.LabelFargateProfile: "prod-workload"}),
			profile: "prod-workload",
			first:   patchOp{Op: "add", Path: "/metadata/labels/eks.amazonaws.com~1fargate-profile", Value: "prod-workload"},
		},
		{
			name:    "the namespace from the request",
			pod:     newPod("", map[string]string{"app": "web"}),
			profile: "beta-workload",
			first:   patchOp{Op: "add", Path: "/metadata/labels/eks.amazonaws.com~1fargate-profile", Value: "beta-workload"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := createRequest(t, c.pod, "prod")
			resp := pods.Handle(context.Background(), req)
			if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
				t.Fatalf("response %+v, want allowed with a JSON patch", resp.AdmissionResponse)
			}
			var got []patchOp
			if err := json.Unmarshal(resp.Patch, &got); err != nil {
				t.Fatalf("patch %s: %v", resp.Patch, err)
			}
			if want := append([]patchOp{c.first}, tail...); !reflect.DeepEqual(got, want) {
				t.Fatalf("patch\n %+v\nwant\n %+v", got, want)
			}
			// The patch applies to the pod as the API server holds it.
			placed := &corev1.Pod{}
			if err := json.Unmarshal(applyAdds(t, req.Object.Raw, resp.Patch), placed); err != nil {
				t.Fatal(err)
			}
			s := placed.Spec
			if placed.Labels[eksv1.LabelFargateProfile] != c.profile || s.SchedulerName != eksv1.FargateScheduler ||
				s.PriorityClassName != eksv1.FargatePriorityClass || s.Priority == nil || *s.Priority != eksv1.FargatePriority {
				t.Fatalf("placed pod: labels %v, spec %+v", placed.Labels, s)
			}
			for k, v := range c.pod.Labels {
				if placed.Labels[k] != v && k != eksv1.LabelFargateProfile {
					t.Errorf("label %s lost: %v", k, placed.Labels)
				}
			}
		})
	}
}

func TestPodHookLeavesPodsAlone(t *testing.T) {
	_, pods := hooks(t,
		profile("prod-workload", eksv1.FargateActive, "prod"),
		profile("web", eksv1.FargateActive, "web"),
		profile("new", eksv1.FargateCreating, "staging"),
		beingDeleted(profile("old", eksv1.FargateActive, "legacy")),
	)
	for _, c := range []struct {
		name   string
		pod    *corev1.Pod
		reason string
	}{
		{"annotated compute-type ec2", func() *corev1.Pod {
			p := newPod("prod", nil)
			p.Annotations = map[string]string{eksv1.AnnotationComputeType: "ec2"}
			return p
		}(), "ec2"},
		{"a DaemonSet's pod", func() *corev1.Pod {
			p := newPod("prod", nil)
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "u"}}
			return p
		}(), "DaemonSet agent"},
		{"another scheduler", func() *corev1.Pod {
			p := newPod("prod", nil)
			p.Spec.SchedulerName = "volcano"
			return p
		}(), "volcano"},
		{"no profile matches", newPod("other", nil), "no Fargate profile"},
		{"pinned to a profile it does not match", newPod("prod", map[string]string{eksv1.LabelFargateProfile: "web"}), "names profile web, which is not ACTIVE or has no selector the pod matches"},
		{"only a profile still creating matches", newPod("staging", nil), "no Fargate profile"},
		{"only a profile being deleted matches", newPod("legacy", nil), "no Fargate profile"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := pods.Handle(context.Background(), createRequest(t, c.pod, c.pod.Namespace))
			if !resp.Allowed || resp.Patch != nil || resp.PatchType != nil || len(resp.Patches) != 0 {
				t.Fatalf("response %+v, want allowed unchanged", resp.AdmissionResponse)
			}
			if resp.Result == nil || !strings.Contains(resp.Result.Message, c.reason) {
				t.Fatalf("response %+v, want a message naming %q", resp.Result, c.reason)
			}
		})
	}
}

func TestPodHookRefusesWhatItCannotRead(t *testing.T) {
	_, pods := hooks(t)
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: admissionv1.Create, Namespace: "prod"}}
	req.Object.Raw = []byte(`{"metadata":`)
	if resp := pods.Handle(context.Background(), req); resp.Allowed || resp.Result.Code != 400 {
		t.Fatalf("response %+v, want a 400", resp.AdmissionResponse)
	}
}

// patchOp is a JSON patch operation as decoded from the response.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// applyAdds applies a JSON patch of add operations to a document as
// RFC 6902 says: the parent of each path must exist; an existing member
// is replaced.
func applyAdds(t *testing.T, doc, patch []byte) []byte {
	t.Helper()
	var obj map[string]any
	var ops []patchOp
	if err := json.Unmarshal(doc, &obj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatal(err)
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	for _, op := range ops {
		if op.Op != "add" {
			t.Fatalf("operation %q: only add is expected", op.Op)
		}
		tokens := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
		parent := obj
		for _, tok := range tokens[:len(tokens)-1] {
			next, ok := parent[unescape.Replace(tok)].(map[string]any)
			if !ok {
				t.Fatalf("%s: no object %s to add to (RFC 6902 refuses the patch)", op.Path, tok)
			}
			parent = next
		}
		parent[unescape.Replace(tokens[len(tokens)-1])] = op.Value
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLabelPathEscapesTheKey(t *testing.T) {
	if want := "/metadata/labels/eks.amazonaws.com~1fargate-profile"; labelPath != want {
		t.Fatalf("labelPath %s, want %s", labelPath, want)
	}
	// A profile name is JSON-quoted, whatever it holds.
	raw, err := placement(`a"b`, true)
	if err != nil || !json.Valid(raw) {
		t.Fatalf("placement: %s, %v", raw, err)
	}
}
