package controlplane

import (
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
)

func TestReportVersion(t *testing.T) {
	for _, tc := range []struct {
		name, gitVersion string
		// want is the GitVersion Info() reports; empty when the registry
		// is to be left as it is.
		want string
	}{
		{"a release of the binary's minor", "v1.37.2", "v1.37.2"},
		{"a pre-release of it", "v1.37.0-rc.1", "v1.37.0-rc.1"},
		{"unknown: component-base's placeholder", "v0.0.0-master+$Format:%H$", ""},
		{"another minor", "v1.36.4", ""},
		{"not a version", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			registry := basecompatibility.NewComponentGlobalsRegistry()
			kube := basecompatibility.NewEffectiveVersionFromString("1.37", "1.34", "1.34")
			if err := registry.Register(basecompatibility.DefaultKubeComponent, kube, featuregate.NewFeatureGate()); err != nil {
				t.Fatal(err)
			}
			got := reportVersion(registry, tc.gitVersion)
			if tc.want == "" {
				if got != basecompatibility.ComponentGlobalsRegistry(registry) {
					t.Fatalf("registry wrapped for %q", tc.gitVersion)
				}
				return
			}
			// The emulation version is set from the flags after the wrapping.
			kube.SetEmulationVersion(utilversion.MajorMinor(1, 36))
			info := got.EffectiveVersionFor(basecompatibility.DefaultKubeComponent).Info()
			if info.GitVersion != tc.want || info.Major != "1" || info.Minor != "37" || info.EmulationMinor != "36" {
				t.Errorf("Info() = %+v, want GitVersion %s, Major 1, Minor 37, EmulationMinor 36", info, tc.want)
			}
			if got.FeatureGateFor(basecompatibility.DefaultKubeComponent) == nil {
				t.Error("the wrapped registry's feature gate is lost")
			}
		})
	}
}
