// Package version reports the versions of kdp and of the Kubernetes it
// embeds. kdp's own is stamped at build time with -ldflags (see the
// Makefile). The Kubernetes version is read from the binary's build
// information, so that a plain `go build` or `go install` reports it too.
package version

import (
	"fmt"
	"runtime/debug"
	"sync"

	utilversion "k8s.io/apimachinery/pkg/util/version"
	k8sversion "k8s.io/component-base/version"
)

// Version is kdp's version, set with -ldflags "-X .../internal/version.Version=...".
var Version = "v0.0.0-dev"

// kubernetesModule is the module the embedded control plane is built from.
const kubernetesModule = "k8s.io/kubernetes"

// Kubernetes is the version of the embedded control plane, as the apiserver
// reports it on /version (internal/controlplane makes it report this one).
func Kubernetes() string { return kubernetes() }

var kubernetes = sync.OnceValue(func() string {
	bi, _ := debug.ReadBuildInfo()
	return kubernetesVersion(k8sversion.Get().GitVersion, bi)
})

// kubernetesVersion picks the Kubernetes version from component-base's
// version (stamped is its GitVersion) and the binary's build information.
//
// A version stamped with -ldflags wins: everything else in the binary that
// reads component-base's version (metrics, the components' logs) reports
// that one. Unstamped, it is the version of the k8s.io/kubernetes module the
// binary was built with. Without one, as in a test binary (go test records
// no dependencies in it, golang/go#76926) or with k8s.io/kubernetes replaced
// by a directory, it is component-base's unstamped placeholder: kdp cannot
// know better, and says so the way upstream does.
func kubernetesVersion(stamped string, bi *debug.BuildInfo) string {
	if isStamped(stamped) {
		return stamped
	}
	if v, ok := moduleVersion(bi, kubernetesModule); ok {
		return v
	}
	return stamped
}

// isStamped reports whether a component-base GitVersion was set with
// -ldflags. Unset it is a v0.0.0 placeholder ("v0.0.0-master+$Format:%H$");
// k8s.io/apiserver tells the two apart the same way.
func isStamped(gitVersion string) bool {
	v, err := utilversion.ParseGeneric(gitVersion)
	return err == nil && (v.Major() != 0 || v.Minor() != 0)
}

// moduleVersion is the version of the module path that bi records: that of
// its replacement if it is replaced. A module that bi does not list, or that
// is replaced by a directory (which has no version), has none.
func moduleVersion(bi *debug.BuildInfo, path string) (string, bool) {
	if bi == nil {
		return "", false
	}
	for _, m := range bi.Deps {
		if m.Path != path {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return "", false
		}
		return m.Version, true
	}
	return "", false
}

// String is the one line `kdp version` and `kdp up` print.
func String() string {
	return fmt.Sprintf("kdp %s (Kubernetes %s)", Version, Kubernetes())
}
