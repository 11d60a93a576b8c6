package admission

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

func TestProfileHook(t *testing.T) {
	ten := make([]*eksv1.FargateProfile, 10)
	for i := range ten {
		ten[i] = profile(fmt.Sprintf("p%d", i), eksv1.FargateActive, "prod")
	}
	for _, c := range []struct {
		name     string
		existing []*eksv1.FargateProfile
		create   *eksv1.FargateProfile
		// causes are the errors of the answer, as field: part of the
		// message; none: allowed.
		causes map[string]string
	}{
		{name: "a valid profile", existing: ten[:9], create: profile("web", "", "web")},
		{name: "ten profiles already", existing: ten, create: profile("web", "", "web"), causes: map[string]string{
			"metadata.name": "ResourceLimitExceeded: a cluster has at most 10 Fargate profiles (it has 10)",
		}},
		{name: "one being deleted", existing: []*eksv1.FargateProfile{
			profile("a", eksv1.FargateActive, "a"), beingDeleted(profile("old", eksv1.FargateActive, "old")),
		}, create: profile("web", "", "web"), causes: map[string]string{
			"metadata.name": `ResourceInUse: Fargate profile "old" is being deleted`,
		}},
		{name: "one DELETING by its status", existing: []*eksv1.FargateProfile{profile("old", eksv1.FargateDeleting, "old")},
			create: profile("web", "", "web"), causes: map[string]string{
				"metadata.name": `Fargate profile "old" is being deleted`,
			}},
		{name: "bad fields, every one at once", create: &eksv1.FargateProfile{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: eksv1.FargateProfileSpec{
				PodExecutionRoleArn: "my-role",
				Subnets:             []string{publicSubnet, "subnet-nope"},
				Selectors:           []eksv1.FargateProfileSelector{{Namespace: "Prod"}, {}},
				Tags:                map[string]string{"aws:owner": "me"},
			},
		}, causes: map[string]string{
			"spec.podExecutionRoleArn":    "IAM role's ARN",
			"spec.subnets[0]":             "is public: Fargate pods run only in private subnets",
			"spec.subnets[1]":             "unknown subnet subnet-nope",
			"spec.selectors[0].namespace": "namespace's name",
			"spec.selectors[1].namespace": "needs a namespace",
			"spec.tags[aws:owner]":        "aws:",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			validate, _ := hooks(t, c.existing...)
			resp := validate.Handle(context.Background(), createRequest(t, c.create, ""))
			if len(c.causes) == 0 {
				if !resp.Allowed {
					t.Fatalf("refused: %+v", resp.Result)
				}
				return
			}
			st := resp.Result
			if resp.Allowed || st == nil || st.Reason != metav1.StatusReasonInvalid || st.Code != http.StatusUnprocessableEntity || st.Details == nil {
				t.Fatalf("response %+v, want Invalid", resp.AdmissionResponse)
			}
			got := map[string]string{}
			for _, cause := range st.Details.Causes {
				got[cause.Field] += cause.Message
			}
			for field, want := range c.causes {
				if !strings.Contains(got[field], want) {
					t.Errorf("%s: %q, want it to say %q", field, got[field], want)
				}
			}
			if len(st.Details.Causes) != len(c.causes) {
				t.Errorf("%d causes, want %d: %v", len(st.Details.Causes), len(c.causes), st.Details.Causes)
			}
			if !strings.Contains(st.Message, `FargateProfile.eks.kdp.dev "`+c.create.Name+`" is invalid`) {
				t.Errorf("message %q does not name the profile", st.Message)
			}
		})
	}
}

// TestProfileHookDoesNotCountItself: a profile is not one of the "other"
// profiles counted against the quota, should the reader already hold it
// (a create retried after it was stored).
func TestProfileHookDoesNotCountItself(t *testing.T) {
	existing := make([]*eksv1.FargateProfile, 10)
	for i := range existing {
		existing[i] = profile(fmt.Sprintf("p%d", i), eksv1.FargateActive, "prod")
	}
	validate, _ := hooks(t, existing...)
	if resp := validate.Handle(context.Background(), createRequest(t, profile("p9", "", "prod"), "")); !resp.Allowed {
		t.Fatalf("refused: %+v", resp.Result)
	}
}
