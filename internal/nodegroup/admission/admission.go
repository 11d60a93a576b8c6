// Package admission is the NodeGroup's admission webhooks, served by kdp's
// one webhook server: a mutating hook that fills in EKS's defaults and
// then checks every rule at once, so that `kubectl apply` of a bad object
// lists every problem (those the CRD's schema and CEL would find, and
// those only the cloud's catalogue can tell) before anything is written,
// and a validating hook that checks the object as it is finally stored.
// Both refuse a change of a group that is being created, updated or
// deleted (ResourceInUse), as EKS does.
package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/validation"
	"github.com/kdp-project/kdp/internal/webhook"
)

// Paths of the hooks on the webhook server.
const (
	DefaultPath  = "/nodegroups/default"
	ValidatePath = "/nodegroups/validate"
	ScalePath    = "/nodegroups/scale"
)

// Checker fills in and checks NodeGroups against the cloud's catalogue
// and the cluster.
type Checker struct {
	reader  client.Reader
	cloud   cloud.Provider
	catalog *validation.Facts
}

// NewChecker returns a Checker. It reads the cloud's catalogue and the
// cluster's version once (neither changes while kdp runs); reader lists
// NodeGroups (for the quota per cluster).
func NewChecker(ctx context.Context, reader client.Reader, p cloud.Provider, clusterVersion string) (*Checker, error) {
	types, err := p.InstanceTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's instance types: %w", err)
	}
	images, err := p.Images(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's images: %w", err)
	}
	subnets, err := p.Subnets(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's subnets: %w", err)
	}
	account, err := p.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's account: %w", err)
	}
	f := validation.NewFacts(types, images, subnets)
	f.ClusterVersion, f.Account = validation.Minor(clusterVersion), account.ID
	return &Checker{reader: reader, cloud: p, catalog: f}, nil
}

// Facts are what checking ng needs: the catalogue, how many other node
// groups there are, and the launch template it names.
func (c *Checker) Facts(ctx context.Context, ng *eksv1.NodeGroup) (*validation.Facts, error) {
	f := *c.catalog
	groups := &eksv1.NodeGroupList{}
	if err := c.reader.List(ctx, groups); err != nil {
		return nil, fmt.Errorf("listing node groups: %w", err)
	}
	for _, g := range groups.Items {
		if g.Name != ng.Name {
			f.Nodegroups++
		}
	}
	if lt := ng.Spec.LaunchTemplate; lt != nil && (lt.ID == "") != (lt.Name == "") {
		f.LaunchTemplate, f.LaunchTemplateErr = c.launchTemplate(ctx, lt)
	}
	return &f, nil
}

// launchTemplate reads the version of the user's template a spec names
// (the default one when it names none).
func (c *Checker) launchTemplate(ctx context.Context, spec *eksv1.LaunchTemplateSpecification) (*cloud.LaunchTemplateVersion, error) {
	lt, err := c.cloud.GetLaunchTemplate(ctx, cloud.TemplateRef{ID: spec.ID, Name: spec.Name})
	if cloud.IsNotFound(err) {
		return nil, fmt.Errorf("launch template %s does not exist (SourceEc2LaunchTemplateNotFound: see kdp sim launch-templates)", cloud.TemplateRef{ID: spec.ID, Name: spec.Name})
	}
	if err != nil {
		return nil, fmt.Errorf("reading launch template %s: %w", cloud.TemplateRef{ID: spec.ID, Name: spec.Name}, err)
	}
	want := lt.DefaultVersion
	if spec.Version != "" {
		if want, err = strconv.ParseInt(spec.Version, 10, 64); err != nil {
			return nil, fmt.Errorf("version %q is not a number", spec.Version)
		}
	}
	for i := range lt.Versions {
		if lt.Versions[i].Number == want {
			return &lt.Versions[i], nil
		}
	}
	return nil, fmt.Errorf("launch template %s has no version %d (its latest is %d)", lt.Name, want, lt.LatestVersion)
}

// Check fills in ng's defaults (with defaults) and checks it, with old the
// group before a change (nil on create). It returns nil, or the error to
// answer with: an Invalid status listing every problem, or a Conflict if
// the only problem is that the group cannot change now.
func (c *Checker) Check(ctx context.Context, ng, old *eksv1.NodeGroup, defaults bool) (*metav1.Status, error) {
	if old != nil && apiequality.Semantic.DeepEqual(ng.Spec, old.Spec) {
		return nil, nil // metadata (a finalizer going) or nothing: not a change of the group
	}
	f, err := c.Facts(ctx, ng)
	if err != nil {
		return nil, err
	}
	if defaults {
		validation.Default(ng, old, f)
		if old != nil && apiequality.Semantic.DeepEqual(ng.Spec, old.Spec) {
			return nil, nil
		}
	}
	errs := validation.Validate(ng, old, f)
	inUse := ""
	if old != nil && validation.Changes(&ng.Spec, &old.Spec) {
		inUse = validation.InUse(old)
	}
	gk := schema.GroupKind{Group: eksv1.GroupVersion.Group, Kind: "NodeGroup"}
	switch {
	case len(errs) == 0 && inUse != "":
		st := apierrors.NewConflict(schema.GroupResource{Group: gk.Group, Resource: "nodegroups"}, ng.Name, fmt.Errorf("ResourceInUse: %s", inUse)).ErrStatus
		return &st, nil
	case inUse != "":
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "ResourceInUse: "+inUse))
	}
	if len(errs) == 0 {
		return nil, nil
	}
	st := apierrors.NewInvalid(gk, ng.Name, errs).ErrStatus
	return &st, nil
}

// handler serves one hook.
type handler struct {
	checker  *Checker
	decoder  admission.Decoder
	defaults bool
}

func (h *handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	ng := &eksv1.NodeGroup{}
	if err := h.decoder.DecodeRaw(req.Object, ng); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	var old *eksv1.NodeGroup
	if req.Operation == admissionv1.Update {
		old = &eksv1.NodeGroup{}
		if err := h.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
	}
	status, err := h.checker.Check(ctx, ng, old, h.defaults)
	switch {
	case err != nil:
		return admission.Errored(http.StatusInternalServerError, err)
	case status != nil:
		return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: status}}
	case !h.defaults:
		return admission.Allowed("")
	}
	patched, err := json.Marshal(ng)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, patched)
}

// scaleHandler checks a change through the scale subresource (kubectl
// scale) as the same change of the group's spec: its desiredSize within
// the group's sizes, and not while the group is in use.
type scaleHandler struct {
	checker *Checker
	decoder admission.Decoder
}

func (h *scaleHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	scale := &autoscalingv1.Scale{}
	if err := h.decoder.DecodeRaw(req.Object, scale); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	old := &eksv1.NodeGroup{}
	if err := h.checker.reader.Get(ctx, client.ObjectKey{Name: req.Name}, old); err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading node group %s: %w", req.Name, err))
	}
	ng := old.DeepCopy()
	if ng.Spec.ScalingConfig == nil {
		ng.Spec.ScalingConfig = &eksv1.ScalingConfig{}
	}
	ng.Spec.ScalingConfig.DesiredSize = scale.Spec.Replicas
	status, err := h.checker.Check(ctx, ng, old, false)
	switch {
	case err != nil:
		return admission.Errored(http.StatusInternalServerError, err)
	case status != nil:
		return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: status}}
	}
	return admission.Allowed("")
}

// Hooks are the NodeGroup's webhooks, for kdp's webhook server.
func Hooks(scheme *runtime.Scheme, c *Checker) []webhook.Hook {
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{eksv1.GroupVersion.Group}, APIVersions: []string{eksv1.GroupVersion.Version},
			Resources: []string{"nodegroups"}, Scope: ptr.To(admissionregistrationv1.ClusterScope),
		},
	}}
	decoder := admission.NewDecoder(scheme)
	return []webhook.Hook{
		{Name: "default.nodegroups.eks.kdp.dev", Path: DefaultPath, Mutating: true, Rules: rules, Handler: &handler{checker: c, decoder: decoder, defaults: true}},
		{Name: "validate.nodegroups.eks.kdp.dev", Path: ValidatePath, Rules: rules, Handler: &handler{checker: c, decoder: decoder}},
		{Name: "scale.nodegroups.eks.kdp.dev", Path: ScalePath, Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{eksv1.GroupVersion.Group}, APIVersions: []string{eksv1.GroupVersion.Version},
				Resources: []string{"nodegroups/scale"}, Scope: ptr.To(admissionregistrationv1.ClusterScope),
			},
		}}, Handler: &scaleHandler{checker: c, decoder: decoder}},
	}
}
