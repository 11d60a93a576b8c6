package sizing

import (
	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// NodeOverheadMiB is the memory Fargate adds to every pod's request for the
// node components that share its VM: kubelet, kube-proxy and containerd.
const NodeOverheadMiB = 256

// Size returns the Fargate size EKS provisions for pod:
//
//  1. the pod's requests (see Requests);
//  2. plus NodeOverheadMiB of memory;
//  3. rounded up to the smallest vCPU at least the cpu request whose memory
//     options reach the memory, then to that vCPU's smallest memory option at
//     least the memory. With no requests at all that is 0.25 vCPU and 0.5 GB;
//  4. ephemeral storage: the request rounded up to whole GiB, and at least
//     DefaultEphemeralStorageGiB.
//
// A pod that asks for more than the largest size gets a *TooLargeError.
func Size(pod *corev1.Pod) (Result, error) {
	reqs := Requests(pod)
	cpu, memory, storage := reqs[corev1.ResourceCPU], reqs[corev1.ResourceMemory], reqs[corev1.ResourceEphemeralStorage]

	milliCPU := cpu.MilliValue()
	memoryBytes := memory.Value() + NodeOverheadMiB*mib
	storageGiB := ceilDiv(storage.Value(), gib)

	tooLarge := &TooLargeError{CPU: cpu, Memory: memory, EphemeralStorage: storage}
	tooLarge.Compute = milliCPU > largest.MilliCPU || memoryBytes > largest.MemoryMiB*mib
	tooLarge.Storage = storageGiB > MaxEphemeralStorageGiB
	if tooLarge.Compute || tooLarge.Storage {
		return Result{}, tooLarge
	}

	r := Result{EphemeralStorageGiB: max(storageGiB, DefaultEphemeralStorageGiB)}
	for _, t := range tiers {
		if t.milliCPU < milliCPU || t.memoryMiB[len(t.memoryMiB)-1]*mib < memoryBytes {
			continue
		}
		r.MilliCPU = t.milliCPU
		for _, m := range t.memoryMiB {
			if m*mib >= memoryBytes {
				r.MemoryMiB = m
				break
			}
		}
		break
	}
	return r, nil
}

// Requests returns what pod asks for, before Fargate adds its overhead and
// rounds: for each resource the larger of the largest init container and the
// sum of the regular containers, with sidecars (init containers with
// restartPolicy Always) counted among the regular ones, exactly as the
// kube-scheduler and the kubelet count them. Pod-level resources, where set,
// take precedence, as they do for the kube-scheduler.
//
// A container with a limit but no request is counted at its limit: the API
// server defaults requests so, but a pod built in code may not have been
// through it.
//
// Pod overhead (from a RuntimeClass) is left out: Fargate does not count it,
// the 256 MiB NodeOverheadMiB stands for the VM's own needs instead.
func Requests(pod *corev1.Pod) corev1.ResourceList {
	return resourcehelper.PodRequests(withLimitsAsRequests(pod), resourcehelper.PodResourcesOptions{ExcludeOverhead: true})
}

// withLimitsAsRequests returns a copy of pod in which every limit without a
// request is also a request, as API server defaulting would have made it.
func withLimitsAsRequests(pod *corev1.Pod) *corev1.Pod {
	pod = pod.DeepCopy()
	for i := range pod.Spec.InitContainers {
		fillRequests(&pod.Spec.InitContainers[i].Resources)
	}
	for i := range pod.Spec.Containers {
		fillRequests(&pod.Spec.Containers[i].Resources)
	}
	if pod.Spec.Resources != nil {
		fillRequests(pod.Spec.Resources)
	}
	return pod
}

func fillRequests(r *corev1.ResourceRequirements) {
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[name] = limit
	}
}

func ceilDiv(n, d int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + d - 1) / d
}
