package sizing

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// resources parses "cpu=1,memory=8Gi" into a ResourceList; "" is none.
func resources(t *testing.T, s string) corev1.ResourceList {
	t.Helper()
	if s == "" {
		return nil
	}
	out := corev1.ResourceList{}
	for _, kv := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("resources %q: %q is not name=quantity", s, kv)
		}
		q, err := resource.ParseQuantity(value)
		if err != nil {
			t.Fatalf("resources %q: %v", s, err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out
}

// spec is a container in a test table: its requests and limits, and whether
// it is a sidecar (only meaningful among init containers).
type spec struct {
	requests, limits string
	sidecar          bool
}

func req(requests string) spec            { return spec{requests: requests} }
func lim(limits string) spec              { return spec{limits: limits} }
func sidecar(requests string) spec        { return spec{requests: requests, sidecar: true} }
func reqLim(requests, limits string) spec { return spec{requests: requests, limits: limits} }

func containers(t *testing.T, specs []spec) []corev1.Container {
	var out []corev1.Container
	for i, s := range specs {
		c := corev1.Container{
			Name:      "c" + string(rune('0'+i)),
			Resources: corev1.ResourceRequirements{Requests: resources(t, s.requests), Limits: resources(t, s.limits)},
		}
		if s.sidecar {
			always := corev1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
		}
		out = append(out, c)
	}
	return out
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		init, main []spec
		podLevel   string // spec.resources.requests
		overhead   string
		want       string // CapacityProvisioned
		wantGiB    int64  // ephemeral storage
		wantErr    string
	}{
		{name: "no requests: the smallest size", main: []spec{req("")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "no containers at all", want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "exact fit: 256Mi plus 256Mi is 0.5 GB", main: []spec{req("cpu=250m,memory=256Mi")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "exact fit: 768Mi plus 256Mi is 1 GB", main: []spec{req("cpu=250m,memory=768Mi")}, want: "0.25vCPU 1GB", wantGiB: 20},
		{name: "exact fit: 7.75Gi plus 256Mi is 8 GB", main: []spec{req("cpu=1,memory=7936Mi")}, want: "1vCPU 8GB", wantGiB: 20},
		{name: "exact fit: the largest size", main: []spec{req("cpu=16,memory=122624Mi")}, want: "16vCPU 120GB", wantGiB: 20},
		{name: "256Mi pushes 0.25 vCPU with 2Gi to 0.5 vCPU", main: []spec{req("cpu=250m,memory=2Gi")}, want: "0.5vCPU 3GB", wantGiB: 20},
		{name: "EKS's worked example: 1 vCPU with 8Gi is 2 vCPU 9 GB", main: []spec{req("cpu=1,memory=8Gi")}, want: "2vCPU 9GB", wantGiB: 20},
		{name: "GB is GiB: 2G (decimal) plus 256Mi is past 2 GB", main: []spec{req("cpu=1,memory=2G")}, want: "1vCPU 3GB", wantGiB: 20},
		{name: "cpu below the smallest rounds up", main: []spec{req("cpu=100m")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "cpu 0.3 rounds to 0.5, with its smallest memory", main: []spec{req("cpu=300m")}, want: "0.5vCPU 1GB", wantGiB: 20},
		{name: "cpu 3 rounds to 4, with its smallest memory", main: []spec{req("cpu=3")}, want: "4vCPU 8GB", wantGiB: 20},
		{name: "cpu 9 rounds to 16, whose smallest memory is 32 GB", main: []spec{req("cpu=9,memory=1Gi")}, want: "16vCPU 32GB", wantGiB: 20},
		{name: "memory forces a bigger vCPU: 1 vCPU with 31Gi", main: []spec{req("cpu=1,memory=31Gi")}, want: "8vCPU 32GB", wantGiB: 20},
		{name: "memory alone forces a bigger vCPU: 5Gi", main: []spec{req("memory=5Gi")}, want: "1vCPU 6GB", wantGiB: 20},
		{name: "8 vCPU, memory between the 4 GB steps", main: []spec{req("cpu=8,memory=17Gi")}, want: "8vCPU 20GB", wantGiB: 20},
		{name: "8 vCPU, exactly on a 4 GB step", main: []spec{req("cpu=8,memory=59904Mi")}, want: "8vCPU 60GB", wantGiB: 20},
		{name: "16 vCPU, memory between the 8 GB steps", main: []spec{req("cpu=16,memory=33Gi")}, want: "16vCPU 40GB", wantGiB: 20},
		{name: "regular containers are summed", main: []spec{req("cpu=500m,memory=1Gi"), req("cpu=500m,memory=1Gi")}, want: "1vCPU 3GB", wantGiB: 20},
		{
			name: "an init container larger than the sum sizes the pod",
			init: []spec{req("cpu=2,memory=4Gi")},
			main: []spec{req("cpu=500m,memory=1Gi"), req("cpu=500m,memory=1Gi")},
			want: "2vCPU 5GB", wantGiB: 20,
		},
		{
			name: "the larger per resource: cpu from the init container, memory from the sum",
			init: []spec{req("cpu=2,memory=1Gi")},
			main: []spec{req("cpu=250m,memory=3Gi"), req("cpu=250m,memory=3Gi")},
			want: "2vCPU 7GB", wantGiB: 20,
		},
		{
			name: "a sidecar counts with the regular containers, not as an init container",
			init: []spec{sidecar("cpu=1,memory=3Gi")},
			main: []spec{req("cpu=1,memory=4Gi")},
			want: "2vCPU 8GB", wantGiB: 20, // not 1 vCPU 5 GB, as max(init, sum) would give
		},
		{
			name: "an init container after a sidecar runs beside it",
			init: []spec{sidecar("cpu=500m"), req("cpu=1")},
			main: []spec{req("cpu=250m")},
			want: "2vCPU 4GB", wantGiB: 20, // 1.5 vCPU while the init container runs
		},
		{name: "limits only: the limits are the requests", main: []spec{lim("cpu=1,memory=2Gi")}, want: "1vCPU 3GB", wantGiB: 20},
		{name: "limits only, in an init container", init: []spec{lim("cpu=2")}, main: []spec{req("cpu=250m")}, want: "2vCPU 4GB", wantGiB: 20},
		{name: "a request below its limit: the request", main: []spec{reqLim("cpu=250m,memory=256Mi", "cpu=2,memory=4Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "a limit fills only the request that is missing", main: []spec{reqLim("cpu=250m", "cpu=2,memory=1Gi")}, want: "0.25vCPU 2GB", wantGiB: 20},
		{name: "pod-level requests take precedence", podLevel: "cpu=2,memory=4Gi", main: []spec{req("cpu=250m")}, want: "2vCPU 5GB", wantGiB: 20},
		{name: "pod overhead is ignored", overhead: "cpu=250m,memory=512Mi", main: []spec{req("cpu=250m,memory=256Mi")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "storage: below the default gets the default", main: []spec{req("ephemeral-storage=10Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 20},
		{name: "storage: 100Gi", main: []spec{req("ephemeral-storage=100Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 100},
		{name: "storage: rounded up to whole GiB", main: []spec{req("ephemeral-storage=102401Mi")}, want: "0.25vCPU 0.5GB", wantGiB: 101},
		{name: "storage: summed across containers", main: []spec{req("ephemeral-storage=30Gi"), req("ephemeral-storage=40Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 70},
		{name: "storage: an init container larger than the sum", init: []spec{req("ephemeral-storage=50Gi")}, main: []spec{req("ephemeral-storage=10Gi"), req("ephemeral-storage=10Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 50},
		{name: "storage: limits only", main: []spec{lim("ephemeral-storage=30Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 30},
		{name: "storage: 175Gi is the most", main: []spec{req("ephemeral-storage=175Gi")}, want: "0.25vCPU 0.5GB", wantGiB: 175},
		{
			name:    "too large: cpu",
			main:    []spec{req("cpu=20,memory=64Gi")},
			wantErr: "pod requests 20 vCPU and 64Gi of memory (plus 256Mi for Fargate's node components); the largest Fargate size is 16 vCPU and 120 GB",
		},
		{
			name:    "too large: fractional cpu",
			main:    []spec{req("cpu=16500m")},
			wantErr: "pod requests 16.5 vCPU and 0 of memory (plus 256Mi for Fargate's node components); the largest Fargate size is 16 vCPU and 120 GB",
		},
		{
			name:    "too large: 120Gi of memory is more with Fargate's 256Mi",
			main:    []spec{req("cpu=4,memory=120Gi")},
			wantErr: "pod requests 4 vCPU and 120Gi of memory (plus 256Mi for Fargate's node components); the largest Fargate size is 16 vCPU and 120 GB",
		},
		{
			name:    "too large: storage",
			main:    []spec{req("ephemeral-storage=176Gi")},
			wantErr: "pod requests 176Gi of ephemeral storage; the largest Fargate ephemeral storage is 175 GiB",
		},
		{
			name:    "too large: storage that rounds up past 175 GiB",
			main:    []spec{req("ephemeral-storage=179201Mi")},
			wantErr: "pod requests 179201Mi of ephemeral storage; the largest Fargate ephemeral storage is 175 GiB",
		},
		{
			name:    "too large: compute and storage, both said at once",
			main:    []spec{req("cpu=32,memory=1Gi,ephemeral-storage=200Gi")},
			wantErr: "pod requests 32 vCPU and 1Gi of memory (plus 256Mi for Fargate's node components); the largest Fargate size is 16 vCPU and 120 GB; pod requests 200Gi of ephemeral storage; the largest Fargate ephemeral storage is 175 GiB",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				InitContainers: containers(t, tc.init),
				Containers:     containers(t, tc.main),
				Overhead:       resources(t, tc.overhead),
			}}
			if tc.podLevel != "" {
				pod.Spec.Resources = &corev1.ResourceRequirements{Requests: resources(t, tc.podLevel)}
			}
			before := pod.DeepCopy()
			got, err := Size(pod)
			if tc.wantErr != "" {
				var tooLarge *TooLargeError
				if !errors.As(err, &tooLarge) {
					t.Fatalf("Size() = %+v, %v; want a *TooLargeError", got, err)
				}
				if err.Error() != tc.wantErr {
					t.Errorf("Size() error:\n got %s\nwant %s", err, tc.wantErr)
				}
				if got != (Result{}) {
					t.Errorf("Size() = %+v with an error, want the zero Result", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Size() error: %v", err)
			}
			if cp := got.CapacityProvisioned(); cp != tc.want || got.EphemeralStorageGiB != tc.wantGiB {
				t.Errorf("Size() = %q with %d GiB, want %q with %d GiB", cp, got.EphemeralStorageGiB, tc.want, tc.wantGiB)
			}
			if !offered(got) {
				t.Errorf("Size() = %+v, not a size in the table", got)
			}
			if pod.String() != before.String() {
				t.Errorf("Size() changed the pod (it fills requests from limits on a copy)")
			}
		})
	}
}

func TestRequestsFillsMissingRequestsFromLimits(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: containers(t, []spec{reqLim("cpu=500m", "cpu=1,memory=1Gi,nvidia.com/gpu=1")})}}
	got := Requests(pod)
	for name, want := range resources(t, "cpu=500m,memory=1Gi,nvidia.com/gpu=1") {
		if q := got[name]; q.Cmp(want) != 0 {
			t.Errorf("Requests()[%s] = %s, want %s", name, q.String(), want.String())
		}
	}
	if pod.Spec.Containers[0].Resources.Requests.Memory().Value() != 0 {
		t.Errorf("Requests() filled the caller's pod")
	}
}
