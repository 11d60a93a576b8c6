package support

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newPod returns a pod Fargate runs, changed by each edit.
func newPod(edits ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "app",
			Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("250m"),
				corev1.ResourceMemory: resource.MustParse("512Mi"),
			}},
		}}},
	}
	for _, edit := range edits {
		edit(p)
	}
	return p
}

func hostNetwork(p *corev1.Pod) { p.Spec.HostNetwork = true }
func hostPID(p *corev1.Pod)     { p.Spec.HostPID = true }
func hostIPC(p *corev1.Pod)     { p.Spec.HostIPC = true }

func privileged(p *corev1.Pod) {
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
}

func hostPort(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 8080 }

func withInit(c corev1.Container) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.InitContainers = append(p.Spec.InitContainers, c) }
}

func withVolume(name string, s corev1.VolumeSource) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: s})
	}
}

func hostPath(name string) func(*corev1.Pod) {
	return withVolume(name, corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}})
}

func claim(volume, claim string) func(*corev1.Pod) {
	return withVolume(volume, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}})
}

func limit(name string, q string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		c.Resources.Limits[corev1.ResourceName(name)] = resource.MustParse(q)
	}
}

// checkCase is a pod and what Check says of it.
type checkCase struct {
	name  string
	pod   *corev1.Pod
	want  string   // the message without its prefix; "" for a supported pod
	field []string // the reasons' fields, when the test cares
}

func runChecks(t *testing.T, lookup PersistentVolumeLookup, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reasons, err := Check(tc.pod, lookup)
			if err != nil {
				t.Fatalf("Check() error: %v", err)
			}
			want := ""
			if tc.want != "" {
				want = MessagePrefix + tc.want
			}
			if got := Message(reasons); got != want {
				t.Errorf("Message(Check()):\n got %q\nwant %q", got, want)
			}
			if tc.field != nil {
				var fields []string
				for _, r := range reasons {
					fields = append(fields, r.Field)
				}
				if !slices.Equal(fields, tc.field) {
					t.Errorf("Check() fields = %q, want %q", fields, tc.field)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	runChecks(t, nil, []checkCase{
		{name: "a plain pod is supported", pod: newPod()},
		{
			name: "a pod with everything Fargate supports",
			pod: newPod(
				withVolume("scratch", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
				withVolume("config", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}),
				withVolume("creds", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}),
				withVolume("info", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}),
				withVolume("token", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}),
				withVolume("share", corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "fs", Path: "/"}}),
				withVolume("defaulted", corev1.VolumeSource{}),
				claim("data", "data"), // no lookup: not judged
				limit("cpu", "1"), limit("memory", "1Gi"), limit("ephemeral-storage", "30Gi"),
				selector("kubernetes.io/arch", "amd64"), selector("kubernetes.io/os", "linux"),
				selector("eks.amazonaws.com/compute-type", "fargate"), selector("team", "web"),
				withInit(corev1.Container{Name: "init", SecurityContext: &corev1.SecurityContext{
					Privileged:               new(false),
					AllowPrivilegeEscalation: new(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				}}),
				ownedBy("ReplicaSet", "web-5d4f"),
			),
		},
		{name: "hostNetwork", pod: newPod(hostNetwork), want: "fields not supported: HostNetwork", field: []string{"spec.hostNetwork"}},
		{name: "hostPID", pod: newPod(hostPID), want: "fields not supported: HostPID"},
		{name: "hostIPC", pod: newPod(hostIPC), want: "fields not supported: HostIPC"},
		{name: "every host namespace, in EKS's order", pod: newPod(hostIPC, hostPID, hostNetwork), want: "fields not supported: HostNetwork, HostPID, HostIPC"},
		{name: "privileged", pod: newPod(privileged), want: "invalid SecurityContext fields: Privileged", field: []string{"spec.containers[0].securityContext.privileged"}},
		{
			name:  "a privileged init container",
			pod:   newPod(withInit(corev1.Container{Name: "setup", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}})),
			want:  "invalid SecurityContext fields: Privileged",
			field: []string{"spec.initContainers[0].securityContext.privileged"},
		},
		{
			name: "a privileged ephemeral container",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "debug", SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
				}}}
			}),
			want:  "invalid SecurityContext fields: Privileged",
			field: []string{"spec.ephemeralContainers[0].securityContext.privileged"},
		},
		{
			name:  "privileged twice is said once",
			pod:   newPod(privileged, withInit(corev1.Container{Name: "setup", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}})),
			want:  "invalid SecurityContext fields: Privileged",
			field: []string{"spec.initContainers[0].securityContext.privileged", "spec.containers[0].securityContext.privileged"},
		},
		{
			name: "an added capability, as EKS words it",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CAP_CHOWN"}}}
			}),
			want:  "invalid SecurityContext fields: Capabilities added: CAP_CHOWN",
			field: []string{"spec.containers[0].securityContext.capabilities.add[0]"},
		},
		{
			name: "privileged and capabilities from two containers",
			pod: newPod(privileged,
				func(p *corev1.Pod) {
					p.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}
				},
				withInit(corev1.Container{Name: "mesh-init", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}}}}),
			),
			want: "invalid SecurityContext fields: Privileged, Capabilities added: NET_ADMIN, NET_RAW",
		},
		{name: "a hostPort", pod: newPod(hostPort), want: "port contains HostIP or HostPort", field: []string{"spec.containers[0].ports[0]"}},
		{name: "a hostIP", pod: newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostIP = "0.0.0.0" }), want: "port contains HostIP or HostPort"},
		{
			name: "host ports in two containers are said once",
			pod:  newPod(hostPort, withInit(corev1.Container{Name: "setup", Ports: []corev1.ContainerPort{{ContainerPort: 9000, HostPort: 9000}}})),
			want: "port contains HostIP or HostPort",
		},
		{
			name: "EKS's own example",
			pod:  newPod(hostNetwork, privileged, hostPort),
			want: "fields not supported: HostNetwork, invalid SecurityContext fields: Privileged, port contains HostIP or HostPort",
		},
		{name: "a hostPath volume", pod: newPod(hostPath("data")), want: "volumes not supported: data is of an unsupported volume Type", field: []string{"spec.volumes[0]"}},
		{
			name: "an inline CSI volume",
			pod:  newPod(withVolume("secrets", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store.csi.k8s.io"}})),
			want: "volumes not supported: secrets is of an unsupported volume Type",
		},
		{
			name: "a generic ephemeral volume",
			pod:  newPod(withVolume("scratch", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}})),
			want: "volumes not supported: scratch is of an unsupported volume Type",
		},
		{
			name: "an inline EBS volume",
			pod:  newPod(withVolume("disk", corev1.VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}})),
			want: "volumes not supported: disk is of an unsupported volume Type",
		},
		{
			name: "two volumes, each named",
			pod:  newPod(hostPath("docker"), withVolume("scratch", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}), hostPath("logs")),
			want: "volumes not supported: docker is of an unsupported volume Type, logs is of an unsupported volume Type",
		},
		{name: "a GPU", pod: newPod(limit("nvidia.com/gpu", "1")), want: "resources not supported: nvidia.com/gpu", field: []string{"spec.containers[0].resources.limits[nvidia.com/gpu]"}},
		{name: "Inferentia", pod: newPod(limit("aws.amazon.com/neuron", "1")), want: "resources not supported: aws.amazon.com/neuron"},
		{name: "hugepages", pod: newPod(limit("hugepages-2Mi", "64Mi")), want: "resources not supported: hugepages-2Mi"},
		{
			name: "a GPU requested and limited is said once",
			pod: newPod(limit("nvidia.com/gpu", "1"), limit("hugepages-1Gi", "1Gi"), func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = resource.MustParse("1")
			}),
			want: "resources not supported: nvidia.com/gpu, hugepages-1Gi",
		},
		{
			name: "pod-level hugepages",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"hugepages-2Mi": resource.MustParse("64Mi")}}
			}),
			want:  "resources not supported: hugepages-2Mi",
			field: []string{"spec.resources.limits[hugepages-2Mi]"},
		},
	})
}

// A user sees everything wrong with a pod in one event, its parts in EKS's
// order whatever the order of the kinds among the reasons.
func TestEveryReasonAtOnce(t *testing.T) {
	pod := newPod(
		ownedBy("DaemonSet", "node-agent"),
		required(term(expr("kubernetes.io/os", corev1.NodeSelectorOpIn, "windows"))),
		selector("kubernetes.io/arch", "arm64"),
		limit("nvidia.com/gpu", "1"),
		claim("data", "data"),
		hostPath("host"),
		hostPort,
		privileged,
		func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}
		},
		hostIPC, hostPID, hostNetwork,
	)
	lookup := pvs(map[string]*corev1.PersistentVolume{"data": csiPV("pvc-1", "ebs.csi.aws.com")})
	reasons, err := Check(pod, lookup)
	if err != nil {
		t.Fatalf("Check() error: %v", err)
	}
	const want = "Pod not supported on Fargate: " +
		"fields not supported: HostNetwork, HostPID, HostIPC, " +
		"invalid SecurityContext fields: Privileged, Capabilities added: SYS_ADMIN, " +
		"port contains HostIP or HostPort, " +
		"volumes not supported: host is of an unsupported volume Type, data not supported because: PVC data bound to invalid PV pvc-1 with CSI Driver: ebs.csi.aws.com, " +
		"resources not supported: nvidia.com/gpu, " +
		"node selector not supported: kubernetes.io/arch=arm64, " +
		"node affinity not supported: kubernetes.io/os in [windows], " +
		"DaemonSet pods are not supported"
	if got := Message(reasons); got != want {
		t.Errorf("Message(Check()):\n got %s\nwant %s", got, want)
	}
	slices.SortStableFunc(reasons, func(a, b Reason) int { return int(b.Kind) - int(a.Kind) })
	if got := Message(reasons); got != want {
		t.Errorf("Message(reasons, kinds last first):\n got %s\nwant %s", got, want)
	}
}

func TestMessageOfNoReasons(t *testing.T) {
	if got := Message(nil); got != "" {
		t.Errorf("Message(nil) = %q, want \"\"", got)
	}
}

func TestReasonString(t *testing.T) {
	for _, tc := range []struct {
		r    Reason
		want string
	}{
		{Reason{Kind: KindHostNamespace, Field: "spec.hostNetwork", Detail: "HostNetwork"}, "spec.hostNetwork: fields not supported: HostNetwork"},
		{Reason{Kind: KindCapability, Field: "spec.containers[0].securityContext.capabilities.add[0]", Detail: "NET_ADMIN"}, "spec.containers[0].securityContext.capabilities.add[0]: invalid SecurityContext fields: Capabilities added: NET_ADMIN"},
		{Reason{Kind: KindDaemonSet, Field: "metadata.ownerReferences[0]", Detail: "owned by DaemonSet fluent-bit"}, "metadata.ownerReferences[0]: DaemonSet pods are not supported"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}
