package eks

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestFromKubernetes(t *testing.T) {
	gk := schema.GroupKind{Group: "eks.kdp.dev", Kind: "NodeGroup"}
	gr := schema.GroupResource{Group: "eks.kdp.dev", Resource: "nodegroups"}
	for _, tc := range []struct {
		name   string
		err    error
		code   string
		fields []string
		msg    string
	}{
		{"invalid", apierrors.NewInvalid(gk, "ng", field.ErrorList{
			field.Invalid(field.NewPath("spec", "scalingConfig", "minSize"), -1, "must be 0 or more"),
			field.Required(field.NewPath("spec", "nodeRole"), "EKS requires it"),
		}), CodeInvalidParameter, []string{"scalingConfig.minSize", "nodeRole"},
			"scalingConfig.minSize: Invalid value: -1: must be 0 or more; nodeRole: Required value: EKS requires it"},
		{"quota", apierrors.NewInvalid(gk, "ng", field.ErrorList{
			field.Forbidden(field.NewPath("metadata", "name"), "the cluster has 30 node groups, EKS's quota per cluster (ResourceLimitExceeded); delete one first"),
		}), CodeResourceLimitExceeded, []string{"nodegroupName"}, ""},
		{"in use", apierrors.NewConflict(gr, "ng", errors.New("ResourceInUse: update u is in progress")), CodeResourceInUse, nil, "update u is in progress"},
		{"exists", apierrors.NewAlreadyExists(gr, "ng"), CodeResourceInUse, nil, ""},
		{"gone", apierrors.NewNotFound(gr, "ng"), CodeResourceNotFound, nil, ""},
		{"fault", apierrors.NewInternalError(errors.New("etcd")), CodeServer, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fromKubernetes(tc.err, Error{ClusterName: "c", NodegroupName: "ng"}, "creating")
			if e.Code != tc.code {
				t.Fatalf("code %s (%s), want %s", e.Code, e.Message, tc.code)
			}
			if len(tc.fields) > 0 && !equal(e.Fields, tc.fields) {
				t.Errorf("fields %v, want %v", e.Fields, tc.fields)
			}
			if tc.msg != "" && e.Message != tc.msg {
				t.Errorf("message %q, want %q", e.Message, tc.msg)
			}
			if tc.code != CodeServer && (e.ClusterName != "c" || e.NodegroupName != "ng") {
				t.Errorf("context %+v lost", e)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPageOf(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	two := int32(2)
	var got []string
	token := ""
	for range 10 {
		page, next, err := pageOf(names, &two, token)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		token = next
	}
	if !equal(got, names) {
		t.Errorf("pages gave %v", got)
	}
	for _, bad := range []int32{0, 101} {
		if _, _, err := pageOf(names, &bad, ""); err == nil || err.Fields[0] != "maxResults" {
			t.Errorf("maxResults %d: %v", bad, err)
		}
	}
	if _, _, err := pageOf(names, nil, "garbage!"); err == nil || err.Fields[0] != "nextToken" {
		t.Errorf("a bad token: %v", err)
	}
	if page, next, _ := pageOf(names, nil, ""); len(page) != 5 || next != "" {
		t.Errorf("one page of all: %v %q", page, next)
	}
}
