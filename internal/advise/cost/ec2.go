package cost

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
)

// Resources is what a pod requests, or what a node has left, in the units
// packing counts.
type Resources struct {
	MilliCPU  int64
	MemoryMiB int64
	GPUs      int64
}

func (r Resources) add(o Resources) Resources {
	return Resources{r.MilliCPU + o.MilliCPU, r.MemoryMiB + o.MemoryMiB, r.GPUs + o.GPUs}
}

func (r Resources) sub(o Resources) Resources {
	return Resources{r.MilliCPU - o.MilliCPU, r.MemoryMiB - o.MemoryMiB, r.GPUs - o.GPUs}
}

func (r Resources) fits(in Resources) bool {
	return r.MilliCPU <= in.MilliCPU && r.MemoryMiB <= in.MemoryMiB && r.GPUs <= in.GPUs
}

// gpuResources are the extended resources counted as a node's GPUs.
var gpuResources = []corev1.ResourceName{"nvidia.com/gpu", "amd.com/gpu"}

// PodRequests is what a pod of this spec asks a node for: sizing.Requests
// (limits where requests are missing, init containers as Kubernetes counts
// them), memory rounded up to whole MiB.
func PodRequests(pod *corev1.Pod) Resources {
	reqs := sizing.Requests(pod)
	cpu, mem := reqs[corev1.ResourceCPU], reqs[corev1.ResourceMemory]
	r := Resources{MilliCPU: cpu.MilliValue(), MemoryMiB: (mem.Value() + 1<<20 - 1) >> 20}
	for _, name := range gpuResources {
		if q, ok := reqs[name]; ok {
			r.GPUs += q.Value()
		}
	}
	return r
}

// EvictionThresholdMiB is the kubelet's hard eviction threshold for memory
// on EKS's AMIs (memory.available<100Mi).
const EvictionThresholdMiB = cloud.EvictionThresholdMiB

// Reserved is what EKS's AMI keeps from pods on a node of type t: its
// kube-reserved (cloud.InstanceType.KubeReserved, the formula the
// simulated kubelets report their allocatable with) and the eviction
// threshold's memory.
func Reserved(t cloud.InstanceType) Resources {
	cpu, mem := t.KubeReserved()
	return Resources{MilliCPU: cpu, MemoryMiB: mem + EvictionThresholdMiB}
}

// Allocatable is what pods may use on a node of type t: its capacity less
// Reserved.
func Allocatable(t cloud.InstanceType) Resources {
	return Resources{MilliCPU: int64(t.VCPU) * 1000, MemoryMiB: t.MemoryMiB, GPUs: int64(t.GPUs)}.sub(Reserved(t))
}

// Group is Count pods with the same requests, e.g. one workload's replicas.
type Group struct {
	Name     string
	Requests Resources
	Count    int64
}

// NoFitError says pods fit on no node of a type, even an empty one.
type NoFitError struct {
	// Type is the instance type, or "" when no type offered fits.
	Type string
	// Groups are the groups whose pods do not fit.
	Groups []string
	// DaemonSets is set when the DaemonSets' pods alone do not fit a node.
	DaemonSets bool
}

func (e *NoFitError) Error() string {
	where := "any instance type offered"
	if e.Type != "" {
		where = e.Type
	}
	if e.DaemonSets {
		return fmt.Sprintf("the DaemonSets' pods do not fit a node of %s", where)
	}
	return fmt.Sprintf("pods of %s do not fit a node of %s", strings.Join(e.Groups, ", "), where)
}

// Pack returns how many nodes of type t the groups' pods need, packed
// first-fit-decreasing (largest CPU first, then memory, then GPUs), every
// node also running one pod of each DaemonSet in daemons. No pods, no nodes.
// A pod that does not fit an empty node is a *NoFitError naming its group.
func Pack(groups []Group, daemons []Resources, t cloud.InstanceType) (int64, error) {
	room := Allocatable(t)
	pods := int64(t.MaxPods()) - int64(len(daemons))
	for _, d := range daemons {
		room = room.sub(d)
	}
	if room.MilliCPU < 0 || room.MemoryMiB < 0 || room.GPUs < 0 || pods < 0 {
		return 0, &NoFitError{Type: t.Name, DaemonSets: true}
	}
	var unfit []string
	order := make([]int, 0, len(groups))
	for i, g := range groups {
		if g.Count <= 0 {
			continue
		}
		if !g.Requests.fits(room) || pods < 1 {
			unfit = append(unfit, g.Name)
			continue
		}
		order = append(order, i)
	}
	if len(unfit) > 0 {
		return 0, &NoFitError{Type: t.Name, Groups: unfit}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := groups[a].Requests, groups[b].Requests
		return cmp.Or(cmp.Compare(y.MilliCPU, x.MilliCPU), cmp.Compare(y.MemoryMiB, x.MemoryMiB), cmp.Compare(y.GPUs, x.GPUs))
	})

	// FFD never opens more nodes than each group would alone.
	bound := 0
	for _, i := range order {
		g := groups[i]
		per := howMany(g.Requests, room, pods)
		bound += int((g.Count + per - 1) / per)
	}
	open := newTree(bound)
	n := 0 // nodes opened
	for _, i := range order {
		g := groups[i]
		left := g.Count
		for left > 0 {
			j := open.first(g.Requests)
			if j < 0 {
				break
			}
			free, slots := open.get(j)
			k := min(left, howMany(g.Requests, free, slots))
			open.set(j, free.sub(scale(g.Requests, k)), slots-k)
			left -= k
		}
		per := howMany(g.Requests, room, pods)
		for left > 0 {
			k := min(left, per)
			open.set(n, room.sub(scale(g.Requests, k)), pods-k)
			n++
			left -= k
		}
	}
	return int64(n), nil
}

// tree finds the first node with room for a pod quickly: a segment tree over
// the nodes in the order they were opened, each inner entry holding the
// most free of each resource (and pod slots) below it. Nodes not opened yet
// have -1 of everything.
type tree struct {
	leaves int
	free   []Resources
	slots  []int64
}

func newTree(n int) *tree {
	leaves := 1
	for leaves < n {
		leaves *= 2
	}
	t := &tree{leaves: leaves, free: make([]Resources, 2*leaves), slots: make([]int64, 2*leaves)}
	for i := range t.free {
		t.free[i] = Resources{-1, -1, -1}
		t.slots[i] = -1
	}
	return t
}

func (t *tree) get(j int) (Resources, int64) { return t.free[t.leaves+j], t.slots[t.leaves+j] }

func (t *tree) set(j int, free Resources, slots int64) {
	i := t.leaves + j
	t.free[i], t.slots[i] = free, slots
	for i /= 2; i >= 1; i /= 2 {
		l, r := t.free[2*i], t.free[2*i+1]
		t.free[i] = Resources{max(l.MilliCPU, r.MilliCPU), max(l.MemoryMiB, r.MemoryMiB), max(l.GPUs, r.GPUs)}
		t.slots[i] = max(t.slots[2*i], t.slots[2*i+1])
	}
}

// first is the first node with room for a pod of r, or -1.
func (t *tree) first(r Resources) int {
	var find func(i int) int
	find = func(i int) int {
		if t.slots[i] < 1 || !r.fits(t.free[i]) {
			return -1
		}
		if i >= t.leaves {
			return i - t.leaves
		}
		if j := find(2 * i); j >= 0 {
			return j
		}
		return find(2*i + 1)
	}
	return find(1)
}

// howMany is how many pods of r fit in free with room for pods more pods.
func howMany(r, free Resources, pods int64) int64 {
	n := pods
	for _, d := range [][2]int64{{r.MilliCPU, free.MilliCPU}, {r.MemoryMiB, free.MemoryMiB}, {r.GPUs, free.GPUs}} {
		if d[1] < 0 {
			return 0
		}
		if d[0] > 0 {
			n = min(n, d[1]/d[0])
		}
	}
	return max(n, 0)
}

func scale(r Resources, k int64) Resources {
	return Resources{r.MilliCPU * k, r.MemoryMiB * k, r.GPUs * k}
}

// EC2Cost is what pods cost on nodes of one instance type.
type EC2Cost struct {
	// Type is the instance type the pods are packed onto; Nodes how many.
	Type  cloud.InstanceType
	Nodes int64
	// Reserved and Allocatable are per node (see Reserved); DaemonSets is
	// what the DaemonSets' pods take of every node.
	Reserved, Allocatable, DaemonSets Resources
	// Monthly is the nodes' price for a month on demand; Spot at
	// SpotPrice; SavingsPlan and ReservedInstances with those discounts.
	Monthly, Spot, SavingsPlan, ReservedInstances float64
}

// EC2 prices the groups' pods on nodes of type t (see Pack).
func EC2(groups []Group, daemons []Resources, t cloud.InstanceType, d Discounts) (EC2Cost, error) {
	n, err := Pack(groups, daemons, t)
	if err != nil {
		return EC2Cost{}, err
	}
	var ds Resources
	for _, r := range daemons {
		ds = ds.add(r)
	}
	m := monthly(t.OnDemandPrice) * float64(n)
	return EC2Cost{
		Type: t, Nodes: n,
		Reserved: Reserved(t), Allocatable: Allocatable(t), DaemonSets: ds,
		Monthly:           m,
		Spot:              monthly(SpotPrice(t)) * float64(n),
		SavingsPlan:       m * (1 - d.EC2SavingsPlan),
		ReservedInstances: m * (1 - d.ReservedInstance),
	}, nil
}

// CheapestEC2 prices the groups' pods on each of types (see EC2) and
// returns the cheapest on demand; ties go to the type listed first. If no
// type can hold them, the *NoFitError names the groups that fit none.
func CheapestEC2(groups []Group, daemons []Resources, types []cloud.InstanceType, d Discounts) (EC2Cost, error) {
	var best EC2Cost
	found := false
	unfit := map[string]bool{}
	daemonsFit := false
	for _, t := range types {
		c, err := EC2(groups, daemons, t, d)
		if err != nil {
			var nf *NoFitError
			if e, ok := err.(*NoFitError); ok {
				nf = e
			}
			if nf != nil && !nf.DaemonSets {
				daemonsFit = true
				for _, g := range nf.Groups {
					unfit[g] = true
				}
			}
			continue
		}
		daemonsFit = true
		if !found || c.Monthly < best.Monthly {
			best, found = c, true
		}
	}
	if found {
		return best, nil
	}
	if !daemonsFit {
		return EC2Cost{}, &NoFitError{DaemonSets: true}
	}
	// The groups that fit no type at all.
	var names []string
	for _, g := range groups {
		if unfit[g.Name] && !fitsSome(g.Requests, daemons, types) {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 { // each fits some type, but no one type fits all
		for _, g := range groups {
			if unfit[g.Name] {
				names = append(names, g.Name)
			}
		}
	}
	return EC2Cost{}, &NoFitError{Groups: names}
}

func fitsSome(r Resources, daemons []Resources, types []cloud.InstanceType) bool {
	for _, t := range types {
		if _, err := Pack([]Group{{Name: "probe", Requests: r, Count: 1}}, daemons, t); err == nil {
			return true
		}
	}
	return false
}

// Candidates are the types of types that pods are packed onto: of the
// architecture arch, with GPUs if gpus is set and without otherwise, and not
// burstable (a t3's baseline is a fraction of its vCPUs, so its requests
// could not all be served at once).
func Candidates(types []cloud.InstanceType, arch string, gpus bool) []cloud.InstanceType {
	var out []cloud.InstanceType
	for _, t := range types {
		if t.Architecture == arch && (t.GPUs > 0) == gpus && !t.Burstable {
			out = append(out, t)
		}
	}
	return out
}
