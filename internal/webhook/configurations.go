package webhook

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// FieldOwner is the field manager of the configurations' server-side
// applies.
const FieldOwner = "kdp"

// ManagedByLabel, set to "kdp", marks the configurations kdp applied: kdp
// updates and deletes those and no other, for it may run against a
// cluster that is a user's.
const ManagedByLabel = "app.kubernetes.io/managed-by"

// register applies the two configurations with caBundle; one without hooks
// of its kind is not created, and deleted if an earlier kdp created it.
func (s *Server) register(ctx context.Context, caBundle []byte) error {
	validating, mutating := s.configurations(caBundle)
	if err := s.sync(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{}, validating); err != nil {
		return err
	}
	return s.sync(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{}, mutating)
}

// configurations are the objects to apply, nil for a kind without hooks.
func (s *Server) configurations(caBundle []byte) (validating, mutating client.Object) {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingWebhookConfiguration"},
	}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingWebhookConfiguration"},
	}
	for _, h := range s.hooks {
		if h.Mutating {
			mwc.Webhooks = append(mwc.Webhooks, h.mutating(s.urlHost, caBundle))
		} else {
			vwc.Webhooks = append(vwc.Webhooks, h.validating(s.urlHost, caBundle))
		}
	}
	meta := metav1.ObjectMeta{Name: s.opts.Name, Labels: map[string]string{ManagedByLabel: FieldOwner}}
	vwc.ObjectMeta, mwc.ObjectMeta = meta, meta
	if len(vwc.Webhooks) > 0 {
		validating = vwc
	}
	if len(mwc.Webhooks) > 0 {
		mutating = mwc
	}
	return validating, mutating
}

// sync applies want, or deletes the configuration (kind, of the server's
// name) when want is nil. Either only if the configuration is kdp's.
func (s *Server) sync(ctx context.Context, current client.Object, want client.Object) error {
	kind := kindOf(current)
	err := s.client.Get(ctx, client.ObjectKey{Name: s.opts.Name}, current)
	switch {
	case apierrors.IsNotFound(err):
		if want == nil {
			return nil
		}
	case err != nil:
		return fmt.Errorf("reading %s %s: %w", kind, s.opts.Name, err)
	case current.GetLabels()[ManagedByLabel] != FieldOwner:
		return fmt.Errorf("%s %s exists and is not kdp's (it lacks the label %s=%s): kdp leaves it alone; give kdp's webhook server another name",
			kind, s.opts.Name, ManagedByLabel, FieldOwner)
	case want == nil:
		return deleteOwn(ctx, s.client, current)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, s.opts.Name, err)
	}
	unstructured.RemoveNestedField(obj, "metadata", "creationTimestamp")
	// Forced: fields of kdp's own configuration that someone else set are
	// kdp's again, so that every start converges.
	ac := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: obj})
	if err := s.client.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, s.opts.Name, err)
	}
	return nil
}

// Remove deletes the validating and the mutating configuration called name
// if they are kdp's; the server registers them again when it next starts.
// A configuration of that name that is not kdp's is left alone.
func Remove(ctx context.Context, c client.Client, name string) error {
	for _, obj := range []client.Object{
		&admissionregistrationv1.ValidatingWebhookConfiguration{},
		&admissionregistrationv1.MutatingWebhookConfiguration{},
	} {
		err := c.Get(ctx, client.ObjectKey{Name: name}, obj)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return fmt.Errorf("reading %s %s: %w", kindOf(obj), name, err)
		case obj.GetLabels()[ManagedByLabel] != FieldOwner:
			log.FromContext(ctx).Info("not removing a webhook configuration that is not kdp's", "kind", kindOf(obj), "name", name)
			continue
		}
		if err := deleteOwn(ctx, c, obj); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwn deletes obj as it was read: the UID precondition keeps a
// configuration someone made since under the same name.
func deleteOwn(ctx context.Context, c client.Client, obj client.Object) error {
	uid := obj.GetUID()
	err := c.Delete(ctx, obj, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s %s: %w", kindOf(obj), obj.GetName(), err)
	}
	return nil
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*admissionregistrationv1.MutatingWebhookConfiguration); ok {
		return "MutatingWebhookConfiguration"
	}
	return "ValidatingWebhookConfiguration"
}
