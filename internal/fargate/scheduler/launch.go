package scheduler

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
	"github.com/kdp-project/kdp/internal/join"
)

// capacityRetry is how long a pod that found no capacity waits to try
// again.
const capacityRetry = 10 * time.Second

// Taint is on every Fargate node, as EKS puts it there: only the pod bound
// to it (by the Binding API, past taints) runs there, no DaemonSet's.
var Taint = corev1.Taint{Key: eksv1.LabelComputeType, Value: eksv1.ComputeTypeFargate, Effect: corev1.TaintEffectNoSchedule}

// launch makes sure the pod has its micro-VM, launching it if it has none
// (the same client token finds the one launched before). It returns nil
// and when to retry if there is no micro-VM to wait for yet.
func (s *Controller) launch(ctx context.Context, pod *corev1.Pod, fp *eksv1.FargateProfile, size sizing.Result) (*cloud.Instance, time.Duration, error) {
	in, err := s.runInput(ctx, pod, fp, size)
	if err != nil {
		return nil, 0, err
	}
	subnets := fp.Status.Subnets
	if len(subnets) == 0 {
		return nil, 0, s.unschedulable(ctx, pod, fmt.Sprintf("Fargate profile %s has no subnets", fp.Name))
	}
	// Spread across the profile's subnets, best effort (as on EKS); a
	// zone without capacity passes the pod to the next.
	first := s.next(fp.Name)
	var insufficient []string
	var inst *cloud.Instance
	for k := range subnets {
		in.SubnetID = subnets[(first+k)%len(subnets)]
		launched, err := s.cloud.RunInstances(ctx, in)
		if cloud.IsInsufficientCapacity(err) {
			insufficient = append(insufficient, s.subnets[in.SubnetID].Zone)
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("launching the micro-VM of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		inst = &launched[0]
		break
	}
	if inst == nil {
		slices.Sort(insufficient) // the same message (one event) at every retry
		return nil, capacityRetry, s.unschedulable(ctx, pod, fmt.Sprintf("Fargate has no capacity for %s in %s right now; retrying", size.CapacityProvisioned(), strings.Join(insufficient, ", ")))
	}
	if inst.State == cloud.StateShuttingDown || inst.State == cloud.StateTerminated {
		// Its micro-VM ended before the pod was bound to it: launch anew.
		log.FromContext(ctx).Info("the micro-VM of an unbound pod ended; launching another", "instance", inst.ID, "reason", inst.StateReason)
		return nil, 0, s.patch(ctx, pod, func(p *corev1.Pod) {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[resources.AnnotationAttempt] = strconv.Itoa(attempt(pod) + 1)
		})
	}
	return inst, 0, nil
}

// next is the index of the subnet the profile's next pod tries first.
func (s *Controller) next(profile string) int {
	n, _ := s.spread.LoadOrStore(profile, new(atomic.Int64))
	return int(n.(*atomic.Int64).Add(1) - 1)
}

// runInput is the launch of the pod's micro-VM, but for its subnet.
func (s *Controller) runInput(ctx context.Context, pod *corev1.Pod, fp *eksv1.FargateProfile, size sizing.Result) (cloud.RunInput, error) {
	image, err := s.image()
	if err != nil {
		return cloud.RunInput{}, err
	}
	token, err := s.token(ctx, fp)
	if err != nil {
		return cloud.RunInput{}, err
	}
	o := s.env.Join
	o.ClusterName = s.env.Cluster
	o.Labels = map[string]string{eksv1.LabelComputeType: eksv1.ComputeTypeFargate}
	o.Taints = []corev1.Taint{Taint}
	userData, err := join.Config(o, token).Render()
	if err != nil {
		return cloud.RunInput{}, err
	}
	return cloud.RunInput{
		ImageID: image.ID, InstanceType: cloud.MicroVMType, UserData: string(userData),
		MicroVM: &cloud.MicroVM{MilliCPU: size.MilliCPU, MemoryMiB: size.MemoryMiB, StorageGiB: size.EphemeralStorageGiB},
		Tags: map[string]string{
			cloud.TagMicroVMPod:    string(pod.UID),
			resources.TagPod:       pod.Namespace + "/" + pod.Name,
			resources.LabelProfile: fp.Name,
		},
		ClientToken: resources.ClientToken(string(pod.UID), attempt(pod)),
	}, nil
}

// token is the bootstrap token of the profile's pods' nodes (the profile
// controller made it before the profile became ACTIVE).
func (s *Controller) token(ctx context.Context, fp *eksv1.FargateProfile) (string, error) {
	if t, ok := s.tokens.Load(fp.UID); ok {
		return t.(string), nil
	}
	t, err := join.EnsureGroupToken(ctx, s.kube, resources.TokenID(fp), "kdp Fargate profile "+fp.Name, resources.Group(fp), map[string]string{resources.LabelProfile: fp.Name})
	if err != nil {
		return "", err
	}
	s.tokens.Store(fp.UID, t)
	return t, nil
}

// image is what the pods' nodes run: the newest AL2023 x86 image of the
// cluster's minor version (EKS starts Fargate pods on the newest patch
// release it offers for the cluster's minor).
func (s *Controller) image() (cloud.Image, error) {
	minor := minorOf(s.env.ClusterVersion)
	for _, img := range s.images { // newest release first
		if img.Type == "AL2023_x86_64_STANDARD" && minorOf(img.KubernetesVersion) == minor {
			return img, nil
		}
	}
	return cloud.Image{}, fmt.Errorf("the cloud offers no AL2023_x86_64_STANDARD image for Kubernetes %s, which Fargate's nodes run", minor)
}

// minorOf is 1.37 of v1.37.2 or 1.37.2-eks-…
func minorOf(v string) string {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
