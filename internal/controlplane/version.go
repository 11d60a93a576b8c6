package controlplane

import (
	utilversion "k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
)

// The apiserver serves /version (kubectl version's "Server Version") from
// its effective version's Info(), which takes GitVersion from component-base:
// v0.0.0-master+$Format:%H$ unless -ldflags stamped it, as in a plain `go
// build`. component-base's SetDynamicVersion only takes versions of the
// stamped one's major.minor.patch, so it cannot set a real one; instead the
// apiserver's options get a registry whose kube effective version reports
// the version kdp reports (internal/version.Kubernetes, read from the build
// information).

// reportVersion returns r with the kube component's effective version
// reporting gitVersion in Info(), and r itself when gitVersion is not a
// release of the binary version's major.minor: an unknown version (the
// placeholder) is left as upstream reports it, and a mismatched one would
// contradict the major and minor that Info() reports beside it.
func reportVersion(r basecompatibility.ComponentGlobalsRegistry, gitVersion string) basecompatibility.ComponentGlobalsRegistry {
	kube := r.EffectiveVersionFor(basecompatibility.DefaultKubeComponent)
	if kube == nil {
		return r
	}
	v, err := utilversion.ParseSemantic(gitVersion)
	binary := kube.BinaryVersion()
	if err != nil || v.Major() != binary.Major() || v.Minor() != binary.Minor() {
		return r
	}
	return versionRegistry{ComponentGlobalsRegistry: r, kube: reportedVersion{EffectiveVersion: kube, gitVersion: gitVersion}}
}

// versionRegistry is a registry whose kube effective version is kube; the
// rest, including setting the emulation version and feature gates from the
// flags, is the wrapped registry's.
type versionRegistry struct {
	basecompatibility.ComponentGlobalsRegistry
	kube basecompatibility.EffectiveVersion
}

func (r versionRegistry) EffectiveVersionFor(component string) basecompatibility.EffectiveVersion {
	if component == basecompatibility.DefaultKubeComponent {
		return r.kube
	}
	return r.ComponentGlobalsRegistry.EffectiveVersionFor(component)
}

// reportedVersion is an effective version whose Info() reports gitVersion.
// Everything else is the wrapped one's, read when asked, so that an
// emulation version set after the wrapping is seen.
type reportedVersion struct {
	basecompatibility.EffectiveVersion
	gitVersion string
}

func (v reportedVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	if info != nil {
		info.GitVersion = v.gitVersion
	}
	return info
}
