package advise

import (
	corev1 "k8s.io/api/core/v1"
)

// Kind is a workload's kind, as its manifest names it.
type Kind string

const (
	Deployment  Kind = "Deployment"
	StatefulSet Kind = "StatefulSet"
	DaemonSet   Kind = "DaemonSet"
	ReplicaSet  Kind = "ReplicaSet"
	Job         Kind = "Job"
	CronJob     Kind = "CronJob"
	Pod         Kind = "Pod"
)

// Annotations on a workload (its own metadata, not its pod template's)
// that tell the advisor what manifests cannot.
const (
	// AnnotationMultiArch "true" says every image of the workload is
	// multi-arch (or has an arm64 build), so Graviton nodes may run it. The
	// CLI's --graviton-ok sets Workload.MultiArch for every workload
	// instead.
	AnnotationMultiArch = "advise.kdp.dev/multi-arch"
	// AnnotationPlacement names where the workload must run when that is
	// outside the region proper and no node selector says so: "outposts"
	// (an Outpost's subnets are in the region's zones, so no zone label
	// tells), or "wavelength" or "local-zone".
	AnnotationPlacement = "advise.kdp.dev/placement"
)

// Source is where a workload was read from, for a report to link to.
type Source struct {
	File string
	Line int
}

// Workload is one thing that runs pods, as the advisor judges it. The
// manifest reader fills it; the advisor never reads manifests or a cluster.
type Workload struct {
	Kind      Kind
	Namespace string
	Name      string
	// Replicas is how many pods it runs; a DaemonSet's is per node, and
	// is ignored: a DaemonSet runs one pod on every EC2 node.
	Replicas int32
	// Template is the pod template (a bare Pod's own metadata and spec).
	Template corev1.PodTemplateSpec
	// Annotations are the workload's own annotations (see
	// AnnotationMultiArch and AnnotationPlacement).
	Annotations map[string]string
	Source      Source
	// HasPDB: a PodDisruptionBudget selects the workload's pods.
	HasPDB bool
	// Retries: a Job or CronJob whose backoffLimit is more than 0.
	Retries bool
	// MultiArch: every image runs on arm64 too (--graviton-ok, or
	// AnnotationMultiArch).
	MultiArch bool
	// VolumeClaimTemplates are a StatefulSet's; each pod gets a claim of
	// each, mounted as the volume of the template's name.
	VolumeClaimTemplates []corev1.PersistentVolumeClaim
	// Claims are the PersistentVolumeClaims, by name, that the template's
	// persistentVolumeClaim volumes name, where the manifests define them.
	// A claim not found here is not judged.
	Claims map[string]corev1.PersistentVolumeClaimSpec
}

// ID names the workload in messages: "Deployment default/web".
func (w *Workload) ID() string { return string(w.Kind) + " " + w.Namespace + "/" + w.Name }

// pods is how many pods the workload runs off DaemonSets: its replicas, at
// least one for a bare Pod, a Job or a CronJob.
func (w *Workload) pods() int64 {
	switch w.Kind {
	case Pod:
		return 1
	case Job, CronJob:
		return max(int64(w.Replicas), 1)
	}
	return max(int64(w.Replicas), 0)
}

// TolerantOfInterruption: Spot may reclaim its nodes with two minutes'
// notice and the workload survives it: more than one replica and a
// PodDisruptionBudget, or a Job (or CronJob) that retries.
func (w *Workload) TolerantOfInterruption() bool {
	switch w.Kind {
	case Job, CronJob:
		return w.Retries
	case Pod, DaemonSet:
		return false
	}
	return w.Replicas > 1 && w.HasPDB
}

// GravitonAllowed: the workload may run on arm64 nodes, because its images
// are multi-arch (MultiArch, or AnnotationMultiArch "true").
func (w *Workload) GravitonAllowed() bool {
	return w.MultiArch || w.Annotations[AnnotationMultiArch] == "true"
}

// templatePath is where the pod template is in the workload's manifest.
func (w *Workload) templatePath() string {
	switch w.Kind {
	case Pod:
		return ""
	case CronJob:
		return "spec.jobTemplate.spec.template."
	}
	return "spec.template."
}
