package cli

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/kdp-project/kdp/internal/advise/manifest"
)

// liveSource is the Source of a workload read from the cluster (--live):
// no file, no line.
const liveSource = "(cluster)"

// liveLists are what kdp advise --live reads: the workloads, and what
// says more about them (budgets, claims, storage classes).
func liveLists() []client.ObjectList {
	return []client.ObjectList{
		&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}, &appsv1.ReplicaSetList{},
		&batchv1.JobList{}, &batchv1.CronJobList{}, &corev1.PodList{},
		&policyv1.PodDisruptionBudgetList{}, &corev1.PersistentVolumeClaimList{}, &storagev1.StorageClassList{},
	}
}

// liveObjects reads every workload of the cluster (every namespace) as
// manifest objects, so that kdp advise judges them as it judges manifests.
func liveObjects(ctx context.Context, c client.Client) ([]manifest.Object, error) {
	var out []manifest.Object
	for _, list := range liveLists() {
		if err := c.List(ctx, list); err != nil {
			return nil, fmt.Errorf("listing %T: %w", list, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			if err := setKind(item, c.Scheme()); err != nil {
				return nil, err
			}
			out = append(out, manifest.Object{Object: item, Source: manifest.Source{File: liveSource}})
		}
	}
	return out, nil
}

// setKind fills in an object's apiVersion and kind, which a list's items
// lack.
func setKind(o runtime.Object, scheme *runtime.Scheme) error {
	gvk, err := apiutil.GVKForObject(o, scheme)
	if err != nil {
		return err
	}
	o.GetObjectKind().SetGroupVersionKind(gvk)
	return nil
}
