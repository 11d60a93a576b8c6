package resources

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
)

// Source is the user's launch template version a group launches from, if
// it names one: kdp copies it into the group's own template, with its join
// configuration merged into the user data, as EKS does.
type Source struct {
	ID      string
	Version int64
	Data    cloud.LaunchTemplateData
}

// NodeLabels are the labels a group's nodes register with: the user's and
// the ones EKS puts there (which win).
func NodeLabels(ng *eksv1.NodeGroup, applied *eksv1.AppliedConfig, source *Source) map[string]string {
	labels := maps.Clone(applied.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[eksv1.LabelNodegroup] = ng.Name
	labels[eksv1.LabelNodegroupImage] = applied.ImageID
	labels[eksv1.LabelCapacityType] = string(ng.Spec.CapacityType)
	if source != nil {
		labels[eksv1.LabelSourceLaunchTemplateID] = source.ID
		labels[eksv1.LabelSourceLaunchTemplateVersion] = fmt.Sprint(source.Version)
	}
	return labels
}

// Taints are EKS taints as Kubernetes writes them.
func Taints(ts []eksv1.Taint) []corev1.Taint {
	out := make([]corev1.Taint, 0, len(ts))
	for _, t := range ts {
		out = append(out, Taint(t))
	}
	return out
}

// Taint is one EKS taint as Kubernetes writes it.
func Taint(t eksv1.Taint) corev1.Taint {
	return corev1.Taint{Key: t.Key, Value: t.Value, Effect: TaintEffect(t.Effect)}
}

// TaintEffect is an EKS taint effect as Kubernetes names it.
func TaintEffect(e eksv1.TaintEffect) corev1.TaintEffect {
	switch e {
	case eksv1.NoExecute:
		return corev1.TaintEffectNoExecute
	case eksv1.PreferNoSchedule:
		return corev1.TaintEffectPreferNoSchedule
	}
	return corev1.TaintEffectNoSchedule
}

// TemplateData is what the group's instances launch with: the image, the
// source template's type and tags if there is one, and user data that
// joins the cluster with token, the labels and the taints. A source
// template's user data, if it is a NodeConfig, keeps its kubelet flags
// (kdp's labels are added after them, so they win) and its taints, in
// kdp's one --register-with-taints (the kubelet heeds only the last one,
// and a Node may not have two taints of one key and effect: the group's
// win); any other user data has no meaning to a simulated machine and is
// replaced.
func TemplateData(base join.Options, token string, labels map[string]string, taints []eksv1.Taint, image string, source *Source) (cloud.LaunchTemplateData, error) {
	o := base
	o.Labels, o.Taints = labels, Taints(taints)
	var userFlags []string
	data := cloud.LaunchTemplateData{ImageID: image}
	if source != nil {
		data.InstanceType = source.Data.InstanceType
		data.InstanceTags = maps.Clone(source.Data.InstanceTags)
		if source.Data.ImageID != "" {
			data.ImageID = source.Data.ImageID
		}
		if user := userNodeConfig(source.Data.UserData); user != nil {
			userFlags = slices.Clone(user.Spec.Kubelet.Flags)
			if theirs, err := user.Taints(); err == nil && len(theirs) > 0 {
				userFlags = slices.DeleteFunc(userFlags, func(f string) bool { return strings.HasPrefix(f, "--register-with-taints=") })
				o.Taints = MergeTaints(theirs, o.Taints)
			}
		}
	}
	nc := join.Config(o, token)
	nc.Spec.Kubelet.Flags = append(userFlags, nc.Spec.Kubelet.Flags...)
	userData, err := nc.Render()
	if err != nil {
		return cloud.LaunchTemplateData{}, err
	}
	data.UserData = string(userData)
	return data, nil
}

// MergeTaints is theirs without those that ours has (by key and effect:
// a Node may not have two), then ours.
func MergeTaints(theirs, ours []corev1.Taint) []corev1.Taint {
	kept := slices.DeleteFunc(slices.Clone(theirs), func(u corev1.Taint) bool {
		return slices.ContainsFunc(ours, func(t corev1.Taint) bool { return t.Key == u.Key && t.Effect == u.Effect })
	})
	return append(kept, ours...)
}

// userNodeConfig is the NodeConfig of a user's user data, or nil if it is
// not one.
func userNodeConfig(userData string) *join.NodeConfig {
	nc := &join.NodeConfig{}
	if userData == "" || yaml.Unmarshal([]byte(userData), nc) != nil || nc.APIVersion != join.APIVersion || nc.Kind != join.Kind {
		return nil
	}
	return nc
}
