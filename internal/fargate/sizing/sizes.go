// Package sizing decides which Fargate size a pod gets: the vCPU, memory and
// ephemeral storage EKS provisions for it and writes into the pod's
// CapacityProvisioned annotation. The Fargate scheduler sizes a pod's node
// with it, and a cost advisor prices pods with it, so both agree on what a
// pod costs.
//
// Fargate's documentation writes memory in "GB"; this package takes it to
// mean GiB (2^30 bytes), so the 0.5 GB option is 512 MiB and the 2 GB one
// 2048 MiB, and a request of "2G" (decimal) plus Fargate's 256 MiB needs
// more than 2 GB. It uses binary units throughout and writes "GB" only where
// EKS does: in the annotation, and in messages that quote Fargate's sizes.
package sizing

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// AnnotationCapacityProvisioned is the pod annotation in which EKS records the
// size it provisioned, e.g. "0.25vCPU 0.5GB". Fargate bills by it.
const AnnotationCapacityProvisioned = "CapacityProvisioned"

// DefaultEphemeralStorageGiB is the ephemeral storage every Fargate pod gets
// unless it asks for more; MaxEphemeralStorageGiB is the most it can ask for.
const (
	DefaultEphemeralStorageGiB = 20
	MaxEphemeralStorageGiB     = 175
)

// Result is a Fargate size: what a pod is provisioned, and what its node
// offers.
type Result struct {
	// MilliCPU is the vCPU in thousandths: 250 is 0.25 vCPU.
	MilliCPU int64
	// MemoryMiB is the memory in MiB: 512 is Fargate's "0.5GB".
	MemoryMiB int64
	// EphemeralStorageGiB is the ephemeral storage in GiB, at least
	// DefaultEphemeralStorageGiB. Fargate's over-provisioning for its own use
	// (a 100 GiB request gets 115 GiB of disk) is not part of it: this is the
	// size the pod can count on and is billed for.
	EphemeralStorageGiB int64
}

// CapacityProvisioned returns the value EKS writes into the
// CapacityProvisioned annotation for this size, e.g. "0.25vCPU 0.5GB" or
// "2vCPU 9GB". It does not mention ephemeral storage: EKS's does not either.
func (r Result) CapacityProvisioned() string {
	return formatVCPU(r.MilliCPU) + "vCPU " + formatGB(r.MemoryMiB) + "GB"
}

// ResourceList returns the size as a node's capacity: cpu, memory and
// ephemeral-storage.
func (r Result) ResourceList() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewMilliQuantity(r.MilliCPU, resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(r.MemoryMiB*mib, resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(r.EphemeralStorageGiB*gib, resource.BinarySI),
	}
}

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// tier is one vCPU size and the memory sizes Fargate offers with it, in MiB,
// ascending.
type tier struct {
	milliCPU  int64
	memoryMiB []int64
}

// tiers is Fargate's table of sizes, smallest first; Size relies on the order
// to pick the smallest fit.
var tiers = []tier{
	{250, []int64{512, 1024, 2048}},
	{500, gibSteps(1, 4, 1)},
	{1000, gibSteps(2, 8, 1)},
	{2000, gibSteps(4, 16, 1)},
	{4000, gibSteps(8, 30, 1)},
	{8000, gibSteps(16, 60, 4)},
	{16000, gibSteps(32, 120, 8)},
}

// largest is the largest Fargate size, which too-large errors quote.
var largest = Result{MilliCPU: 16000, MemoryMiB: 120 * 1024, EphemeralStorageGiB: MaxEphemeralStorageGiB}

// gibSteps returns from, from+step, ... to GiB, in MiB.
func gibSteps(from, to, step int64) []int64 {
	var out []int64
	for g := from; g <= to; g += step {
		out = append(out, g*1024)
	}
	return out
}

// Sizes returns every vCPU and memory combination Fargate offers, smallest
// vCPU first and, within one vCPU, smallest memory first, each with the
// default ephemeral storage. The slice is the caller's to keep.
func Sizes() []Result {
	var out []Result
	for _, t := range tiers {
		for _, m := range t.memoryMiB {
			out = append(out, Result{MilliCPU: t.milliCPU, MemoryMiB: m, EphemeralStorageGiB: DefaultEphemeralStorageGiB})
		}
	}
	return out
}

var capacityProvisionedRE = regexp.MustCompile(`^([0-9.]+)vCPU ([0-9.]+)GB$`)

// Parse reads a CapacityProvisioned annotation's value back into a Result. It
// accepts only sizes Fargate offers. The annotation does not record
// ephemeral storage, so the Result has the default.
func Parse(capacityProvisioned string) (Result, error) {
	m := capacityProvisionedRE.FindStringSubmatch(capacityProvisioned)
	if m == nil {
		return Result{}, fmt.Errorf("%s %q: want <vCPU>vCPU <memory>GB, e.g. \"0.25vCPU 0.5GB\"", AnnotationCapacityProvisioned, capacityProvisioned)
	}
	vcpu, err1 := strconv.ParseFloat(m[1], 64)
	gb, err2 := strconv.ParseFloat(m[2], 64)
	if err1 != nil || err2 != nil {
		return Result{}, fmt.Errorf("%s %q: want <vCPU>vCPU <memory>GB, e.g. \"0.25vCPU 0.5GB\"", AnnotationCapacityProvisioned, capacityProvisioned)
	}
	r := Result{MilliCPU: int64(math.Round(vcpu * 1000)), MemoryMiB: int64(math.Round(gb * 1024)), EphemeralStorageGiB: DefaultEphemeralStorageGiB}
	// Compare the text, not the numbers: "0.2500vCPU" or "1.0001vCPU" are not
	// what EKS writes, and float rounding must not make them a size.
	if r.CapacityProvisioned() != capacityProvisioned || !offered(r) {
		return Result{}, fmt.Errorf("%s %q: not a Fargate size (see sizing.Sizes)", AnnotationCapacityProvisioned, capacityProvisioned)
	}
	return r, nil
}

// offered reports whether r's vCPU and memory are a combination in the table.
func offered(r Result) bool {
	for _, t := range tiers {
		if t.milliCPU != r.MilliCPU {
			continue
		}
		for _, m := range t.memoryMiB {
			if m == r.MemoryMiB {
				return true
			}
		}
	}
	return false
}

// formatVCPU writes millicores as EKS writes vCPU: a decimal without trailing
// zeros ("0.25", "1", "16").
func formatVCPU(milli int64) string {
	return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
}

// formatGB writes MiB as EKS writes Fargate's GB: GiB as a decimal without
// trailing zeros ("0.5", "9", "120").
func formatGB(miB int64) string {
	return strconv.FormatFloat(float64(miB)/1024, 'f', -1, 64)
}
