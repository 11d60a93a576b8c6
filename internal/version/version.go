// Package version reports the versions of kdp and of the Kubernetes it
// embeds. Both are stamped at build time with -ldflags (see the Makefile).
package version

import (
	"fmt"

	k8sversion "k8s.io/component-base/version"
)

// Version is kdp's version, set with -ldflags "-X .../internal/version.Version=...".
var Version = "v0.0.0-dev"

// Kubernetes is the version of the embedded control plane, as the apiserver
// reports it on /version.
func Kubernetes() string { return k8sversion.Get().GitVersion }

// String is the one line `kdp version` and `kdp up` print.
func String() string {
	return fmt.Sprintf("kdp %s (Kubernetes %s)", Version, Kubernetes())
}
