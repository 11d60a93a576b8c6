package support

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// hostNamespaces reports hostNetwork, hostPID and hostIPC, in that order, as
// EKS names them.
func hostNamespaces(pod *corev1.Pod) []Reason {
	var out []Reason
	for _, f := range []struct {
		set          bool
		field, named string
	}{
		{pod.Spec.HostNetwork, "spec.hostNetwork", "HostNetwork"},
		{pod.Spec.HostPID, "spec.hostPID", "HostPID"},
		{pod.Spec.HostIPC, "spec.hostIPC", "HostIPC"},
	} {
		if f.set {
			out = append(out, Reason{Kind: KindHostNamespace, Field: f.field, Detail: f.named})
		}
	}
	return out
}

// container is what the checks read of an init, regular or ephemeral
// container, with the path that names it.
type container struct {
	path      string
	security  *corev1.SecurityContext
	ports     []corev1.ContainerPort
	resources corev1.ResourceRequirements
}

// containersOf returns the pod's containers in Kubernetes' usual order: init
// containers, regular containers, ephemeral containers. Init containers run
// on the same VM, and ephemeral ones are added to it later, so all of them
// must be runnable on Fargate.
func containersOf(pod *corev1.Pod) []container {
	var out []container
	for i, c := range pod.Spec.InitContainers {
		out = append(out, container{fmt.Sprintf("spec.initContainers[%d]", i), c.SecurityContext, c.Ports, c.Resources})
	}
	for i, c := range pod.Spec.Containers {
		out = append(out, container{fmt.Sprintf("spec.containers[%d]", i), c.SecurityContext, c.Ports, c.Resources})
	}
	for i, c := range pod.Spec.EphemeralContainers {
		out = append(out, container{fmt.Sprintf("spec.ephemeralContainers[%d]", i), c.SecurityContext, c.Ports, c.Resources})
	}
	return out
}

// securityContexts reports privileged containers and added capabilities.
// The pod-level securityContext has neither field.
//
// Every added capability is reported, as written (EKS answered
// "Capabilities added: CAP_CHOWN" for a chart that added CAP_CHOWN): EKS
// on Fargate is reported to refuse even SYS_PTRACE, the one capability ECS
// on Fargate lets a task add, so no addition is known to be allowed.
func securityContexts(cs []container) []Reason {
	var out []Reason
	for _, c := range cs {
		sc := c.security
		if sc == nil {
			continue
		}
		if sc.Privileged != nil && *sc.Privileged {
			out = append(out, Reason{Kind: KindPrivileged, Field: c.path + ".securityContext.privileged", Detail: "Privileged"})
		}
		if sc.Capabilities == nil {
			continue
		}
		for i, capability := range sc.Capabilities.Add {
			out = append(out, Reason{Kind: KindCapability, Field: fmt.Sprintf("%s.securityContext.capabilities.add[%d]", c.path, i), Detail: string(capability)})
		}
	}
	return out
}

// hostPorts reports container ports bound to the host. With hostNetwork the
// API server defaults every hostPort to its containerPort, which is why EKS's
// messages for hostNetwork pods say this too.
func hostPorts(cs []container) []Reason {
	var out []Reason
	for _, c := range cs {
		for i, p := range c.ports {
			if p.HostPort != 0 || p.HostIP != "" {
				out = append(out, Reason{Kind: KindHostPort, Field: fmt.Sprintf("%s.ports[%d]", c.path, i), Detail: "port contains HostIP or HostPort"})
			}
		}
	}
	return out
}

// fargateResources are the only resources a Fargate VM has: no GPUs or
// Inferentia, no hugepages, no device plugins (they run as DaemonSets).
var fargateResources = map[corev1.ResourceName]bool{
	corev1.ResourceCPU:              true,
	corev1.ResourceMemory:           true,
	corev1.ResourceEphemeralStorage: true,
}

// extendedResources reports requests and limits, of containers and of the
// pod, of resources Fargate does not offer.
func extendedResources(pod *corev1.Pod, cs []container) []Reason {
	var out []Reason
	check := func(path string, r corev1.ResourceRequirements) {
		for _, list := range []struct {
			field string
			names corev1.ResourceList
		}{{"requests", r.Requests}, {"limits", r.Limits}} {
			for _, name := range slices.Sorted(maps.Keys(list.names)) { // in order, not the map's
				if !fargateResources[name] {
					out = append(out, Reason{Kind: KindResource, Field: fmt.Sprintf("%s.resources.%s[%s]", path, list.field, name), Detail: string(name)})
				}
			}
		}
	}
	for _, c := range cs {
		check(c.path, c.resources)
	}
	if pod.Spec.Resources != nil {
		check("spec", *pod.Spec.Resources)
	}
	return out
}
