package sizing

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestSizesTable(t *testing.T) {
	sizes := Sizes()
	// 3 + 4 + 7 + 13 + 23 + 12 + 12, from Fargate's table.
	if len(sizes) != 74 {
		t.Errorf("len(Sizes()) = %d, want 74", len(sizes))
	}
	for i, s := range sizes {
		if s.EphemeralStorageGiB != DefaultEphemeralStorageGiB {
			t.Errorf("Sizes()[%d] = %+v, want the default ephemeral storage", i, s)
		}
		if i > 0 {
			p := sizes[i-1]
			if s.MilliCPU < p.MilliCPU || s.MilliCPU == p.MilliCPU && s.MemoryMiB <= p.MemoryMiB {
				t.Errorf("Sizes()[%d] = %s after %s: want ascending by vCPU, then memory", i, s.CapacityProvisioned(), p.CapacityProvisioned())
			}
		}
	}
	if first, last := sizes[0].CapacityProvisioned(), sizes[len(sizes)-1].CapacityProvisioned(); first != "0.25vCPU 0.5GB" || last != "16vCPU 120GB" {
		t.Errorf("Sizes() runs from %q to %q, want 0.25vCPU 0.5GB to 16vCPU 120GB", first, last)
	}
	sizes[0].MilliCPU = 1
	if Sizes()[0].MilliCPU != 250 {
		t.Errorf("changing Sizes()'s slice changed the table")
	}
}

// Every size in the table is one Size gives: a pod that asks for exactly it
// (less Fargate's 256Mi) gets it, and its annotation parses back to it.
func TestEverySize(t *testing.T) {
	for _, s := range Sizes() {
		t.Run(s.CapacityProvisioned(), func(t *testing.T) {
			parsed, err := Parse(s.CapacityProvisioned())
			if err != nil || parsed != s {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", s.CapacityProvisioned(), parsed, err, s)
			}
			pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewMilliQuantity(s.MilliCPU, resource.DecimalSI),
				corev1.ResourceMemory: *resource.NewQuantity((s.MemoryMiB-NodeOverheadMiB)*mib, resource.BinarySI),
			}}}}}}
			if got, err := Size(pod); err != nil || got != s {
				t.Errorf("Size(a pod asking for it) = %s, %v", got.CapacityProvisioned(), err)
			}
		})
	}
}

func TestCapacityProvisioned(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{MilliCPU: 250, MemoryMiB: 512}, "0.25vCPU 0.5GB"},
		{Result{MilliCPU: 500, MemoryMiB: 4096}, "0.5vCPU 4GB"},
		{Result{MilliCPU: 1000, MemoryMiB: 2048}, "1vCPU 2GB"},
		{Result{MilliCPU: 2000, MemoryMiB: 9216}, "2vCPU 9GB"},
		{Result{MilliCPU: 16000, MemoryMiB: 122880}, "16vCPU 120GB"},
	} {
		if got := tc.r.CapacityProvisioned(); got != tc.want {
			t.Errorf("%+v.CapacityProvisioned() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `CapacityProvisioned "": want <vCPU>vCPU <memory>GB, e.g. "0.25vCPU 0.5GB"`},
		{"0.25vCPU", `CapacityProvisioned "0.25vCPU": want <vCPU>vCPU <memory>GB, e.g. "0.25vCPU 0.5GB"`},
		{"1 vCPU 2 GB", `CapacityProvisioned "1 vCPU 2 GB": want <vCPU>vCPU <memory>GB, e.g. "0.25vCPU 0.5GB"`},
		{"1.2.3vCPU 2GB", `CapacityProvisioned "1.2.3vCPU 2GB": want <vCPU>vCPU <memory>GB, e.g. "0.25vCPU 0.5GB"`},
		{"0.3vCPU 1GB", `CapacityProvisioned "0.3vCPU 1GB": not a Fargate size (see sizing.Sizes)`},
		{"1vCPU 9GB", `CapacityProvisioned "1vCPU 9GB": not a Fargate size (see sizing.Sizes)`},
		{"8vCPU 17GB", `CapacityProvisioned "8vCPU 17GB": not a Fargate size (see sizing.Sizes)`},
		{"1.0vCPU 2GB", `CapacityProvisioned "1.0vCPU 2GB": not a Fargate size (see sizing.Sizes)`},
		{"0.25vCPU 0.50GB", `CapacityProvisioned "0.25vCPU 0.50GB": not a Fargate size (see sizing.Sizes)`},
	} {
		if got, err := Parse(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want error %s", tc.in, got, err, tc.want)
		}
	}
}

func TestResourceList(t *testing.T) {
	for _, tc := range []struct {
		r                    Result
		cpu, memory, storage string
	}{
		{Result{MilliCPU: 250, MemoryMiB: 512, EphemeralStorageGiB: 20}, "250m", "512Mi", "20Gi"},
		{Result{MilliCPU: 2000, MemoryMiB: 9216, EphemeralStorageGiB: 100}, "2", "9Gi", "100Gi"},
	} {
		got := tc.r.ResourceList()
		if len(got) != 3 {
			t.Errorf("%+v.ResourceList() = %v, want cpu, memory and ephemeral-storage", tc.r, got)
		}
		for name, want := range map[corev1.ResourceName]string{corev1.ResourceCPU: tc.cpu, corev1.ResourceMemory: tc.memory, corev1.ResourceEphemeralStorage: tc.storage} {
			if q := got[name]; q.String() != want {
				t.Errorf("%+v.ResourceList()[%s] = %s, want %s", tc.r, name, q.String(), want)
			}
		}
	}
}
