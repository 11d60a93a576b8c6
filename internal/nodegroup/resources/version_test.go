package resources

import (
	"testing"

	"k8s.io/utils/ptr"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

func TestMaxUnavailable(t *testing.T) {
	for _, c := range []struct {
		name    string
		config  *eksv1.UpdateConfig
		desired int32
		want    int32
	}{
		{"default", nil, 10, 1},
		{"count", &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](3)}, 10, 3},
		{"count above the group", &eksv1.UpdateConfig{MaxUnavailable: ptr.To[int32](30)}, 10, 30},
		{"percentage rounds down", &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](25)}, 10, 2},
		{"percentage at least one", &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](1)}, 10, 1},
		{"percentage of an empty group", &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](50)}, 0, 1},
		{"ceiling 100", &eksv1.UpdateConfig{MaxUnavailablePercentage: ptr.To[int32](100)}, 450, 100},
	} {
		if got := MaxUnavailable(c.config, c.desired); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestSurge(t *testing.T) {
	// EKS's examples: 5 zones with maxUnavailable 1 add 10 nodes; with 20, 20.
	for _, c := range []struct {
		zones int
		max   int32
		want  int32
	}{{5, 1, 10}, {5, 20, 20}, {3, 3, 6}, {1, 1, 2}} {
		if got := Surge(c.zones, c.max); got != c.want {
			t.Errorf("Surge(%d, %d) = %d, want %d", c.zones, c.max, got, c.want)
		}
	}
}

func TestPendingVersion(t *testing.T) {
	applied := &eksv1.AppliedConfig{Version: "1.36", ReleaseVersion: "1.36.3-20261001", ImageID: "ami-1"}
	for _, c := range []struct {
		name string
		spec eksv1.NodeGroupSpec
		want bool
	}{
		{"same", eksv1.NodeGroupSpec{Version: "1.36", ReleaseVersion: "1.36.3-20261001"}, false},
		{"release", eksv1.NodeGroupSpec{Version: "1.36", ReleaseVersion: "1.36.3-20261101"}, true},
		{"version", eksv1.NodeGroupSpec{Version: "1.37", ReleaseVersion: "1.37.2-20261101"}, true},
		{"launch template version", eksv1.NodeGroupSpec{Version: "1.36", ReleaseVersion: "1.36.3-20261001", LaunchTemplate: &eksv1.LaunchTemplateSpecification{Name: "lt", Version: "2"}}, true},
	} {
		v, got := PendingVersion(applied, &c.spec)
		if got != c.want {
			t.Errorf("%s: pending %v, want %v", c.name, got, c.want)
		}
		back, err := VersionOf(v.Params())
		if err != nil || back != v {
			t.Errorf("%s: params %v read back as %+v (%v), want %+v", c.name, v.Params(), back, err, v)
		}
	}
	custom := &eksv1.AppliedConfig{Version: "1.36", ReleaseVersion: "ami-9", ImageID: "ami-9", LaunchTemplateVersion: "1"}
	if _, pending := PendingVersion(custom, &eksv1.NodeGroupSpec{Version: "1.36", LaunchTemplate: &eksv1.LaunchTemplateSpecification{ID: "lt-1", Version: "1"}}); pending {
		t.Error("a custom image's group with its template's version unchanged has no version update")
	}
}
