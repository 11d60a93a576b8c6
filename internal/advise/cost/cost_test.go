package cost

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
)

func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func instanceType(t testing.TB, name string) cloud.InstanceType {
	t.Helper()
	it, ok := testCatalog(t).InstanceType(name)
	if !ok {
		t.Fatalf("no instance type %s", name)
	}
	return it
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

// podWith is a pod of one container with these requests (and limits).
func podWith(requests, limits corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}}}}
}

func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestFargate(t *testing.T) {
	prices := testCatalog(t).FargatePrices()
	for _, c := range []struct {
		name        string
		pod         *corev1.Pod
		pods        int64
		wantSize    string
		wantStorage int64
		wantHourly  float64
	}{
		// 0.3 vCPU, 600Mi + 256Mi = 856Mi: 0.25 vCPU is too little, so 0.5
		// vCPU with its smallest memory, 1 GB.
		{"0.3 vCPU and 600Mi", podWith(list("cpu", "300m", "memory", "600Mi"), nil), 1, "0.5vCPU 1GB", 20, 0.5*0.04048 + 1*0.004445},
		{"no requests", podWith(nil, nil), 3, "0.25vCPU 0.5GB", 20, 0.25*0.04048 + 0.5*0.004445},
		// EKS's worked example: 1 vCPU / 8 GB becomes 8.25 GB: 2 vCPU / 9 GB.
		{"1 vCPU and 8Gi", podWith(list("cpu", "1", "memory", "8Gi"), nil), 2, "2vCPU 9GB", 20, 2*0.04048 + 9*0.004445},
		{"limits stand for requests", podWith(nil, list("cpu", "1", "memory", "8Gi")), 1, "2vCPU 9GB", 20, 2*0.04048 + 9*0.004445},
		// 50Gi of ephemeral storage: 30 GB above the included 20 are billed.
		{"50Gi of ephemeral storage", podWith(list("cpu", "250m", "memory", "256Mi", "ephemeral-storage", "50Gi"), nil), 1, "0.25vCPU 0.5GB", 50, 0.25*0.04048 + 0.5*0.004445 + 30*0.000111},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Fargate(c.pod, c.pods, prices, DefaultDiscounts)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size.CapacityProvisioned() != c.wantSize || got.Size.EphemeralStorageGiB != c.wantStorage {
				t.Errorf("size %s with %d GiB, want %s with %d GiB", got.Size.CapacityProvisioned(), got.Size.EphemeralStorageGiB, c.wantSize, c.wantStorage)
			}
			if !near(got.HourlyPerPod, c.wantHourly) {
				t.Errorf("hourly per pod %v, want %v", got.HourlyPerPod, c.wantHourly)
			}
			if want := c.wantHourly * 730 * float64(c.pods); !near(got.Monthly, want) {
				t.Errorf("monthly %v, want %v", got.Monthly, want)
			}
			if want := c.wantHourly * 730 * float64(c.pods) * 0.5; !near(got.MonthlySavingsPlan, want) {
				t.Errorf("monthly with a savings plan %v, want %v (50%% off)", got.MonthlySavingsPlan, want)
			}
		})
	}
}

func TestFargateTooLarge(t *testing.T) {
	_, err := Fargate(podWith(list("cpu", "17", "memory", "8Gi"), nil), 1, testCatalog(t).FargatePrices(), DefaultDiscounts)
	var tooLarge *sizing.TooLargeError
	if !errors.As(err, &tooLarge) || !tooLarge.Compute {
		t.Fatalf("error %v, want a compute *sizing.TooLargeError", err)
	}
}

func TestReserved(t *testing.T) {
	for _, c := range []struct {
		name      string
		want      Resources
		wantAlloc Resources
	}{
		// 2 cores: 60 + 10 m; 29 pods: 255 + 11×29 + 100 eviction MiB.
		{"m5.large", Resources{MilliCPU: 70, MemoryMiB: 255 + 11*29 + 100}, Resources{MilliCPU: 1930, MemoryMiB: 8192 - 674}},
		// 4 cores: 60 + 10 + 5 + 5 m; 58 pods.
		{"m5.xlarge", Resources{MilliCPU: 80, MemoryMiB: 255 + 11*58 + 100}, Resources{MilliCPU: 3920, MemoryMiB: 16384 - 993}},
		// 16 cores: 80 + 12 × 2.5 m; 234 pods.
		{"m5.4xlarge", Resources{MilliCPU: 110, MemoryMiB: 255 + 11*234 + 100}, Resources{MilliCPU: 15890, MemoryMiB: 65536 - 2929}},
		// 1 core: 60 m; 8 pods.
		{"m7g.medium", Resources{MilliCPU: 60, MemoryMiB: 255 + 11*8 + 100}, Resources{MilliCPU: 940, MemoryMiB: 4096 - 443}},
		// 4 cores and a GPU.
		{"g5.xlarge", Resources{MilliCPU: 80, MemoryMiB: 255 + 11*58 + 100}, Resources{MilliCPU: 3920, MemoryMiB: 16384 - 993, GPUs: 1}},
	} {
		it := instanceType(t, c.name)
		if got := Reserved(it); got != c.want {
			t.Errorf("%s: reserved %+v, want %+v", c.name, got, c.want)
		}
		if got := Allocatable(it); got != c.wantAlloc {
			t.Errorf("%s: allocatable %+v, want %+v", c.name, got, c.wantAlloc)
		}
	}
}

func TestPack(t *testing.T) {
	half := Resources{MilliCPU: 500, MemoryMiB: 1024}
	tiny := Resources{MilliCPU: 10, MemoryMiB: 10}
	for _, c := range []struct {
		name    string
		groups  []Group
		daemons []Resources
		typ     string
		want    int64
	}{
		{"nothing to run", nil, []Resources{{MilliCPU: 100}}, "m5.large", 0},
		// 1930m allocatable: 3 pods of 500m a node.
		{"10 pods of 500m/1Gi", []Group{{"web", half, 10}}, nil, "m5.large", 4},
		// 1830m left after the DaemonSet: still 3 a node.
		{"with a small DaemonSet", []Group{{"web", half, 10}}, []Resources{{MilliCPU: 100, MemoryMiB: 200}}, "m5.large", 4},
		// 1430m left: 2 a node.
		{"with a 500m DaemonSet", []Group{{"web", half, 10}}, []Resources{{MilliCPU: 500, MemoryMiB: 200}}, "m5.large", 5},
		// memory bound: 7518 MiB allocatable, 3 pods of 2Gi a node.
		{"memory bound", []Group{{"cache", Resources{MilliCPU: 100, MemoryMiB: 2048}, 7}}, nil, "m5.large", 3},
		// max pods: 29 a node.
		{"55 tiny pods", []Group{{"tiny", tiny, 55}}, nil, "m5.large", 2},
		// 3 DaemonSet pods leave 26 a node.
		{"55 tiny pods and 3 DaemonSets", []Group{{"tiny", tiny, 55}}, []Resources{tiny, tiny, tiny}, "m5.large", 3},
		// first-fit-decreasing: the 1500m pods take a node each, then one
		// 400m pod fits beside each (430m left), the other two share a third.
		{"decreasing, then first fit", []Group{{"small", Resources{MilliCPU: 400, MemoryMiB: 100}, 4}, {"big", Resources{MilliCPU: 1500, MemoryMiB: 100}, 2}}, nil, "m5.large", 3},
		{"GPUs", []Group{{"train", Resources{MilliCPU: 1000, MemoryMiB: 1024, GPUs: 1}, 3}}, nil, "g5.xlarge", 3},
		{"zero requests", []Group{{"idle", Resources{}, 30}}, nil, "m5.large", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Pack(c.groups, c.daemons, instanceType(t, c.typ))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%d nodes, want %d", got, c.want)
			}
		})
	}
}

func TestPackNoFit(t *testing.T) {
	m5 := instanceType(t, "m5.large")
	_, err := Pack([]Group{{"big", Resources{MilliCPU: 4000}, 1}, {"ok", Resources{MilliCPU: 100}, 1}, {"gpu", Resources{GPUs: 1}, 1}}, nil, m5)
	var nf *NoFitError
	if !errors.As(err, &nf) || nf.DaemonSets || len(nf.Groups) != 2 || nf.Groups[0] != "big" || nf.Groups[1] != "gpu" {
		t.Fatalf("error %v, want big and gpu not to fit", err)
	}
	_, err = Pack([]Group{{"ok", Resources{MilliCPU: 100}, 1}}, []Resources{{MilliCPU: 2000}}, m5)
	if !errors.As(err, &nf) || !nf.DaemonSets {
		t.Fatalf("error %v, want the DaemonSets not to fit", err)
	}
}

func TestEC2Prices(t *testing.T) {
	m5 := instanceType(t, "m5.large")
	got, err := EC2([]Group{{"web", Resources{MilliCPU: 500, MemoryMiB: 1024}, 10}}, []Resources{{MilliCPU: 100, MemoryMiB: 200}}, m5, DefaultDiscounts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nodes != 4 || got.Type.Name != "m5.large" {
		t.Fatalf("%d × %s, want 4 × m5.large", got.Nodes, got.Type.Name)
	}
	if want := 4 * 0.096 * 730; !near(got.Monthly, want) {
		t.Errorf("monthly %v, want %v", got.Monthly, want)
	}
	var spot float64
	for _, p := range m5.SpotPrices {
		spot += p
	}
	spot /= float64(len(m5.SpotPrices))
	if want := 4 * spot * 730; !near(got.Spot, want) || got.Spot > 0.4*got.Monthly || got.Spot < 0.25*got.Monthly {
		t.Errorf("spot %v, want %v, 60–75%% off %v", got.Spot, want, got.Monthly)
	}
	if want := got.Monthly * 0.72; !near(got.SavingsPlan, want) {
		t.Errorf("savings plan %v, want %v (28%% off)", got.SavingsPlan, want)
	}
	if want := got.Monthly * 0.63; !near(got.ReservedInstances, want) {
		t.Errorf("reserved instances %v, want %v (37%% off)", got.ReservedInstances, want)
	}
	if got.DaemonSets != (Resources{MilliCPU: 100, MemoryMiB: 200}) || got.Reserved != Reserved(m5) {
		t.Errorf("per node: DaemonSets %+v, reserved %+v", got.DaemonSets, got.Reserved)
	}
}

func TestCheapestEC2(t *testing.T) {
	types := Candidates(testCatalog(t).InstanceTypes(), "amd64", false)
	for _, it := range types {
		if it.GPUs > 0 || it.Burstable || it.Architecture != "amd64" {
			t.Errorf("candidate %s: gpus %d, burstable %v, %s", it.Name, it.GPUs, it.Burstable, it.Architecture)
		}
	}
	groups := []Group{{"web", Resources{MilliCPU: 700, MemoryMiB: 3000}, 9}, {"api", Resources{MilliCPU: 1800, MemoryMiB: 512}, 4}}
	daemons := []Resources{{MilliCPU: 100, MemoryMiB: 128}}
	got, err := CheapestEC2(groups, daemons, types, DefaultDiscounts)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range types {
		c, err := EC2(groups, daemons, it, DefaultDiscounts)
		if err == nil && c.Monthly < got.Monthly {
			t.Errorf("%s costs %v, less than the chosen %s at %v", it.Name, c.Monthly, got.Type.Name, got.Monthly)
		}
	}
	_, err = CheapestEC2([]Group{{"huge", Resources{MilliCPU: 100000}, 1}}, nil, types, DefaultDiscounts)
	var nf *NoFitError
	if !errors.As(err, &nf) || len(nf.Groups) != 1 || nf.Groups[0] != "huge" {
		t.Fatalf("error %v, want huge to fit nowhere", err)
	}
	if gpu := Candidates(testCatalog(t).InstanceTypes(), "amd64", true); len(gpu) == 0 || gpu[0].GPUs == 0 {
		t.Errorf("GPU candidates %v", gpu)
	}
}

func TestPodRequests(t *testing.T) {
	got := PodRequests(podWith(list("cpu", "250m", "nvidia.com/gpu", "2"), list("memory", "1000000")))
	if want := (Resources{MilliCPU: 250, MemoryMiB: 1, GPUs: 2}); got != want {
		t.Errorf("requests %+v, want %+v (memory from the limit, rounded up to MiB)", got, want)
	}
}

// naivePack is first-fit-decreasing one pod at a time, scanning every node:
// what Pack must agree with.
func naivePack(groups []Group, daemons []Resources, it cloud.InstanceType) int64 {
	room := Allocatable(it)
	slots := int64(it.MaxPods() - len(daemons))
	for _, d := range daemons {
		room = room.sub(d)
	}
	var pods []Resources
	for _, g := range groups {
		for range g.Count {
			pods = append(pods, g.Requests)
		}
	}
	slices.SortStableFunc(pods, func(x, y Resources) int {
		return cmp.Or(cmp.Compare(y.MilliCPU, x.MilliCPU), cmp.Compare(y.MemoryMiB, x.MemoryMiB), cmp.Compare(y.GPUs, x.GPUs))
	})
	type n struct {
		free  Resources
		slots int64
	}
	var nodes []n
	for _, p := range pods {
		placed := false
		for i := range nodes {
			if nodes[i].slots > 0 && p.fits(nodes[i].free) {
				nodes[i].free, nodes[i].slots, placed = nodes[i].free.sub(p), nodes[i].slots-1, true
				break
			}
		}
		if !placed {
			nodes = append(nodes, n{room.sub(p), slots - 1})
		}
	}
	return int64(len(nodes))
}

func TestPackAgreesWithNaiveFirstFitDecreasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := Candidates(testCatalog(t).InstanceTypes(), "amd64", false)
	packed := 0
	for round := range 200 {
		var groups []Group
		for g := range 1 + rng.IntN(12) {
			groups = append(groups, Group{Name: fmt.Sprint(g), Count: int64(1 + rng.IntN(20)),
				Requests: Resources{MilliCPU: int64(rng.IntN(1800)), MemoryMiB: int64(rng.IntN(7000))}})
		}
		daemons := []Resources{{MilliCPU: int64(rng.IntN(200)), MemoryMiB: int64(rng.IntN(300))}}
		it := types[round%len(types)]
		got, err := Pack(groups, daemons, it)
		if err != nil {
			continue
		}
		packed++
		if want := naivePack(groups, daemons, it); got != want {
			t.Fatalf("round %d on %s: Pack %d nodes, naive FFD %d; groups %+v", round, it.Name, got, want, groups)
		}
	}
	if packed < 100 {
		t.Errorf("only %d of 200 rounds packed", packed)
	}
}
