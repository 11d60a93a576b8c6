// Package collect turns manifests' objects (internal/advise/manifest) into
// the advisor's workloads (internal/advise): Deployments, StatefulSets,
// DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods, with what the
// other objects of the input say of them: whether a PodDisruptionBudget
// selects their pods, the PersistentVolumeClaims their volumes name, and
// the StorageClasses those claims use. Fields are defaulted as Kubernetes
// defaults them. Objects of other kinds (Services, ConfigMaps, custom
// resources) are ignored; objects a controller owns (a Deployment's
// ReplicaSets, a ReplicaSet's Pods, a CronJob's Jobs) are the controller's.
package collect

import (
	"cmp"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/advise/manifest"
)

// Options are what the user says that manifests cannot.
type Options struct {
	// MultiArch: every image runs on arm64 too (--graviton-ok).
	MultiArch bool
}

// Result is the workloads of the input and what it says of storage.
type Result struct {
	// Workloads are in the order of their sources (file, then line).
	Workloads      []advise.Workload
	StorageClasses advise.StorageClasses
	// Problems are objects that were skipped, at their file and line.
	Problems []manifest.Problem
}

// The annotations that make a StorageClass the default, GA and beta.
const (
	annotationDefaultClass     = "storageclass.kubernetes.io/is-default-class"
	annotationDefaultClassBeta = "storageclass.beta.kubernetes.io/is-default-class"
)

// defaultBackoffLimit is a Job's spec.backoffLimit when it sets none.
const defaultBackoffLimit = 6

// workloadKinds are the kinds the advisor judges, for telling an
// unsupported version of one from a kind that is not a workload.
var workloadKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "Pod": true, "PodDisruptionBudget": true,
	"PersistentVolumeClaim": true, "StorageClass": true,
}

// Workloads collects the workloads of objs.
func Workloads(objs []manifest.Object, opts Options) Result {
	var r Result
	in := index(objs, &r)
	seen := map[string]manifest.Source{}
	for _, o := range objs {
		w, ok := workload(o, opts)
		if !ok {
			if workloadKinds[o.Kind()] && !known(o.Object) {
				r.Problems = append(r.Problems, manifest.Problem{Source: o.Source, Err: fmt.Errorf(
					"%s %s is not a version kdp advise reads (apps/v1, batch/v1, v1, policy/v1, storage.k8s.io/v1): skipped",
					o.Object.GetObjectKind().GroupVersionKind().GroupVersion(), o.Kind())})
			}
			continue
		}
		if first, dup := seen[w.ID()]; dup {
			r.Problems = append(r.Problems, manifest.Problem{Source: o.Source,
				Err: fmt.Errorf("%s is defined twice (first at %s): this one is skipped", w.ID(), first)})
			continue
		}
		seen[w.ID()] = o.Source
		w.HasPDB = in.selected(w.Namespace, w.Template.Labels)
		w.Claims = in.claimsOf(w.Namespace, w.Template.Spec.Volumes)
		r.Workloads = append(r.Workloads, w)
	}
	slices.SortStableFunc(r.Workloads, func(a, b advise.Workload) int {
		return cmp.Or(cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Line, b.Source.Line))
	})
	slices.SortStableFunc(r.Problems, func(a, b manifest.Problem) int {
		return cmp.Or(cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Line, b.Source.Line))
	})
	r.StorageClasses = in.classes
	return r
}

// inputIndex is what the input's other objects say of workloads.
type inputIndex struct {
	pdbs    map[string][]labels.Selector // by namespace
	claims  map[string]corev1.PersistentVolumeClaimSpec
	classes advise.StorageClasses
}

func index(objs []manifest.Object, r *Result) *inputIndex {
	in := &inputIndex{pdbs: map[string][]labels.Selector{}, claims: map[string]corev1.PersistentVolumeClaimSpec{},
		classes: advise.StorageClasses{Provisioners: map[string]string{}}}
	for _, o := range objs {
		switch obj := o.Object.(type) {
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(obj.Spec.Selector)
			if err != nil {
				r.Problems = append(r.Problems, manifest.Problem{Source: o.Source,
					Err: fmt.Errorf("PodDisruptionBudget %q: spec.selector: %w", obj.Name, err)})
				continue
			}
			ns := namespace(obj.Namespace)
			in.pdbs[ns] = append(in.pdbs[ns], sel)
		case *corev1.PersistentVolumeClaim:
			in.claims[namespace(obj.Namespace)+"/"+obj.Name] = obj.Spec
		case *storagev1.StorageClass:
			in.classes.Provisioners[obj.Name] = obj.Provisioner
			isDefault := obj.Annotations[annotationDefaultClass] == "true" || obj.Annotations[annotationDefaultClassBeta] == "true"
			if isDefault && in.classes.Default == "" {
				in.classes.Default = obj.Name
			}
		}
	}
	return in
}

// selected: a PodDisruptionBudget in the namespace selects pods of these
// labels. A budget with no selector selects nothing; an empty one every
// pod of its namespace (policy/v1).
func (in *inputIndex) selected(ns string, podLabels map[string]string) bool {
	for _, sel := range in.pdbs[ns] {
		if sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

// claimsOf are the input's claims that the volumes name.
func (in *inputIndex) claimsOf(ns string, volumes []corev1.Volume) map[string]corev1.PersistentVolumeClaimSpec {
	var out map[string]corev1.PersistentVolumeClaimSpec
	for _, v := range volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		if spec, ok := in.claims[ns+"/"+v.PersistentVolumeClaim.ClaimName]; ok {
			if out == nil {
				out = map[string]corev1.PersistentVolumeClaimSpec{}
			}
			out[v.PersistentVolumeClaim.ClaimName] = spec
		}
	}
	return out
}

// known: o is of a version the collector reads.
func known(o any) bool {
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *appsv1.ReplicaSet,
		*batchv1.Job, *batchv1.CronJob, *corev1.Pod,
		*policyv1.PodDisruptionBudget, *corev1.PersistentVolumeClaim, *storagev1.StorageClass:
		return true
	}
	return false
}

// workload is o as a workload, if it is one and no controller owns it.
func workload(o manifest.Object, opts Options) (advise.Workload, bool) {
	var w advise.Workload
	var meta metav1.ObjectMeta
	switch obj := o.Object.(type) {
	case *appsv1.Deployment:
		w.Kind, meta, w.Template = advise.Deployment, obj.ObjectMeta, obj.Spec.Template
		w.Replicas = replicas(obj.Spec.Replicas)
	case *appsv1.StatefulSet:
		w.Kind, meta, w.Template = advise.StatefulSet, obj.ObjectMeta, obj.Spec.Template
		w.Replicas = replicas(obj.Spec.Replicas)
		w.VolumeClaimTemplates = obj.Spec.VolumeClaimTemplates
	case *appsv1.DaemonSet:
		w.Kind, meta, w.Template = advise.DaemonSet, obj.ObjectMeta, obj.Spec.Template
	case *appsv1.ReplicaSet:
		w.Kind, meta, w.Template = advise.ReplicaSet, obj.ObjectMeta, obj.Spec.Template
		w.Replicas = replicas(obj.Spec.Replicas)
	case *batchv1.Job:
		w.Kind, meta = advise.Job, obj.ObjectMeta
		job(&w, obj.Spec)
	case *batchv1.CronJob:
		w.Kind, meta = advise.CronJob, obj.ObjectMeta
		job(&w, obj.Spec.JobTemplate.Spec)
	case *corev1.Pod:
		w.Kind, meta, w.Replicas = advise.Pod, obj.ObjectMeta, 1
		w.Template = corev1.PodTemplateSpec{ObjectMeta: obj.ObjectMeta, Spec: obj.Spec}
	default:
		return w, false
	}
	if metav1.GetControllerOf(&meta) != nil {
		return w, false
	}
	w.Namespace, w.Name, w.Annotations = namespace(meta.Namespace), meta.Name, meta.Annotations
	w.Source = advise.Source{File: o.Source.File, Line: o.Source.Line}
	w.MultiArch = opts.MultiArch
	return w, true
}

// job fills a Job's or a CronJob's job template: its pods run
// spec.parallelism at a time (1 if unset), and it retries if
// spec.backoffLimit (6 if unset) is above 0.
func job(w *advise.Workload, spec batchv1.JobSpec) {
	w.Template = spec.Template
	w.Replicas = replicas(spec.Parallelism)
	limit := int32(defaultBackoffLimit)
	if spec.BackoffLimit != nil {
		limit = *spec.BackoffLimit
	}
	w.Retries = limit > 0
}

// replicas is a replica count as Kubernetes defaults it: 1 if unset.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// namespace is an object's namespace as kubectl apply gives it: "default"
// if it names none.
func namespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
