package advise

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// workload builds a Deployment of one container (500m, 1Gi) with edits.
func workload(kind Kind, edits ...func(*Workload)) Workload {
	w := Workload{
		Kind: kind, Namespace: "default", Name: "app", Replicas: 2,
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi"),
			}},
		}}}},
	}
	for _, e := range edits {
		e(&w)
	}
	return w
}

func spec(edit func(*corev1.PodSpec)) func(*Workload) {
	return func(w *Workload) { edit(&w.Template.Spec) }
}

func request(name, value string) func(*Workload) {
	return spec(func(s *corev1.PodSpec) {
		s.Containers[0].Resources.Requests[corev1.ResourceName(name)] = resource.MustParse(value)
	})
}

func nodeSelector(k, v string) func(*Workload) {
	return spec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{k: v} })
}

func annotate(k, v string) func(*Workload) {
	return func(w *Workload) { w.Annotations = map[string]string{k: v} }
}

func claimTemplate(name string, class *string) func(*Workload) {
	return func(w *Workload) {
		c := corev1.PersistentVolumeClaim{}
		c.Name = name
		c.Spec.StorageClassName = class
		w.VolumeClaimTemplates = append(w.VolumeClaimTemplates, c)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPlace(t *testing.T) {
	classes := StorageClasses{Provisioners: map[string]string{"efs-sc": "efs.csi.aws.com", "fast": "ebs.csi.aws.com"}}
	for _, c := range []struct {
		name string
		w    Workload
		// want are the reasons as "option rule field".
		want []string
	}{
		{name: "a plain Deployment runs anywhere", w: workload(Deployment)},
		{name: "a DaemonSet", w: workload(DaemonSet), want: []string{"fargate fargate/daemonset kind"}},
		{
			name: "privileged",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
			})),
			want: []string{"fargate fargate/privileged spec.template.spec.containers[0].securityContext.privileged"},
		},
		{
			name: "an added capability",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}
			})),
			want: []string{"fargate fargate/capabilities spec.template.spec.containers[0].securityContext.capabilities.add[0]"},
		},
		{
			name: "host network, on a CronJob",
			w:    workload(CronJob, spec(func(s *corev1.PodSpec) { s.HostNetwork = true })),
			want: []string{"fargate fargate/host-namespace spec.jobTemplate.spec.template.spec.hostNetwork"},
		},
		{
			name: "host PID, on a bare Pod",
			w:    workload(Pod, spec(func(s *corev1.PodSpec) { s.HostPID = true })),
			want: []string{"fargate fargate/host-namespace spec.hostPID"},
		},
		{
			name: "a hostPort",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
			})),
			want: []string{"fargate fargate/host-port spec.template.spec.containers[0].ports[0]"},
		},
		{
			name: "a hostPath volume",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}}
			})),
			want: []string{"fargate fargate/volume spec.template.spec.volumes[0]"},
		},
		{
			name: "a GPU",
			w:    workload(Job, request("nvidia.com/gpu", "1")),
			want: []string{"fargate fargate/extended-resource spec.template.spec.containers[0].resources.requests[nvidia.com/gpu]"},
		},
		{
			name: "an arm64 node selector",
			w:    workload(Deployment, nodeSelector("kubernetes.io/arch", "arm64")),
			want: []string{"fargate fargate/arch-or-os spec.template.spec.nodeSelector[kubernetes.io/arch]"},
		},
		{
			name: "a Windows node selector",
			w:    workload(Deployment, nodeSelector("kubernetes.io/os", "windows")),
			want: []string{"fargate fargate/arch-or-os spec.template.spec.nodeSelector[kubernetes.io/os]"},
		},
		{
			name: "a Windows affinity",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/os", Operator: corev1.NodeSelectorOpIn, Values: []string{"windows"}}}}},
				}}}
			})),
			want: []string{"fargate fargate/arch-or-os spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"},
		},
		{
			name: "a Local Zone: managed node groups run there",
			w:    workload(Deployment, nodeSelector("topology.kubernetes.io/zone", "us-east-1-bos-1a")),
			want: []string{"fargate fargate/outside-region spec.template.spec.nodeSelector[topology.kubernetes.io/zone]"},
		},
		{
			name: "a Wavelength Zone: only self-managed nodes",
			w:    workload(Deployment, nodeSelector("topology.kubernetes.io/zone", "us-east-1-wl1-bos-wlz-1")),
			want: []string{
				"fargate fargate/outside-region spec.template.spec.nodeSelector[topology.kubernetes.io/zone]",
				"managed-node-group managed/outside-region spec.template.spec.nodeSelector[topology.kubernetes.io/zone]",
			},
		},
		{
			name: "an Outpost, by annotation",
			w:    workload(Deployment, annotate(AnnotationPlacement, "outposts")),
			want: []string{
				"fargate fargate/outside-region metadata.annotations[advise.kdp.dev/placement]",
				"managed-node-group managed/outside-region metadata.annotations[advise.kdp.dev/placement]",
			},
		},
		{
			name: "a Local Zone, by annotation",
			w:    workload(Deployment, annotate(AnnotationPlacement, "local-zone")),
			want: []string{"fargate fargate/outside-region metadata.annotations[advise.kdp.dev/placement]"},
		},
		{
			name: "a StatefulSet's claim of the default class (gp2, EBS)",
			w:    workload(StatefulSet, claimTemplate("data", nil)),
			want: []string{"fargate fargate/ebs-volume spec.volumeClaimTemplates[0]"},
		},
		{
			name: "a StatefulSet's claims: EFS, a class named for EBS, a defined EBS class, a static volume",
			w: workload(StatefulSet, spec(func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
			}), claimTemplate("shared", ptr("efs-sc")), claimTemplate("data", ptr("my-ebs-sc")), claimTemplate("wal", ptr("fast")), claimTemplate("static", ptr(""))),
			want: []string{"fargate fargate/ebs-volume spec.volumeClaimTemplates[1]", "fargate fargate/ebs-volume spec.volumeClaimTemplates[2]"},
		},
		{
			name: "a Deployment's claim of gp3",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
			}), func(w *Workload) {
				w.Claims = map[string]corev1.PersistentVolumeClaimSpec{"data": {StorageClassName: ptr("gp3")}}
			}),
			want: []string{"fargate fargate/ebs-volume spec.template.spec.volumes[0].persistentVolumeClaim"},
		},
		{
			name: "a claim the manifests do not define is not judged",
			w: workload(Deployment, spec(func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "elsewhere"}}}}
			})),
		},
		{
			name: "larger than 16 vCPU",
			w:    workload(Deployment, request("cpu", "17")),
			want: []string{"fargate fargate/too-large spec.template.spec.containers[*].resources.requests"},
		},
		{
			name: "more than 120 GB with Fargate's 256 MiB",
			w:    workload(Deployment, request("memory", "120Gi")),
			want: []string{"fargate fargate/too-large spec.template.spec.containers[*].resources.requests"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.w.Template.DeepCopy()
			p := Place(&c.w, classes)
			var got []string
			for _, r := range p.Reasons {
				got = append(got, string(r.Option)+" "+string(r.Rule)+" "+r.Field)
				if r.Message == "" || r.Rule.Source() == "" {
					t.Errorf("reason %+v has no message or source", r)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("reasons\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			if !p.Can(SelfManaged) {
				t.Error("self-managed nodes must run everything")
			}
			if p.Can(Fargate) != (len(p.Why(Fargate)) == 0) {
				t.Error("Can and Why disagree")
			}
			if !equalTemplates(before, &c.w.Template) {
				t.Error("Place modified the workload's template")
			}
		})
	}
}

func equalTemplates(a, b *corev1.PodTemplateSpec) bool {
	return len(a.Spec.Volumes) == len(b.Spec.Volumes) && len(a.OwnerReferences) == len(b.OwnerReferences)
}

func TestPlaceMessages(t *testing.T) {
	w := workload(DaemonSet, spec(func(s *corev1.PodSpec) { s.HostNetwork = true }))
	p := Place(&w, StorageClasses{})
	for _, want := range []string{"Pod not supported on Fargate: fields not supported: HostNetwork", "Pod not supported on Fargate: DaemonSet pods are not supported"} {
		if !slices.ContainsFunc(p.Reasons, func(r Reason) bool { return r.Message == want }) {
			t.Errorf("no reason says %q: %v", want, p.Reasons)
		}
	}
	w = workload(StatefulSet, claimTemplate("data", ptr("gp3")))
	p = Place(&w, StorageClasses{})
	if want := "Pod not supported on Fargate: volumes not supported: data not supported because: PVC data bound to invalid PV of StorageClass gp3 with CSI Driver: ebs.csi.aws.com"; len(p.Reasons) != 1 || p.Reasons[0].Message != want {
		t.Errorf("reasons %v, want %q", p.Reasons, want)
	}
}

func TestFargateSize(t *testing.T) {
	w := workload(Deployment, request("cpu", "300m"), request("memory", "600Mi"))
	p := Place(&w, StorageClasses{})
	if got := p.FargateSize.CapacityProvisioned(); got != "0.5vCPU 1GB" {
		t.Errorf("Fargate size %s, want 0.5vCPU 1GB", got)
	}
}

func TestStorageClassesEBS(t *testing.T) {
	s := StorageClasses{Provisioners: map[string]string{"gp3-custom": "ebs.csi.aws.com", "ebs-but-not": "efs.csi.aws.com"}, Default: "gp3-custom"}
	for _, c := range []struct {
		class *string
		want  bool
	}{
		{nil, true}, {ptr(""), false}, {ptr("gp3-custom"), true}, {ptr("ebs-but-not"), false},
		{ptr("io2"), true}, {ptr("EBS-fast"), true}, {ptr("nfs"), false},
	} {
		if _, got := s.EBS(corev1.PersistentVolumeClaimSpec{StorageClassName: c.class}); got != c.want {
			t.Errorf("class %v: EBS %v, want %v", c.class, got, c.want)
		}
	}
	if _, got := (StorageClasses{Default: "efs"}).EBS(corev1.PersistentVolumeClaimSpec{}); got {
		t.Error("a default class of efs is not EBS")
	}
}
