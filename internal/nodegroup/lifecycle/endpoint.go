package lifecycle

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// ensureEndpoint keeps the API server address and CA that the group's
// launch template gives new nodes those kdp joins them to now: kdp
// started again with another --apiserver-port or --bind-address (or
// against a cluster whose address changed) would otherwise leave the
// group's new instances unable to join. It makes a launch template
// version with the new address and points the Auto Scaling group at it.
// Each template version is looked at once per process. Not while an
// update runs: the update makes versions of its own, from the newest.
func (c *Controller) ensureEndpoint(ctx context.Context, ng *eksv1.NodeGroup) error {
	ref := ng.Status.Resources.LaunchTemplate
	if ref == nil || ng.Status.ActiveUpdate != "" || len(ng.Status.Resources.AutoScalingGroups) == 0 {
		return nil
	}
	key := ref.ID + "/" + ref.Version
	if _, seen := c.endpoints.Load(key); seen {
		return nil
	}
	lt, err := c.cloud.GetLaunchTemplate(ctx, cloud.TemplateRef{ID: ref.ID})
	if err != nil {
		return fmt.Errorf("reading launch template %s: %w", ref.ID, err)
	}
	var current *cloud.LaunchTemplateVersion
	for i := range lt.Versions {
		if strconv.FormatInt(lt.Versions[i].Number, 10) == ref.Version {
			current = &lt.Versions[i]
		}
	}
	if current == nil {
		return nil // the observation reports what is wrong with the group
	}
	nc, err := join.Parse([]byte(current.UserData))
	if err != nil {
		return fmt.Errorf("reading the join configuration of launch template %s version %s: %w", lt.Name, ref.Version, err)
	}
	ca := base64.StdEncoding.EncodeToString(c.env.Join.CA)
	if nc.Spec.Cluster.APIServerEndpoint == c.env.Join.Server && nc.Spec.Cluster.CertificateAuthority == ca {
		c.endpoints.Store(key, true)
		return nil
	}
	was := nc.Spec.Cluster.APIServerEndpoint
	nc.Spec.Cluster.APIServerEndpoint, nc.Spec.Cluster.CertificateAuthority = c.env.Join.Server, ca
	userData, err := nc.Render()
	if err != nil {
		return err
	}
	data := current.LaunchTemplateData
	data.UserData = string(userData)
	_, version, err := EnsureTemplate(ctx, c.cloud, lt.Name, data, "kdp node group "+ng.Name)
	if err != nil {
		return err
	}
	v := strconv.FormatInt(version, 10)
	name := resources.ASGName(ng)
	if _, err := c.cloud.UpdateGroup(ctx, name, cloud.GroupUpdate{LaunchTemplate: &cloud.TemplateRef{ID: lt.ID, Version: v}}); err != nil {
		return fmt.Errorf("pointing Auto Scaling group %s at launch template %s version %s: %w", name, lt.Name, v, err)
	}
	ref.Version = v
	log.FromContext(ctx).Info("the cluster's API server moved: new nodes join it at its new address", "nodegroup", ng.Name, "was", was, "now", c.env.Join.Server, "launchTemplateVersion", v)
	c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "JoinEndpointChanged", "Observe",
		"The cluster's API server is at %s now (was %s): new nodes join from launch template %s version %s", c.env.Join.Server, was, lt.Name, v)
	return nil
}
