package update

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/nodegroup/lifecycle"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// failure is an update that cannot succeed, with EKS's error code.
type failure struct {
	code, message string
	resources     []string
}

func (f *failure) Error() string { return f.code + ": " + f.message }

func asFailure(err error, target **failure) bool { return errors.As(err, target) }

// apply makes what change changes so, idempotently: the Auto Scaling
// group's sizes, a launch template version with the target labels and
// taints (for nodes to come), and the labels and taints of the nodes there
// are. It returns what it still waits on ("" when done).
func (c *Controller) apply(ctx context.Context, ng *eksv1.NodeGroup, change resources.Change, target *eksv1.AppliedConfig) (string, error) {
	name := resources.ASGName(ng)
	group, err := c.cloud.GetGroup(ctx, name)
	if cloud.IsNotFound(err) {
		return "", &failure{code: "K8sResourceNotFound", message: "the node group's Auto Scaling group is gone", resources: []string{name}}
	}
	if err != nil {
		return "", fmt.Errorf("reading Auto Scaling group %s: %w", name, err)
	}
	var in cloud.GroupUpdate
	version := group.LaunchTemplate.Version
	if change.Relabels() {
		v, err := c.relabelTemplate(ctx, ng, target)
		if err != nil {
			return "", err
		}
		if version = strconv.FormatInt(v, 10); group.LaunchTemplate.Version != version {
			in.LaunchTemplate = &cloud.TemplateRef{ID: group.LaunchTemplate.ID, Version: version}
		}
	}
	if s := target.ScalingConfig; change.Scales() && (group.MinSize != s.MinSize || group.MaxSize != s.MaxSize || group.DesiredCapacity != s.DesiredSize) {
		in.MinSize, in.MaxSize, in.DesiredCapacity = &s.MinSize, &s.MaxSize, &s.DesiredSize
	}
	if in.LaunchTemplate != nil || in.MinSize != nil {
		_, err := c.cloud.UpdateGroup(ctx, name, in)
		if cloud.IsInvalid(err) {
			return "", &failure{code: "ConfigurationConflict", message: err.Error(), resources: []string{name}}
		}
		if err != nil {
			return "", fmt.Errorf("updating Auto Scaling group %s: %w", name, err)
		}
		if in.MinSize != nil {
			c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Scaling", "Update", "Scaling from %d to %d nodes (min %d, max %d)%s",
				group.DesiredCapacity, *in.DesiredCapacity, *in.MinSize, *in.MaxSize, scaleNote(group.DesiredCapacity, *in.DesiredCapacity))
		}
	}
	if !change.Relabels() {
		return "", nil
	}
	return c.relabelNodes(ctx, ng, change, version)
}

func scaleNote(from, to int32) string {
	switch {
	case to > from:
		return fmt.Sprintf(": launching %d instances", to-from)
	case to < from:
		return fmt.Sprintf(": %d nodes are drained, then their instances terminate", from-to)
	}
	return ""
}

// relabelTemplate makes (or finds) the launch template version whose
// nodes register with the target's labels and taints.
func (c *Controller) relabelTemplate(ctx context.Context, ng *eksv1.NodeGroup, target *eksv1.AppliedConfig) (int64, error) {
	current := ng.Status.Resources.LaunchTemplate
	lt, err := c.cloud.GetLaunchTemplate(ctx, cloud.TemplateRef{ID: current.ID})
	if err != nil {
		return 0, fmt.Errorf("reading launch template %s: %w", current.Name, err)
	}
	var base *cloud.LaunchTemplateVersion
	for i := range lt.Versions {
		if strconv.FormatInt(lt.Versions[i].Number, 10) == current.Version {
			base = &lt.Versions[i]
		}
	}
	if base == nil {
		return 0, &failure{code: "Unknown", message: fmt.Sprintf("launch template %s has no version %s", lt.Name, current.Version), resources: []string{lt.ID}}
	}
	nc, err := join.Parse([]byte(base.UserData))
	if err != nil {
		return 0, fmt.Errorf("reading the join configuration of launch template %s version %d: %w", lt.Name, base.Number, err)
	}
	labels, err := nc.Labels()
	if err != nil {
		return 0, err
	}
	// EKS's labels stay as the version has them; the user's are the
	// target's.
	for k := range labels {
		if _, ok := ng.Status.Applied.Labels[k]; ok {
			delete(labels, k)
		}
	}
	maps.Copy(labels, target.Labels)
	// Taints likewise: the source template's own stay, the group's are the
	// target's.
	taints, err := nc.Taints()
	if err != nil {
		return 0, err
	}
	old := resources.Taints(ng.Status.Applied.Taints)
	taints = slices.DeleteFunc(taints, func(t corev1.Taint) bool {
		return slices.ContainsFunc(old, func(o corev1.Taint) bool { return o.Key == t.Key && o.Effect == t.Effect })
	})
	o := join.Options{}
	o.Labels, o.Taints = labels, resources.MergeTaints(taints, resources.Taints(target.Taints))
	relabelled := join.Config(o, nc.Spec.Kubelet.BootstrapToken)
	relabelled.Spec.Cluster = nc.Spec.Cluster
	var kept []string
	for _, f := range nc.Spec.Kubelet.Flags {
		if !isLabelOrTaintFlag(f) {
			kept = append(kept, f)
		}
	}
	relabelled.Spec.Kubelet.Flags = append(kept, relabelled.Spec.Kubelet.Flags...)
	userData, err := relabelled.Render()
	if err != nil {
		return 0, err
	}
	data := base.LaunchTemplateData
	data.UserData = string(userData)
	_, version, err := lifecycle.EnsureTemplate(ctx, c.cloud, lt.Name, data, "kdp node group "+ng.Name)
	return version, err
}

func isLabelOrTaintFlag(f string) bool {
	return strings.HasPrefix(f, "--node-labels=") || strings.HasPrefix(f, "--register-with-taints=")
}

// relabelNodes puts the change's labels and taints on the group's nodes
// (and takes off those it removes), leaving everything else of them as it
// is. It waits for instances launched from an older version of the launch
// template that have no node yet: they register with the old labels.
func (c *Controller) relabelNodes(ctx context.Context, ng *eksv1.NodeGroup, change resources.Change, version string) (string, error) {
	members, err := resources.Members(ctx, c.client, c.cloud, ng)
	if err != nil {
		return "", err
	}
	waiting := ""
	for _, m := range members {
		if m.Node == nil {
			if m.Instance.State != cloud.StateShuttingDown && m.Instance.LaunchTemplate != nil && m.Instance.LaunchTemplate.Version != version &&
				c.env.Clock.Since(m.Instance.LaunchTime) < c.env.Wait(resources.JoinTimeout) {
				waiting = "instance " + m.Instance.ID + " to register its node"
			}
			continue
		}
		err := c.relabel(ctx, m.Node, change)
		if apierrors.IsConflict(err) {
			waiting = "node " + m.Node.Name + ", changed meanwhile, to be relabelled" // with its newest version, next time
			continue
		}
		if err != nil {
			return "", fmt.Errorf("relabelling node %s: %w", m.Node.Name, err)
		}
	}
	return waiting, nil
}

// relabel applies the change to one node, if it is not so already: one
// patch, with the node's resourceVersion (so a taint another controller
// just put on is not lost).
func (c *Controller) relabel(ctx context.Context, node *corev1.Node, change resources.Change) error {
	want := relabelled(node, change)
	if maps.Equal(want.Labels, node.Labels) && slices.Equal(want.Spec.Taints, node.Spec.Taints) {
		return nil
	}
	err := c.client.Patch(ctx, want, client.MergeFromWithOptions(node, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// relabelled is a copy of node with the change's labels and taints on (a
// taint by its key and effect) and those it removes off, everything else
// as it was.
func relabelled(node *corev1.Node, change resources.Change) *corev1.Node {
	want := node.DeepCopy()
	if want.Labels == nil {
		want.Labels = map[string]string{}
	}
	maps.Copy(want.Labels, change.LabelsToAdd)
	for _, k := range change.LabelsToRemove {
		delete(want.Labels, k)
	}
	for _, t := range change.TaintsToRemove {
		want.Spec.Taints = slices.DeleteFunc(want.Spec.Taints, func(n corev1.Taint) bool {
			return n.Key == t.Key && n.Effect == resources.TaintEffect(t.Effect)
		})
	}
	for _, t := range change.TaintsToAdd {
		kt := resources.Taint(t)
		i := slices.IndexFunc(want.Spec.Taints, func(n corev1.Taint) bool { return n.Key == kt.Key && n.Effect == kt.Effect })
		if i >= 0 {
			want.Spec.Taints[i] = kt
		} else {
			want.Spec.Taints = append(want.Spec.Taints, kt)
		}
	}
	return want
}
