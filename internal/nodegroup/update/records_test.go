package update

import (
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

func record(name string, generation int64, status eksv1.UpdateStatus) eksv1.NodeGroupUpdate {
	r := eksv1.NodeGroupUpdate{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: eksv1.NodeGroupUpdateSpec{Generation: generation}}
	r.Status.Status = status
	return r
}

func names(rs []eksv1.NodeGroupUpdate) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// history is n ended records of generations 1..n, listed newest first
// (the order a list gives is not the records' order).
func history(n int) []eksv1.NodeGroupUpdate {
	var rs []eksv1.NodeGroupUpdate
	for g := n; g >= 1; g-- {
		rs = append(rs, record(fmt.Sprintf("u-%03d", g), int64(g), eksv1.UpdateSuccessful))
	}
	return rs
}

func TestPrunable(t *testing.T) {
	for _, c := range []struct {
		name    string
		records []eksv1.NodeGroupUpdate
		want    []string
	}{
		{"none", nil, nil},
		{"exactly History", history(History), nil},
		{"one beyond", history(History + 1), []string{"u-001"}},
		{"three beyond, oldest first", history(History + 3), []string{"u-001", "u-002", "u-003"}},
		{"generations, not names, are the order", append(history(History), record("a-last", History+1, eksv1.UpdateFailed)), []string{"u-001"}},
		{"generations compare as numbers", func() []eksv1.NodeGroupUpdate {
			rs := history(History)
			return append(rs, record("z-old", 0, eksv1.UpdateCancelled))
		}(), []string{"z-old"}},
		{"an update in progress is kept", func() []eksv1.NodeGroupUpdate {
			rs := history(History + 2)
			rs[len(rs)-1].Status.Status = eksv1.UpdateInProgress // generation 1
			return rs
		}(), []string{"u-002"}},
		{"an update not yet started is kept", func() []eksv1.NodeGroupUpdate {
			rs := history(History + 1)
			rs[len(rs)-1].Status.Status = ""
			return rs
		}(), nil},
		{"the same generation twice: by name", append(history(History), record("u-000", 1, eksv1.UpdateFailed)), []string{"u-000"}},
	} {
		before := names(c.records)
		got := names(prunable(c.records))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: prunable = %v, want %v", c.name, got, c.want)
		}
		if !reflect.DeepEqual(names(c.records), before) {
			t.Errorf("%s: prunable reordered its input", c.name)
		}
	}
}

func TestDone(t *testing.T) {
	for status, want := range map[eksv1.UpdateStatus]bool{
		"": false, eksv1.UpdateInProgress: false,
		eksv1.UpdateSuccessful: true, eksv1.UpdateFailed: true, eksv1.UpdateCancelled: true,
	} {
		r := record("u", 1, status)
		if got := done(&r); got != want {
			t.Errorf("done(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestDescribeAndErrors(t *testing.T) {
	params := []eksv1.UpdateParam{{Type: eksv1.ParamLabelsToAdd, Value: `{"l1":"v1"}`}, {Type: eksv1.ParamMinSize, Value: "1"}}
	if got, want := describe(params), `LabelsToAdd={"l1":"v1"}, MinSize=1`; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	if got := describe(nil); got != "" {
		t.Errorf("describe(nil) = %q", got)
	}
	r := record("u", 1, eksv1.UpdateFailed)
	r.Status.Errors = []eksv1.ErrorDetail{{ErrorCode: "PodEvictionFailure", ErrorMessage: "Reached max retries"}, {ErrorCode: "Unknown", ErrorMessage: "x"}}
	if got, want := errorsOf(&r), "PodEvictionFailure: Reached max retries; Unknown: x"; got != want {
		t.Errorf("errorsOf = %q, want %q", got, want)
	}
}
