package admission

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// profileHandler refuses a FargateProfile that CreateFargateProfile
// would refuse, with every reason at once.
type profileHandler struct {
	checker *Checker
	decoder admission.Decoder
}

func (h *profileHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	fp := &eksv1.FargateProfile{}
	if err := h.decoder.DecodeRaw(req.Object, fp); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	status, err := h.checker.Check(ctx, fp)
	switch {
	case err != nil:
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("checking Fargate profile %s: %w (try again; kdp's log says more)", fp.Name, err))
	case status != nil:
		return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: status}}
	}
	return admission.Allowed("")
}
