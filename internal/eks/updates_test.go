package eks

import (
	"time"

	"reflect"
	"testing"

	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/eks/types"
)

func TestApplyConfig(t *testing.T) {
	base := func() *eksv1.NodeGroupSpec {
		return &eksv1.NodeGroupSpec{
			ScalingConfig: &eksv1.ScalingConfig{MinSize: 1, MaxSize: 3, DesiredSize: 2},
			Labels:        map[string]string{"a": "1", "b": "2"},
			Taints:        []eksv1.Taint{{Key: "k", Value: "v", Effect: eksv1.NoSchedule}},
			UpdateConfig:  &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](1)},
		}
	}
	for _, tc := range []struct {
		name  string
		in    types.UpdateNodegroupConfigRequest
		want  func(*eksv1.NodeGroupSpec)
		field string
	}{
		{"a size", types.UpdateNodegroupConfigRequest{ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: ptr.To[int32](3)}},
			func(s *eksv1.NodeGroupSpec) { s.ScalingConfig.DesiredSize = 3 }, ""},
		{"labels added, changed and removed", types.UpdateNodegroupConfigRequest{Labels: &types.UpdateLabelsPayload{
			AddOrUpdateLabels: map[string]string{"a": "9", "c": "3"}, RemoveLabels: []string{"b", "absent"}}},
			func(s *eksv1.NodeGroupSpec) { s.Labels = map[string]string{"a": "9", "c": "3"} }, ""},
		{"a label both added and removed", types.UpdateNodegroupConfigRequest{Labels: &types.UpdateLabelsPayload{
			AddOrUpdateLabels: map[string]string{"a": "9"}, RemoveLabels: []string{"a"}}}, nil, "labels"},
		{"a taint's value changed, another added", types.UpdateNodegroupConfigRequest{Taints: &types.UpdateTaintsPayload{
			AddOrUpdateTaints: []types.Taint{{Key: "k", Value: "w", Effect: "NO_SCHEDULE"}, {Key: "k", Effect: "NO_EXECUTE"}}}},
			func(s *eksv1.NodeGroupSpec) {
				s.Taints = []eksv1.Taint{{Key: "k", Value: "w", Effect: eksv1.NoSchedule}, {Key: "k", Effect: eksv1.NoExecute}}
			}, ""},
		{"a taint removed by key and effect", types.UpdateNodegroupConfigRequest{Taints: &types.UpdateTaintsPayload{
			RemoveTaints: []types.Taint{{Key: "k", Effect: "NO_SCHEDULE"}}}},
			func(s *eksv1.NodeGroupSpec) { s.Taints = []eksv1.Taint{} }, ""},
		{"a taint both added and removed", types.UpdateNodegroupConfigRequest{Taints: &types.UpdateTaintsPayload{
			AddOrUpdateTaints: []types.Taint{{Key: "k", Effect: "NO_SCHEDULE"}}, RemoveTaints: []types.Taint{{Key: "k", Effect: "NO_SCHEDULE"}}}}, nil, "taints"},
		{"a percentage replaces a count", types.UpdateNodegroupConfigRequest{UpdateConfig: &types.NodegroupUpdateConfig{MaxUnavailablePercentage: ptr.To[int32](50)}},
			func(s *eksv1.NodeGroupSpec) {
				s.UpdateConfig = &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](50)}
			}, ""},
		{"the strategy alone keeps the count", types.UpdateNodegroupConfigRequest{UpdateConfig: &types.NodegroupUpdateConfig{UpdateStrategy: "MINIMAL"}},
			func(s *eksv1.NodeGroupSpec) { s.UpdateConfig.UpdateStrategy = "MINIMAL" }, ""},
		{"repair on", types.UpdateNodegroupConfigRequest{NodeRepairConfig: &types.NodeRepairConfig{Enabled: ptr.To(true)}},
			func(s *eksv1.NodeGroupSpec) { s.NodeRepairConfig = &eksv1.NodeRepairConfig{Enabled: ptr.To(true)} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := base()
			err := applyConfig(got, &tc.in)
			if tc.field != "" {
				if err == nil || len(err.Fields) != 1 || err.Fields[0] != tc.field || err.Code != CodeInvalidParameter {
					t.Fatalf("error %+v, want InvalidParameterException about %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base()
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("spec\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestRequestReplay(t *testing.T) {
	type body struct{ A string }
	first := request("t1", body{"x"}, timeZero)
	ann := first.annotate(nil, AnnotationCreateRequest)[AnnotationCreateRequest]
	for _, tc := range []struct {
		name string
		r    requestRecord
		code string
	}{
		{"the same request", request("t1", body{"x"}, timeZero), ""},
		{"the token with another request", request("t1", body{"y"}, timeZero), CodeInvalidRequest},
		{"another token", request("t2", body{"x"}, timeZero), CodeResourceInUse},
		{"no token", request("", body{"x"}, timeZero), CodeResourceInUse},
	} {
		e := tc.r.replay(ann, Error{NodegroupName: "ng"})
		switch {
		case tc.code == "" && e != nil:
			t.Errorf("%s: %v, want the result of the first", tc.name, e)
		case tc.code != "" && (e == nil || e.Code != tc.code || e.NodegroupName != "ng"):
			t.Errorf("%s: %+v, want %s", tc.name, e, tc.code)
		}
	}
}

var timeZero = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
