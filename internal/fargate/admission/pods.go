package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/fargate/matching"
)

// podHandler places a new pod on Fargate when it matches a profile, as
// EKS's webhook does: it labels the pod with its profile and gives it to
// fargate-scheduler at system-node-critical. It answers every pod the
// cluster creates, in a burst too, so it reads only what placement needs
// of the pod, lists profiles from the cache, and writes its four patch
// operations itself rather than diffing a re-encoded pod.
type podHandler struct {
	checker *Checker
}

func (h *podHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	pod, err := decodePod(req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if ok, why := matching.Eligible(pod); !ok {
		return admission.Allowed("not placed on Fargate: " + why)
	}
	profile, ok, err := h.checker.ProfileFor(ctx, pod)
	if err != nil {
		// The hook's failure policy is Ignore: the pod is created as it is.
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("choosing a Fargate profile for pod %s/%s: %w (the pod is created without one: delete it to place it again)", pod.Namespace, podName(req, pod), err))
	}
	if !ok {
		if pinned, isPinned := pod.Labels[eksv1.LabelFargateProfile]; isPinned {
			return admission.Allowed(fmt.Sprintf("no Fargate profile matches: the pod names profile %s, which is not ACTIVE or has no selector the pod matches", pinned))
		}
		return admission.Allowed("no Fargate profile matches")
	}
	patch, err := placement(profile, pod.Labels != nil)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed:   true,
		Patch:     patch,
		PatchType: &jsonPatch,
	}}
}

var jsonPatch = admissionv1.PatchTypeJSONPatch

// podFields are the parts of a pod that placing it reads. Decoding only
// them skips the containers, volumes and status that make most of a
// pod's bytes.
type podFields struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		SchedulerName string `json:"schedulerName,omitempty"`
		NodeName      string `json:"nodeName,omitempty"`
	} `json:"spec"`
}

// decodePod reads the request's pod, with its namespace from the request
// when the object leaves it out.
func decodePod(req admission.Request) (*corev1.Pod, error) {
	var f podFields
	if err := json.Unmarshal(req.Object.Raw, &f); err != nil {
		return nil, fmt.Errorf("decoding the pod of %s/%s: %w", req.Namespace, req.Name, err)
	}
	pod := &corev1.Pod{
		ObjectMeta: f.Metadata,
		Spec:       corev1.PodSpec{SchedulerName: f.Spec.SchedulerName, NodeName: f.Spec.NodeName},
	}
	if pod.Namespace == "" {
		pod.Namespace = req.Namespace
	}
	return pod, nil
}

// podName is the pod's name for messages: a pod made from generateName
// has none yet.
func podName(req admission.Request, pod *corev1.Pod) string {
	switch {
	case pod.Name != "":
		return pod.Name
	case req.Name != "":
		return req.Name
	}
	return pod.GenerateName + "*"
}
