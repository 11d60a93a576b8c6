// Package support decides whether Fargate can run a pod, and says why not in
// the words EKS's fargate-scheduler uses in its FailedScheduling events.
//
// Check finds every reason at once, so a user fixes a pod in one round rather
// than one rejection at a time; Message renders them as one event message.
package support

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Kind is what makes a pod unsupported. Message renders reasons grouped by
// kind, in the order of these constants, which is the order of EKS's own
// messages where they are known.
type Kind int

const (
	// KindHostNamespace: hostNetwork, hostPID or hostIPC. Fargate gives each
	// pod its own VM; there is no host to share.
	KindHostNamespace Kind = iota
	// KindPrivileged: a container's securityContext.privileged.
	KindPrivileged
	// KindCapability: a capability in a container's
	// securityContext.capabilities.add.
	KindCapability
	// KindHostPort: a container port with a hostPort or hostIP.
	KindHostPort
	// KindVolume: a volume of a type Fargate cannot mount.
	KindVolume
	// KindPersistentVolume: a PVC volume bound to a PV Fargate cannot mount.
	KindPersistentVolume
	// KindResource: a request or limit of a resource Fargate does not offer
	// (GPUs and other extended resources, hugepages).
	KindResource
	// KindNodeSelector: a nodeSelector entry no Fargate node has.
	KindNodeSelector
	// KindNodeAffinity: required node affinity no Fargate node satisfies.
	KindNodeAffinity
	// KindOutsideRegion: node selection that requires a Local Zone or a
	// Wavelength Zone (see ZoneLocation), where Fargate does not run.
	KindOutsideRegion
	// KindDaemonSet: the pod belongs to a DaemonSet.
	KindDaemonSet
)

// Reason is one thing that keeps a pod off Fargate.
type Reason struct {
	Kind Kind
	// Field is the path of the field at fault, e.g.
	// "spec.initContainers[0].securityContext.privileged", for logs and
	// for users who want to find it.
	Field string
	// Detail is what the message says for this reason within its kind: the
	// field name ("HostNetwork"), the capability, the volume's sentence
	// ("data is of an unsupported volume Type"), the resource name, the
	// selector ("kubernetes.io/arch=arm64").
	Detail string
	// Location is, for KindOutsideRegion, where the pod asks to run.
	Location Location
}

// String says the reason on its own, with its field, e.g.
// "spec.hostNetwork: fields not supported: HostNetwork".
func (r Reason) String() string {
	return r.Field + ": " + render([]Reason{r})
}

// PersistentVolumeLookup returns the PersistentVolume the pod's claim (a
// PersistentVolumeClaim in the pod's namespace) is bound to, or nil if the
// claim is not bound yet. An error (the claim or the volume cannot be read)
// stops Check: a pod is not called unsupported on a read that failed.
type PersistentVolumeLookup func(claimName string) (*corev1.PersistentVolume, error)

// Check returns every reason pod cannot run on Fargate, none if it can. With
// a nil lookup, PVC volumes are taken to be supported.
func Check(pod *corev1.Pod, lookup PersistentVolumeLookup) ([]Reason, error) {
	var reasons []Reason
	reasons = append(reasons, hostNamespaces(pod)...)
	cs := containersOf(pod)
	reasons = append(reasons, securityContexts(cs)...)
	reasons = append(reasons, hostPorts(cs)...)
	vs, err := volumes(pod, lookup)
	if err != nil {
		return nil, fmt.Errorf("checking pod %s/%s for Fargate: %w", pod.Namespace, pod.Name, err)
	}
	reasons = append(reasons, vs...)
	reasons = append(reasons, extendedResources(pod, cs)...)
	reasons = append(reasons, nodeSelector(pod)...)
	reasons = append(reasons, nodeAffinity(pod)...)
	reasons = append(reasons, outsideRegion(pod)...)
	reasons = append(reasons, daemonSet(pod)...)
	return reasons, nil
}
