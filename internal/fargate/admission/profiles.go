package admission

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	if req.Operation == admissionv1.Delete {
		if err := h.decoder.DecodeRaw(req.OldObject, fp); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		return h.delete(ctx, fp)
	}
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

// delete refuses to delete a profile while another is being deleted: EKS
// deletes one profile of a cluster at a time (ResourceInUse).
func (h *profileHandler) delete(ctx context.Context, fp *eksv1.FargateProfile) admission.Response {
	f, err := h.checker.Facts(ctx, fp)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("checking the deletion of Fargate profile %s: %w (try again)", fp.Name, err))
	}
	if f.Deleting == "" {
		return admission.Allowed("")
	}
	st := apierrors.NewConflict(schema.GroupResource{Group: eksv1.GroupVersion.Group, Resource: "fargateprofiles"}, fp.Name,
		fmt.Errorf("ResourceInUse: Fargate profile %q is being deleted, and a cluster deletes one profile at a time: delete %s once %s is gone", f.Deleting, fp.Name, f.Deleting)).ErrStatus
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st}}
}
