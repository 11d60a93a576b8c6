package support

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// efsDriver is the one CSI driver a Fargate node mounts volumes with: it is
// built into Fargate. Any other driver needs its node plugin, a DaemonSet,
// which cannot run on Fargate; so EBS (ebs.csi.aws.com) and FSx for Lustre
// (fsx.csi.aws.com) volumes cannot be mounted.
const efsDriver = "efs.csi.aws.com"

// ebsDriver is the driver that mounts in-tree awsElasticBlockStore volumes
// since CSI migration, and the one EKS's message names for them.
const ebsDriver = "ebs.csi.aws.com"

// volumes reports volumes of types Fargate cannot mount, and PVCs bound to
// PVs it cannot mount (when lookup is not nil).
//
// Fargate mounts what lives in the pod's own VM or comes over the network:
// emptyDir, configMap, secret, downwardAPI, projected, nfs, and PVCs bound
// to static EFS (or NFS) PVs. Host paths and every inline CSI volume are
// out, and so are generic ephemeral volumes: they provision a PVC per pod
// from a StorageClass, in practice EBS, which Fargate cannot attach.
func volumes(pod *corev1.Pod, lookup PersistentVolumeLookup) ([]Reason, error) {
	var out []Reason
	for i, v := range pod.Spec.Volumes {
		field := fmt.Sprintf("spec.volumes[%d]", i)
		switch {
		case v.PersistentVolumeClaim != nil:
			if lookup == nil {
				continue
			}
			r, err := persistentVolume(v.Name, field, v.PersistentVolumeClaim.ClaimName, lookup)
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		case !supportedVolume(v.VolumeSource):
			out = append(out, Reason{Kind: KindVolume, Field: field, Detail: v.Name + " is of an unsupported volume Type"})
		}
	}
	return out, nil
}

func supportedVolume(s corev1.VolumeSource) bool {
	return s.EmptyDir != nil || s.ConfigMap != nil || s.Secret != nil || s.DownwardAPI != nil ||
		s.Projected != nil || s.NFS != nil ||
		// No source at all: the API server defaults that to emptyDir, a pod
		// built in code may not have been through it.
		reflect.ValueOf(s).IsZero()
}

// persistentVolume reports claim's PV if Fargate cannot mount it, in EKS's
// words for volume "storage" and claim "data": "storage not supported
// because: PVC data bound to invalid PV pvc-1234 with CSI Driver:
// ebs.csi.aws.com".
func persistentVolume(volume, field, claim string, lookup PersistentVolumeLookup) ([]Reason, error) {
	pv, err := lookup(claim)
	if err != nil {
		return nil, fmt.Errorf("volume %q: reading the PersistentVolume of PVC %q: %w", volume, claim, err)
	}
	if pv == nil { // not bound yet: nothing to judge
		return nil, nil
	}
	because := fmt.Sprintf("%s not supported because: PVC %s bound to invalid PV %s", volume, claim, pv.Name)
	reason := func(detail string) []Reason {
		return []Reason{{Kind: KindPersistentVolume, Field: field + ".persistentVolumeClaim", Detail: because + detail}}
	}
	switch s := pv.Spec.PersistentVolumeSource; {
	case s.CSI != nil && s.CSI.Driver == efsDriver, s.NFS != nil:
		return nil, nil
	case s.CSI != nil:
		return reason(" with CSI Driver: " + s.CSI.Driver), nil
	case s.AWSElasticBlockStore != nil:
		return reason(" with CSI Driver: " + ebsDriver), nil
	default:
		return reason(" of an unsupported volume Type"), nil
	}
}
