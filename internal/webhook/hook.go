package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// DefaultTimeoutSeconds is how long the API server waits for a hook that
// sets no timeout.
const DefaultTimeoutSeconds = 10

// Hook is one admission webhook: served by the Server at Path, registered
// in the Server's configuration of its kind.
type Hook struct {
	// Name is the webhook's name in its configuration: a qualified name of
	// at least three segments (the API server requires it), such as
	// "nodegroups.eks.kdp.dev".
	Name string
	// Path is where it is served, such as "/validate-nodegroup".
	Path string
	// Mutating puts it into the MutatingWebhookConfiguration, else it goes
	// into the ValidatingWebhookConfiguration.
	Mutating bool
	// Rules say which operations on which resources it is sent.
	Rules []admissionregistrationv1.RuleWithOperations
	// NamespaceSelector, ObjectSelector and MatchConditions narrow that
	// further; unset, the hook sees everything its Rules match.
	NamespaceSelector *metav1.LabelSelector
	ObjectSelector    *metav1.LabelSelector
	MatchConditions   []admissionregistrationv1.MatchCondition
	// FailurePolicy defaults to Fail: a request the hook could not check is
	// refused, not admitted unchecked.
	FailurePolicy admissionregistrationv1.FailurePolicyType
	// TimeoutSeconds defaults to DefaultTimeoutSeconds (the API allows 1-30).
	TimeoutSeconds int32
	// Handler decides. An *admission.Webhook (such as admission.WithDefaulter
	// or WithValidator make) is served
	// as it is; any other Handler is wrapped in one, which decodes the
	// AdmissionReview and encodes the response.
	Handler admission.Handler
}

func (h Hook) validate() error {
	var errs []error
	if strings.Count(h.Name, ".") < 2 {
		errs = append(errs, fmt.Errorf("name %q is not a qualified name of three segments or more (such as nodegroups.eks.kdp.dev)", h.Name))
	}
	if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, "{} ") {
		errs = append(errs, fmt.Errorf("path %q does not start with / or holds {, } or a space", h.Path))
	}
	if len(h.Rules) == 0 {
		errs = append(errs, errors.New("no rules: it would never be called"))
	}
	if h.Handler == nil {
		errs = append(errs, errors.New("no handler"))
	}
	if h.TimeoutSeconds < 0 || h.TimeoutSeconds > 30 {
		errs = append(errs, fmt.Errorf("timeoutSeconds %d is not within 1-30", h.TimeoutSeconds))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("webhook %q: %w", h.Name, err)
	}
	return nil
}

// handler is what the server serves at Path, with controller-runtime's
// request metrics under the path's name.
func (h Hook) handler(logger logr.Logger) (http.Handler, error) {
	wh, ok := h.Handler.(*admission.Webhook)
	if !ok {
		wh = &admission.Webhook{Handler: h.Handler}
	}
	return admission.StandaloneWebhook(wh, admission.StandaloneOptions{Logger: logger.WithValues("webhook", h.Name), MetricsPath: h.Path})
}

func (h Hook) clientConfig(urlHost string, caBundle []byte) admissionregistrationv1.WebhookClientConfig {
	return admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://" + urlHost + h.Path), CABundle: caBundle}
}

func (h Hook) failurePolicy() *admissionregistrationv1.FailurePolicyType {
	if h.FailurePolicy == "" {
		return ptr.To(admissionregistrationv1.Fail)
	}
	return ptr.To(h.FailurePolicy)
}

func (h Hook) timeoutSeconds() *int32 {
	if h.TimeoutSeconds == 0 {
		return ptr.To[int32](DefaultTimeoutSeconds)
	}
	return ptr.To(h.TimeoutSeconds)
}

func (h Hook) validating(urlHost string, caBundle []byte) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:                    h.Name,
		ClientConfig:            h.clientConfig(urlHost, caBundle),
		Rules:                   h.Rules,
		FailurePolicy:           h.failurePolicy(),
		NamespaceSelector:       h.NamespaceSelector,
		ObjectSelector:          h.ObjectSelector,
		MatchConditions:         h.MatchConditions,
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          h.timeoutSeconds(),
		AdmissionReviewVersions: []string{"v1"},
	}
}

func (h Hook) mutating(urlHost string, caBundle []byte) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{
		Name:                    h.Name,
		ClientConfig:            h.clientConfig(urlHost, caBundle),
		Rules:                   h.Rules,
		FailurePolicy:           h.failurePolicy(),
		NamespaceSelector:       h.NamespaceSelector,
		ObjectSelector:          h.ObjectSelector,
		MatchConditions:         h.MatchConditions,
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          h.timeoutSeconds(),
		AdmissionReviewVersions: []string{"v1"},
	}
}
