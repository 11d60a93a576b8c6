package sizing

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// TooLargeError says a pod asks for more than Fargate's largest size, so it
// cannot run on Fargate however long it waits. Its message names what the pod
// asked for and the largest size, and is written to be a FailedScheduling
// event's message as it is.
type TooLargeError struct {
	// CPU, Memory and EphemeralStorage are the pod's requests (see
	// Requests); Memory is without NodeOverheadMiB.
	CPU, Memory, EphemeralStorage resource.Quantity
	// Compute is set when the cpu, or the memory with NodeOverheadMiB, is
	// more than the largest size: 16 vCPU and 120 GB.
	Compute bool
	// Storage is set when the ephemeral storage, in whole GiB, is more than
	// MaxEphemeralStorageGiB.
	Storage bool
}

func (e *TooLargeError) Error() string {
	var parts []string
	if e.Compute {
		parts = append(parts, fmt.Sprintf("pod requests %s vCPU and %s of memory (plus %dMi for Fargate's node components); the largest Fargate size is %s vCPU and %s GB",
			formatVCPU(e.CPU.MilliValue()), e.Memory.String(), NodeOverheadMiB, formatVCPU(largest.MilliCPU), formatGB(largest.MemoryMiB)))
	}
	if e.Storage {
		parts = append(parts, fmt.Sprintf("pod requests %s of ephemeral storage; the largest Fargate ephemeral storage is %d GiB",
			e.EphemeralStorage.String(), MaxEphemeralStorageGiB))
	}
	return strings.Join(parts, "; ")
}
