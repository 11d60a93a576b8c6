package advise

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// synthetic returns n workloads of every kind and shape the rules tell
// apart: mostly Deployments of varied sizes, some privileged, some with a
// PDB, StatefulSets with EBS claims, Jobs, GPUs, and a DaemonSet in 500.
func synthetic(n int) []Workload {
	out := make([]Workload, n)
	for i := range out {
		cpu := fmt.Sprintf("%dm", 100+(i%37)*50)
		mem := fmt.Sprintf("%dMi", 128+(i%23)*256)
		w := workload(Deployment, named(fmt.Sprintf("w%05d", i)), replicas(int32(1+i%5), i%3 == 0),
			request("cpu", cpu), request("memory", mem))
		switch {
		case i%500 == 0:
			w.Kind, w.Template.Spec.Containers[0].Resources.Requests = DaemonSet, corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
		case i%7 == 0:
			w.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
		case i%11 == 0:
			claimTemplate("data", nil)(&w)
			w.Kind = StatefulSet
		case i%13 == 0:
			w.Kind, w.Retries = Job, true
		case i%101 == 0:
			w.Template.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = resource.MustParse("1")
		case i%17 == 0:
			w.MultiArch = true
		}
		out[i] = w
	}
	return out
}

func BenchmarkAdvise10000(b *testing.B) {
	in := Input{Workloads: synthetic(10000), Prices: prices(b)}
	b.ReportAllocs()
	for b.Loop() {
		r := Advise(in)
		if len(r.Advice) != 10000 {
			b.Fatal(len(r.Advice))
		}
	}
}
