package advise

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdp-project/kdp/internal/fargate/sizing"
	"github.com/kdp-project/kdp/internal/fargate/support"
)

// Option is a data plane a workload can run on.
type Option string

const (
	Fargate     Option = "fargate"
	Managed     Option = "managed-node-group"
	SelfManaged Option = "self-managed"
)

// Options are the data planes in the order the advisor prefers them.
var Options = []Option{Fargate, Managed, SelfManaged}

// Rule is a reason an option cannot run a workload.
type Rule string

// The rules. Fargate's are internal/fargate/support's checks, the ones the
// Fargate scheduler refuses pods by, plus size.
const (
	FargateDaemonSet        Rule = "fargate/daemonset"
	FargatePrivileged       Rule = "fargate/privileged"
	FargateCapabilities     Rule = "fargate/capabilities"
	FargateHostNamespace    Rule = "fargate/host-namespace"
	FargateHostPort         Rule = "fargate/host-port"
	FargateVolume           Rule = "fargate/volume"
	FargateEBSVolume        Rule = "fargate/ebs-volume"
	FargateExtendedResource Rule = "fargate/extended-resource"
	FargateArchOrOS         Rule = "fargate/arch-or-os"
	FargateOutsideRegion    Rule = "fargate/outside-region"
	FargateTooLarge         Rule = "fargate/too-large"
	ManagedOutsideRegion    Rule = "managed/outside-region"
)

const (
	fargateConsiderations = "https://docs.aws.amazon.com/eks/latest/userguide/fargate.html (eks-data-plane.md 4.4)"
	fargateSizing         = "https://docs.aws.amazon.com/eks/latest/userguide/fargate-pod-configuration.html (eks-data-plane.md 4.3)"
	computeComparison     = "https://docs.aws.amazon.com/eks/latest/userguide/eks-compute.html (eks-data-plane.md 5)"
)

// Source is where a rule comes from.
func (r Rule) Source() string {
	switch r {
	case FargateTooLarge:
		return fargateSizing
	case ManagedOutsideRegion:
		return computeComparison
	}
	return fargateConsiderations
}

// Reason is why an option cannot run a workload.
type Reason struct {
	Option Option
	Rule   Rule
	// Field is the path in the workload's manifest, e.g.
	// "spec.template.spec.containers[0].securityContext.privileged".
	Field string
	// Message says it; Fargate's in the words of EKS's fargate-scheduler.
	Message string
}

func (r Reason) String() string { return r.Field + ": " + r.Message }

// Placement is where a workload can run.
type Placement struct {
	// Reasons are why options cannot run it: none for an option that can.
	Reasons []Reason
	// FargateSize is the Fargate size its pods get (sizing.Size), when
	// they are not too large.
	FargateSize sizing.Result
}

// Can reports whether option o can run the workload.
func (p *Placement) Can(o Option) bool {
	for _, r := range p.Reasons {
		if r.Option == o {
			return false
		}
	}
	return true
}

// Why returns the reasons option o cannot run the workload.
func (p *Placement) Why(o Option) []Reason {
	var out []Reason
	for _, r := range p.Reasons {
		if r.Option == o {
			out = append(out, r)
		}
	}
	return out
}

// StorageClasses are what the advisor knows of the cluster's storage
// classes, to tell EBS-backed claims (Fargate cannot mount EBS).
type StorageClasses struct {
	// Provisioners maps a class's name to its provisioner, from the
	// manifests' StorageClasses.
	Provisioners map[string]string
	// Default is the class of a claim that names none; "" is EKS's default
	// class, gp2, which is EBS (kubernetes.io/aws-ebs).
	Default string
}

// ebsProvisioners provision EBS volumes: the CSI driver and the in-tree
// plugin it replaces.
var ebsProvisioners = map[string]bool{"ebs.csi.aws.com": true, "kubernetes.io/aws-ebs": true}

// ebsVolumeTypes are EBS's volume types, which EKS's and the EBS CSI
// driver's example classes are named after.
var ebsVolumeTypes = map[string]bool{"gp2": true, "gp3": true, "io1": true, "io2": true, "st1": true, "sc1": true, "standard": true}

// EBS reports whether a claim is EBS-backed, and its class: its storage
// class (the default if it names none) is provisioned by ebs.csi.aws.com or
// kubernetes.io/aws-ebs; or, for a class the manifests do not define, its
// name contains "ebs" or is an EBS volume type (gp2, gp3, io1, io2, st1,
// sc1, standard). A claim with storageClassName "" binds a static volume
// and is not judged.
func (s StorageClasses) EBS(spec corev1.PersistentVolumeClaimSpec) (string, bool) {
	class := s.Default
	if class == "" {
		class = "gp2"
	}
	if spec.StorageClassName != nil {
		class = *spec.StorageClassName
	}
	if class == "" {
		return "", false
	}
	if p, ok := s.Provisioners[class]; ok {
		return class, ebsProvisioners[p]
	}
	return class, strings.Contains(strings.ToLower(class), "ebs") || ebsVolumeTypes[class]
}

// fargateRules maps support's kinds to rules.
var fargateRules = map[support.Kind]Rule{
	support.KindHostNamespace:    FargateHostNamespace,
	support.KindPrivileged:       FargatePrivileged,
	support.KindCapability:       FargateCapabilities,
	support.KindHostPort:         FargateHostPort,
	support.KindVolume:           FargateVolume,
	support.KindPersistentVolume: FargateEBSVolume,
	support.KindResource:         FargateExtendedResource,
	support.KindNodeSelector:     FargateArchOrOS,
	support.KindNodeAffinity:     FargateArchOrOS,
	support.KindOutsideRegion:    FargateOutsideRegion,
	support.KindDaemonSet:        FargateDaemonSet,
}

// podOf is the pod the workload runs, as the Fargate scheduler would see
// it: in its namespace, owned by its DaemonSet, with a StatefulSet's claim
// templates mounted as volumes. The template is not modified.
func podOf(w *Workload) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: w.Template.ObjectMeta, Spec: w.Template.Spec}
	pod.Namespace = w.Namespace
	if w.Kind == DaemonSet {
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: string(DaemonSet), Name: w.Name}}
	}
	if len(w.VolumeClaimTemplates) > 0 {
		pod.Spec.Volumes = slices.Clip(pod.Spec.Volumes)
		for _, c := range w.VolumeClaimTemplates {
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name},
			}})
		}
	}
	return pod
}

// Place says which options can run w, and why not the others. Fargate's
// rules are internal/fargate/support's Check (claims judged EBS-backed by
// classes) and sizing.Size; managed node groups cannot run what must be in
// a Wavelength Zone or on an Outpost (node selection, or
// AnnotationPlacement); self-managed nodes run everything.
func Place(w *Workload, classes StorageClasses) Placement {
	pod := podOf(w)
	claimTemplate := map[string]int{}
	for i, c := range w.VolumeClaimTemplates {
		claimTemplate[c.Name] = i
	}
	lookup := func(claim string) (*corev1.PersistentVolume, error) {
		spec, ok := w.Claims[claim]
		if i, isTemplate := claimTemplate[claim]; isTemplate {
			spec, ok = w.VolumeClaimTemplates[i].Spec, true
		}
		if !ok {
			return nil, nil
		}
		class, ebs := classes.EBS(spec)
		if !ebs {
			return nil, nil
		}
		pv := &corev1.PersistentVolume{}
		pv.Name = "of StorageClass " + class
		pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com"}
		return pv, nil
	}
	// The lookup never fails, so neither does Check.
	reasons, _ := support.Check(pod, lookup)

	var p Placement
	prefix := w.templatePath()
	ownVolumes := len(w.Template.Spec.Volumes)
	for _, r := range reasons {
		field := prefix + r.Field
		switch {
		case r.Kind == support.KindDaemonSet:
			field = "kind"
		case r.Kind == support.KindPersistentVolume:
			var i int
			if _, err := fmt.Sscanf(r.Field, "spec.volumes[%d]", &i); err == nil && i >= ownVolumes {
				field = fmt.Sprintf("spec.volumeClaimTemplates[%d]", i-ownVolumes)
			}
		}
		p.Reasons = append(p.Reasons, Reason{Option: Fargate, Rule: fargateRules[r.Kind], Field: field, Message: support.Message([]support.Reason{r})})
		if r.Kind == support.KindOutsideRegion && r.Location == support.Wavelength {
			p.Reasons = append(p.Reasons, managedOutside(field, r.Location))
		}
	}
	if loc, ok := annotatedLocation(w); ok {
		field := "metadata.annotations[" + AnnotationPlacement + "]"
		p.Reasons = append(p.Reasons, Reason{Option: Fargate, Rule: FargateOutsideRegion, Field: field, Message: "Fargate runs only in the region's Availability Zones; the workload must run " + where(loc)})
		if loc != support.LocalZone {
			p.Reasons = append(p.Reasons, managedOutside(field, loc))
		}
	}
	size, err := sizing.Size(pod)
	var tooLarge *sizing.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		p.Reasons = append(p.Reasons, Reason{Option: Fargate, Rule: FargateTooLarge, Field: prefix + "spec.containers[*].resources.requests", Message: tooLarge.Error()})
	case err == nil:
		p.FargateSize = size
	}
	// Fargate's reasons first, as found, then managed node groups'.
	slices.SortStableFunc(p.Reasons, func(a, b Reason) int { return slices.Index(Options, a.Option) - slices.Index(Options, b.Option) })
	return p
}

func managedOutside(field string, loc support.Location) Reason {
	return Reason{Option: Managed, Rule: ManagedOutsideRegion, Field: field, Message: "managed node groups do not run " + where(loc) + "; only self-managed nodes do"}
}

// where says a location with its preposition: "on an Outpost".
func where(loc support.Location) string {
	if loc == support.Outposts {
		return "on an Outpost"
	}
	return "in a " + loc.String()
}

// annotatedLocation reads AnnotationPlacement.
func annotatedLocation(w *Workload) (support.Location, bool) {
	switch w.Annotations[AnnotationPlacement] {
	case "outposts":
		return support.Outposts, true
	case "wavelength":
		return support.Wavelength, true
	case "local-zone":
		return support.LocalZone, true
	}
	return support.InRegion, false
}
