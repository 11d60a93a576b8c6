package types

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestamp(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		wire string
	}{
		{time.Unix(1796211453, 0), "1796211453"},
		{time.Unix(1796211453, 120_000_000), "1796211453.12"},
		{time.Unix(1796211453, 123_456_789), "1796211453.123"},
	} {
		b, err := json.Marshal(Timestamp{tc.t})
		if err != nil || string(b) != tc.wire {
			t.Errorf("%v: %s, %v; want %s", tc.t, b, err, tc.wire)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tc.t.Truncate(time.Millisecond)) {
			t.Errorf("%s read back as %v, %v", b, back.Time, err)
		}
	}
	if NewTimestamp(time.Time{}) != nil {
		t.Error("the zero time is a timestamp; want none (absent)")
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &Timestamp{}); err == nil {
		t.Error("a string read as a timestamp")
	}
}

func TestOperations(t *testing.T) {
	served := 0
	for _, op := range Operations {
		if op.Method == "" || op.URI == "" || len(op.Errors) == 0 {
			t.Errorf("%+v: no method, URI or errors", op)
		}
		for _, e := range op.Errors {
			if _, ok := ErrorStatus[e]; !ok {
				t.Errorf("%s declares %s, which has no status", op.Name, e)
			}
		}
		if op.Served {
			served++
			if _, ok := Bindings[op.Name]; !ok {
				t.Errorf("%s is served but has no binding", op.Name)
			}
		}
	}
	if served != len(Bindings) || served != 28 {
		t.Errorf("%d served operations, %d bindings; want 28", served, len(Bindings))
	}
	if ErrorStatus["ResourceNotFoundException"] != 404 || ErrorStatus["ResourceInUseException"] != 409 {
		t.Errorf("error statuses %v", ErrorStatus)
	}
}

func TestOmitsWhatIsAbsent(t *testing.T) {
	b, err := json.Marshal(Nodegroup{NodegroupName: "ng", ScalingConfig: &NodegroupScalingConfig{MinSize: new(int32), MaxSize: new(int32)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"nodegroupName":"ng","scalingConfig":{"maxSize":0,"minSize":0}}`; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func TestListsAreSentEmpty(t *testing.T) {
	b, err := json.Marshal(ListNodegroupsResponse{Nodegroups: []string{}})
	if err != nil || string(b) != `{"nodegroups":[]}` {
		t.Errorf("%s, %v; want the empty list, and no nextToken", b, err)
	}
	b, err = json.Marshal(ListTagsForResourceResponse{Tags: map[string]string{}})
	if err != nil || string(b) != `{"tags":{}}` {
		t.Errorf("%s, %v; want the empty map", b, err)
	}
}
