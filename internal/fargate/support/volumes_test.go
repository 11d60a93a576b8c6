package support

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pvs is a lookup from claim name to the PV it is bound to; a claim not in
// the map is not found.
func pvs(bound map[string]*corev1.PersistentVolume) PersistentVolumeLookup {
	return func(claim string) (*corev1.PersistentVolume, error) {
		pv, ok := bound[claim]
		if !ok {
			return nil, errNotFound
		}
		return pv, nil
	}
}

var errNotFound = errors.New("not found")

func pv(name string, s corev1.PersistentVolumeSource) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: s}}
}

func csiPV(name, driver string) *corev1.PersistentVolume {
	return pv(name, corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "h"}})
}

func TestCheckPersistentVolumes(t *testing.T) {
	bound := map[string]*corev1.PersistentVolume{
		"efs":      csiPV("pv-efs", "efs.csi.aws.com"),
		"ebs":      csiPV("pvc-a996c34f", "ebs.csi.aws.com"),
		"fsx":      csiPV("pv-fsx", "fsx.csi.aws.com"),
		"s3":       csiPV("pv-s3", "s3.csi.aws.com"),
		"in-tree":  pv("pv-gp2", corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}}),
		"nfs":      pv("pv-nfs", corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "fs", Path: "/"}}),
		"local":    pv("pv-local", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}),
		"unbound":  nil,
		"ebs-also": csiPV("pvc-b", "ebs.csi.aws.com"),
	}
	for _, tc := range []struct {
		name     string
		pod      *corev1.Pod
		noLookup bool
		want     string
	}{
		{name: "a static EFS volume", pod: newPod(claim("data", "efs"))},
		{name: "an NFS volume", pod: newPod(claim("data", "nfs"))},
		{name: "a claim not bound yet", pod: newPod(claim("data", "unbound"))},
		{name: "no lookup: claims are not judged", pod: newPod(claim("data", "ebs")), noLookup: true},
		{
			name: "an EBS volume, in EKS's words",
			pod:  newPod(claim("storage-volume", "ebs")),
			want: "volumes not supported: storage-volume not supported because: PVC ebs bound to invalid PV pvc-a996c34f with CSI Driver: ebs.csi.aws.com",
		},
		{
			name: "an FSx for Lustre volume",
			pod:  newPod(claim("data", "fsx")),
			want: "volumes not supported: data not supported because: PVC fsx bound to invalid PV pv-fsx with CSI Driver: fsx.csi.aws.com",
		},
		{
			name: "any CSI driver but EFS's",
			pod:  newPod(claim("data", "s3")),
			want: "volumes not supported: data not supported because: PVC s3 bound to invalid PV pv-s3 with CSI Driver: s3.csi.aws.com",
		},
		{
			name: "an in-tree EBS volume is mounted by the EBS CSI driver",
			pod:  newPod(claim("data", "in-tree")),
			want: "volumes not supported: data not supported because: PVC in-tree bound to invalid PV pv-gp2 with CSI Driver: ebs.csi.aws.com",
		},
		{
			name: "a hostPath PV",
			pod:  newPod(claim("data", "local")),
			want: "volumes not supported: data not supported because: PVC local bound to invalid PV pv-local of an unsupported volume Type",
		},
		{
			name: "unsupported volume types come before PVCs",
			pod:  newPod(claim("a", "ebs"), claim("shared", "efs"), hostPath("docker"), claim("b", "ebs-also")),
			want: "volumes not supported: docker is of an unsupported volume Type, " +
				"a not supported because: PVC ebs bound to invalid PV pvc-a996c34f with CSI Driver: ebs.csi.aws.com, " +
				"b not supported because: PVC ebs-also bound to invalid PV pvc-b with CSI Driver: ebs.csi.aws.com",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := pvs(bound)
			if tc.noLookup {
				lookup = nil
			}
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
		})
	}
}

func TestCheckStopsOnALookupError(t *testing.T) {
	reasons, err := Check(newPod(hostNetwork, claim("data", "missing")), pvs(nil))
	if !errors.Is(err, errNotFound) {
		t.Fatalf("Check() = %v, %v; want the lookup's error", reasons, err)
	}
	const want = `checking pod prod/web for Fargate: volume "data": reading the PersistentVolume of PVC "missing": not found`
	if err.Error() != want {
		t.Errorf("Check() error:\n got %s\nwant %s", err, want)
	}
}
