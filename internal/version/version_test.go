package version

import (
	"runtime/debug"
	"testing"
)

func TestKubernetesVersion(t *testing.T) {
	const placeholder = "v0.0.0-master+$Format:%H$" // component-base's, unstamped
	kdp := debug.Module{Path: "github.com/kdp-project/kdp", Version: "(devel)"}
	built := func(deps ...*debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Path: "github.com/kdp-project/kdp/cmd/kdp", Main: kdp, Deps: deps}
	}
	kubernetes := func(version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: "k8s.io/kubernetes", Version: version, Replace: replace}
	}
	clientGo := &debug.Module{Path: "k8s.io/client-go", Version: "v0.37.2"}

	for _, tc := range []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"go build", placeholder, built(clientGo, kubernetes("v1.37.2", nil)), "v1.37.2"},
		{"make build: stamped and built agree", "v1.37.2", built(kubernetes("v1.37.2", nil)), "v1.37.2"},
		{"a stamped version wins", "v1.37.2-kdp.1", built(kubernetes("v1.37.2", nil)), "v1.37.2-kdp.1"},
		{"pseudo-version", placeholder, built(kubernetes("v1.37.3-0.20260801120000-0123456789ab", nil)), "v1.37.3-0.20260801120000-0123456789ab"},
		{"replaced by another version", placeholder,
			built(kubernetes("v1.37.2", &debug.Module{Path: "k8s.io/kubernetes", Version: "v1.37.3"})), "v1.37.3"},
		{"replaced by a fork", placeholder,
			built(kubernetes("v1.37.2", &debug.Module{Path: "example.com/kubernetes", Version: "v1.37.2-fork.1"})), "v1.37.2-fork.1"},
		{"replaced by a directory", placeholder,
			built(kubernetes("v1.37.2", &debug.Module{Path: "../kubernetes", Version: "(devel)"})), placeholder},
		{"test binary: no dependencies recorded", placeholder, built(), placeholder},
		{"not linked in", placeholder, built(clientGo), placeholder},
		{"no build information", placeholder, nil, placeholder},
		{"stamped, no build information", "v1.37.2", nil, "v1.37.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kubernetesVersion(tc.stamped, tc.bi); got != tc.want {
				t.Errorf("kubernetesVersion(%q, ...) = %q, want %q", tc.stamped, got, tc.want)
			}
		})
	}
}

func TestIsStamped(t *testing.T) {
	for v, want := range map[string]bool{
		"v0.0.0-master+$Format:%H$": false,
		"":                          false,
		"v0.0.0":                    false,
		"v1.37.2":                   true,
		"v1.37.2-rc.0+abcdef":       true,
	} {
		if got := isStamped(v); got != want {
			t.Errorf("isStamped(%q) = %v, want %v", v, got, want)
		}
	}
}
