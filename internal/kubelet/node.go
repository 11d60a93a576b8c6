package kubelet

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
)

// node is the Node the kubelet on inst registers, named name, with the
// labels and taints of its NodeConfig.
func (m *machines) node(inst *cloud.Instance, nc *join.NodeConfig, name string, now metav1.Time) (*corev1.Node, error) {
	it, ok := m.types[inst.Type]
	if inst.MicroVM != nil {
		it, ok = microVMType(*inst.MicroVM), true
	}
	if !ok {
		return nil, fmt.Errorf("unknown instance type %s", inst.Type)
	}
	img, ok := m.images[inst.ImageID]
	if !ok {
		return nil, fmt.Errorf("unknown image %s", inst.ImageID)
	}
	labels, _ := nc.Labels() // checked by Parse
	taints, _ := nc.Taints()
	if labels == nil {
		labels = map[string]string{}
	}
	for key, v := range map[string]string{
		"kubernetes.io/hostname":           name,
		"kubernetes.io/arch":               it.Architecture,
		"kubernetes.io/os":                 "linux",
		"beta.kubernetes.io/arch":          it.Architecture, // as the kubelet still sets them
		"beta.kubernetes.io/os":            "linux",
		"node.kubernetes.io/instance-type": it.Name,
		"topology.kubernetes.io/region":    region(inst.Zone),
		"topology.kubernetes.io/zone":      inst.Zone,
		LabelInstanceID:                    inst.ID,
	} {
		labels[key] = v
	}
	if inst.MicroVM != nil {
		delete(labels, "node.kubernetes.io/instance-type") // a micro-VM has no EC2 type
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(it.VCPU), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(it.MemoryMiB*1024*1024, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(it.MaxPods()), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("20Gi"),
	}
	if it.GPUs > 0 {
		capacity["nvidia.com/gpu"] = *resource.NewQuantity(int64(it.GPUs), resource.DecimalSI)
	}
	alloc := allocatable(capacity, it)
	if size := inst.MicroVM; size != nil {
		capacity[corev1.ResourceCPU] = *resource.NewMilliQuantity(size.MilliCPU, resource.DecimalSI)
		capacity[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(size.StorageGiB<<30, resource.BinarySI)
		capacity[corev1.ResourcePods] = *resource.NewQuantity(1, resource.DecimalSI) // its own pod, no other
		alloc = capacity.DeepCopy()
		// Fargate's node components (kubelet, kube-proxy, containerd) take
		// the 256 MiB its sizing added to the pod's memory.
		alloc[corev1.ResourceMemory] = *resource.NewQuantity((size.MemoryMiB-256)<<20, resource.BinarySI)
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.NodeSpec{
			ProviderID: ProviderID(inst.Zone, inst.ID),
			Taints:     taints,
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: alloc,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: inst.PrivateIP},
				{Type: corev1.NodeHostName, Address: name},
				{Type: corev1.NodeInternalDNS, Address: name},
			},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: now, LastTransitionTime: now},
			},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion:          "v" + img.KubernetesVersion,
				OSImage:                 osImage(img),
				OperatingSystem:         "linux",
				Architecture:            it.Architecture,
				ContainerRuntimeVersion: "containerd://2.1.4",
				KernelVersion:           "6.12.40",
				MachineID:               inst.ID,
				SystemUUID:              inst.ID,
				BootID:                  inst.ID,
			},
		},
	}, nil
}

// ProviderID is the providerID of an instance's Node, as EKS writes it.
func ProviderID(zone, instanceID string) string { return cloud.ProviderID(zone, instanceID) }

// InstanceID returns the instance id of a node's providerID
// (aws:///<zone>/<id>), or "".
func InstanceID(node *corev1.Node) string { return cloud.InstanceOfProviderID(node.Spec.ProviderID) }

// InstanceOf returns the instance a Node is the simulated node of: its
// providerID and its sim.kdp.dev/instance-id label must name the same
// instance. Only such Nodes are ever changed or deleted by kdp's kubelets
// and cloud node lifecycle (and then only if the cloud launched them).
func InstanceOf(node *corev1.Node) (string, bool) {
	id := InstanceID(node)
	return id, id != "" && node.Labels[LabelInstanceID] == id
}

// region is a zone's region: us-east-1 of us-east-1a.
func region(zone string) string { return strings.TrimRight(zone, "abcdefghijklmnopqrstuvwxyz") }

// allocatable reserves for the system what EKS's AMIs reserve
// (cloud.InstanceType.KubeReserved) and the kubelet's eviction threshold.
func allocatable(capacity corev1.ResourceList, it cloud.InstanceType) corev1.ResourceList {
	out := capacity.DeepCopy()
	cpu, mem := it.KubeReserved()
	out[corev1.ResourceMemory] = *resource.NewQuantity((it.MemoryMiB-mem-cloud.EvictionThresholdMiB)*1024*1024, resource.BinarySI)
	out[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(it.VCPU)*1000-cpu, resource.DecimalSI)
	return out
}

func osImage(img cloud.Image) string {
	if strings.HasPrefix(img.Type, "BOTTLEROCKET") {
		return "Bottlerocket OS 1.44.0 (aws-k8s-" + minor(img.KubernetesVersion) + ")"
	}
	return "Amazon Linux 2023.9.20261101"
}

func minor(v string) string {
	for i, dots := 0, 0; i < len(v); i++ {
		if v[i] == '.' {
			dots++
			if dots == 2 {
				return v[:i]
			}
		}
	}
	return v
}

// microVMType is the shape of a micro-VM: its size, and amd64 (EKS on
// Fargate is x86 only).
func microVMType(size cloud.MicroVM) cloud.InstanceType {
	return cloud.InstanceType{
		Name: cloud.MicroVMType, Family: cloud.MicroVMType, VCPU: int((size.MilliCPU + 999) / 1000),
		MemoryMiB: size.MemoryMiB, Architecture: cloud.ArchAMD64,
	}
}
