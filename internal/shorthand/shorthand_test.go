package shorthand

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kdp-project/kdp/internal/eks/types"
)

func ptr[T any](v T) *T { return &v }

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		into func() any
		want any
	}{
		{"scaling config", "minSize=1,maxSize=3,desiredSize=2", func() any { return &types.NodegroupScalingConfig{} },
			&types.NodegroupScalingConfig{MinSize: ptr[int32](1), MaxSize: ptr[int32](3), DesiredSize: ptr[int32](2)}},
		{"spaces after commas", "minSize=0, maxSize=3", func() any { return &types.NodegroupScalingConfig{} },
			&types.NodegroupScalingConfig{MinSize: ptr[int32](0), MaxSize: ptr[int32](3)}},
		{"json", `{"maxSize":4}`, func() any { return &types.NodegroupScalingConfig{} },
			&types.NodegroupScalingConfig{MaxSize: ptr[int32](4)}},
		{"taint", "key=dedicated,value=gpu,effect=NO_SCHEDULE", func() any { return &types.Taint{} },
			&types.Taint{Key: "dedicated", Value: "gpu", Effect: types.TaintEffectNoSchedule}},
		{"labels map", "team=web,tier=front", func() any { return &map[string]string{} },
			&map[string]string{"team": "web", "tier": "front"}},
		{"quoted value keeps its comma", `note="a,b",x=y`, func() any { return &map[string]string{} },
			&map[string]string{"note": "a,b", "x": "y"}},
		{"update labels payload", "addOrUpdateLabels={a=b,c=d},removeLabels=e,f", func() any { return &types.UpdateLabelsPayload{} },
			&types.UpdateLabelsPayload{AddOrUpdateLabels: map[string]string{"a": "b", "c": "d"}, RemoveLabels: []string{"e", "f"}}},
		{"bracketed list", "removeLabels=[e,f]", func() any { return &types.UpdateLabelsPayload{} },
			&types.UpdateLabelsPayload{RemoveLabels: []string{"e", "f"}}},
		{"list of structures", "addOrUpdateTaints=[{key=a,effect=NO_EXECUTE},{key=b,value=c,effect=NO_SCHEDULE}]", func() any { return &types.UpdateTaintsPayload{} },
			&types.UpdateTaintsPayload{AddOrUpdateTaints: []types.Taint{{Key: "a", Effect: types.TaintEffectNoExecute}, {Key: "b", Value: "c", Effect: types.TaintEffectNoSchedule}}}},
		{"selector with labels", "namespace=prod-*,labels={app=web}", func() any { return &types.FargateProfileSelector{} },
			&types.FargateProfileSelector{Namespace: "prod-*", Labels: map[string]string{"app": "web"}}},
		{"a backslash keeps a comma", `k=a\,b,x=y`, func() any { return &map[string]string{} },
			&map[string]string{"k": "a,b", "x": "y"}},
		{"a value with =", "k=a=b", func() any { return &map[string]string{} }, &map[string]string{"k": "a=b"}},
		{"a JSON list", `[{"namespace":"a"},{"namespace":"b"}]`, func() any { return &[]types.FargateProfileSelector{} },
			&[]types.FargateProfileSelector{{Namespace: "a"}, {Namespace: "b"}}},
		{"list of scalars", "a,b,c", func() any { return &[]string{} }, &[]string{"a", "b", "c"}},
		{"update config", "maxUnavailablePercentage=50,updateStrategy=MINIMAL", func() any { return &types.NodegroupUpdateConfig{} },
			&types.NodegroupUpdateConfig{MaxUnavailablePercentage: ptr[int32](50), UpdateStrategy: "MINIMAL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.into()
			if err := Parse(tc.in, got); err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name, in, wantErr string
		into              any
	}{
		{"typo names the members", "minSize=1,maxsize=3", `unknown member "maxsize": the members are desiredSize, maxSize, minSize`, &types.NodegroupScalingConfig{}},
		{"not a number", "minSize=one", `minSize: "one" is not a whole number`, &types.NodegroupScalingConfig{}},
		{"no value", "minSize", `expected key=value at offset 0`, &types.NodegroupScalingConfig{}},
		{"unclosed", "addOrUpdateLabels={a=b", "missing } at the end", &types.UpdateLabelsPayload{}},
		{"empty", " ", "empty value", &types.NodegroupScalingConfig{}},
		{"json with unknown member", `{"minimum":1}`, `unknown field "minimum"`, &types.NodegroupScalingConfig{}},
		{"bad JSON says so", `{"maxSize":1,}`, "JSON: invalid character", &types.NodegroupScalingConfig{}},
		{"structure where a value goes", "namespace={a=b}", "namespace: expected a value", &types.FargateProfileSelector{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Parse(tc.in, tc.into)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) = %v, want an error containing %q", tc.in, err, tc.wantErr)
			}
		})
	}
}
