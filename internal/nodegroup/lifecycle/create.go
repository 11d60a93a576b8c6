package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/validation"
)

// createFailure is a reason the group's cloud resources cannot be made
// that trying again does not fix: the group is CREATE_FAILED with it.
type createFailure struct{ issue eksv1.Issue }

func (e *createFailure) Error() string { return string(e.issue.Code) + ": " + e.issue.Message }

// create makes the group's bootstrap token, launch template and Auto
// Scaling group (each found again if a crash came between making it and
// recording it), then records them and the configuration in effect. It
// reports whether the group now exists.
func (c *Controller) create(ctx context.Context, ng *eksv1.NodeGroup) (bool, error) {
	err := c.createResources(ctx, ng)
	var failed *createFailure
	if errors.As(err, &failed) {
		ng.Status.Health.Issues = []eksv1.Issue{failed.issue}
		c.setStatus(ng, eksv1.StatusCreateFailed, nil)
		c.recorder.Eventf(ng, nil, corev1.EventTypeWarning, "CreateFailed", "Create", "Node group is CREATE_FAILED: %s", failed.Error())
		return false, nil
	}
	return err == nil, err
}

func (c *Controller) createResources(ctx context.Context, ng *eksv1.NodeGroup) error {
	token, err := join.EnsureToken(ctx, c.kube, resources.TokenID(ng), "kdp node group "+ng.Name, map[string]string{eksv1.LabelUpdateNodegroup: ng.Name})
	if err != nil {
		return err
	}
	source, err := c.source(ctx, ng.Spec.LaunchTemplate)
	if err != nil {
		return err
	}
	image, err := c.image(ctx, ng, source)
	if err != nil {
		return err
	}
	applied := resources.Applied(&ng.Spec, image)
	data, err := resources.TemplateData(c.join(), token, resources.NodeLabels(ng, applied, source), applied.Taints, image.ID, source)
	if err != nil {
		return err
	}
	lt, version, err := EnsureTemplate(ctx, c.cloud, resources.TemplateName(ng), data, "kdp node group "+ng.Name)
	if err != nil {
		return err
	}
	group, err := c.ensureGroup(ctx, ng, lt, version)
	if err != nil {
		return err
	}
	now := metav1.NewTime(group.CreatedTime)
	ng.Status.CreatedAt, ng.Status.ModifiedAt = &now, &now
	ng.Status.ClusterName = c.env.Cluster
	ng.Status.NodegroupArn = resources.ARN(c.env.Account.Region, c.env.Account.ID, c.env.Cluster, ng)
	ng.Status.Resources.AutoScalingGroups = []eksv1.AutoScalingGroup{{Name: group.Name}}
	ng.Status.Resources.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: lt.ID, Name: lt.Name, Version: strconv.FormatInt(version, 10)}
	ng.Status.ReleaseVersion = image.ReleaseVersion
	ng.Status.InstanceTypes = instanceTypes(ng, source)
	ng.Status.Applied = applied
	ng.Status.ObservedGeneration = ng.Generation
	return nil
}

// join is where the group's nodes join.
func (c *Controller) join() join.Options { return JoinOptions(c.env) }

// JoinOptions are where a group's nodes join: the cluster's API server.
func JoinOptions(env resources.Env) join.Options {
	o := env.Join
	o.ClusterName = env.Cluster
	return o
}

// source reads the user's launch template version the spec names.
func (c *Controller) source(ctx context.Context, spec *eksv1.LaunchTemplateSpecification) (*resources.Source, error) {
	src, issue, err := ReadSource(ctx, c.cloud, spec)
	if issue != nil {
		return nil, &createFailure{*issue}
	}
	return src, err
}

// image is the image the group's nodes launch with.
func (c *Controller) image(ctx context.Context, ng *eksv1.NodeGroup, source *resources.Source) (resources.Image, error) {
	img, issue, err := ImageOf(ctx, c.cloud, ng.Spec.AMIType, ng.Spec.Version, ng.Spec.ReleaseVersion, source)
	if issue != nil {
		return img, &createFailure{*issue}
	}
	return img, err
}

// ReadSource reads the version of the user's launch template that spec
// names (nil for none). A template or version that is not there is an
// issue, with EKS's code; other errors are worth trying again.
func ReadSource(ctx context.Context, p cloud.LaunchTemplates, spec *eksv1.LaunchTemplateSpecification) (*resources.Source, *eksv1.Issue, error) {
	if spec == nil {
		return nil, nil, nil
	}
	ref := cloud.TemplateRef{ID: spec.ID, Name: spec.Name}
	lt, err := p.GetLaunchTemplate(ctx, ref)
	if cloud.IsNotFound(err) {
		return nil, &eksv1.Issue{Code: eksv1.IssueSourceEc2LaunchTemplateNotFound, Message: fmt.Sprintf("Launch template %s does not exist.", ref), ResourceIDs: []string{ref.String()}}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading launch template %s: %w", ref, err)
	}
	want := lt.DefaultVersion
	if spec.Version != "" {
		want, _ = strconv.ParseInt(spec.Version, 10, 64)
	}
	for _, v := range lt.Versions {
		if v.Number == want {
			return &resources.Source{ID: lt.ID, Version: v.Number, Data: v.LaunchTemplateData}, nil, nil
		}
	}
	return nil, &eksv1.Issue{Code: eksv1.IssueEc2LaunchTemplateVersionMismatch, Message: fmt.Sprintf("Launch template %s has no version %d.", lt.Name, want), ResourceIDs: []string{lt.ID}}, nil
}

// ImageOf is the image a group's nodes launch with: the source template's
// own (a custom AMI, whose release is its id), or the one of the AMI type,
// Kubernetes version and release ("" for the newest).
func ImageOf(ctx context.Context, p cloud.Catalog, amiType eksv1.AMIType, version, release string, source *resources.Source) (resources.Image, *eksv1.Issue, error) {
	if source != nil && source.Data.ImageID != "" {
		return resources.Image{ID: source.Data.ImageID, ReleaseVersion: source.Data.ImageID}, nil, nil
	}
	images, err := p.Images(ctx)
	if err != nil {
		return resources.Image{}, nil, fmt.Errorf("reading the cloud's images: %w", err)
	}
	f := &validation.Facts{Images: images}
	img, ok := f.ImageFor(string(amiType), version, release)
	if !ok {
		return resources.Image{}, &eksv1.Issue{Code: eksv1.IssueAmiIDNotFound,
			Message: fmt.Sprintf("No %s image of release %q for Kubernetes %s.", amiType, release, version)}, nil
	}
	return resources.Image{ID: img.ID, ReleaseVersion: img.ReleaseVersion}, nil, nil
}

// EnsureTemplate returns the launch template of name and the number of its
// version that holds data, creating the template (version 1) or a new
// version if there is none yet, so that a crash between creating and
// recording a version does not leave a second one behind.
func EnsureTemplate(ctx context.Context, p cloud.LaunchTemplates, name string, data cloud.LaunchTemplateData, description string) (*cloud.LaunchTemplate, int64, error) {
	lt, err := p.GetLaunchTemplate(ctx, cloud.TemplateRef{Name: name})
	if cloud.IsNotFound(err) {
		lt, err = p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: name, LaunchTemplateData: data, Tags: map[string]string{"eks:description": description}})
		if cloud.IsAlreadyExists(err) {
			return EnsureTemplate(ctx, p, name, data, description)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("creating launch template %s: %w", name, err)
		}
		return lt, 1, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading launch template %s: %w", name, err)
	}
	if latest := lt.Versions[len(lt.Versions)-1]; apiequality.Semantic.DeepEqual(latest.LaunchTemplateData, data) {
		return lt, latest.Number, nil
	}
	v, err := p.CreateLaunchTemplateVersion(ctx, cloud.TemplateRef{ID: lt.ID}, cloud.LaunchTemplateVersionInput{LaunchTemplateData: data, Description: description, MakeDefault: true})
	if err != nil {
		return nil, 0, fmt.Errorf("creating a version of launch template %s: %w", name, err)
	}
	return lt, v.Number, nil
}

// ensureGroup returns the group's Auto Scaling group, creating it with its
// termination hook (so that no instance of it ever goes undrained) if there
// is none.
func (c *Controller) ensureGroup(ctx context.Context, ng *eksv1.NodeGroup, lt *cloud.LaunchTemplate, version int64) (*cloud.Group, error) {
	name := resources.ASGName(ng)
	if g, err := c.cloud.GetGroup(ctx, name); err == nil {
		return g, nil
	} else if !cloud.IsNotFound(err) {
		return nil, fmt.Errorf("reading Auto Scaling group %s: %w", name, err)
	}
	s := ng.Spec
	in := cloud.GroupInput{
		Name:            name,
		LaunchTemplate:  cloud.TemplateRef{ID: lt.ID, Version: strconv.FormatInt(version, 10)},
		MinSize:         s.ScalingConfig.MinSize,
		MaxSize:         s.ScalingConfig.MaxSize,
		DesiredCapacity: s.ScalingConfig.DesiredSize,
		InstanceTypes:   s.InstanceTypes,
		CapacityType:    cloud.OnDemand,
		SubnetIDs:       s.Subnets,
		Tags:            resources.GroupTags(c.env.Cluster, ng, s.Tags),
		LifecycleHooks: []cloud.LifecycleHook{{
			Name: resources.TerminateHook, Transition: cloud.HookTerminating,
			HeartbeatTimeout: cloud.Duration{Duration: resources.HookTimeout}, DefaultResult: cloud.ResultContinue,
		}},
	}
	if s.CapacityType == eksv1.Spot {
		in.CapacityType, in.CapacityRebalance = cloud.Spot, ptr.To(true) // EKS turns capacity rebalancing on for spot groups
	}
	g, err := c.cloud.CreateGroup(ctx, in)
	switch {
	case cloud.IsAlreadyExists(err):
		return c.cloud.GetGroup(ctx, name)
	case cloud.IsInvalid(err):
		return nil, &createFailure{groupIssue(name, err)}
	case err != nil:
		return nil, fmt.Errorf("creating Auto Scaling group %s: %w", name, err)
	}
	log.FromContext(ctx).Info("created the node group's Auto Scaling group", "nodegroup", ng.Name, "group", name, "desired", in.DesiredCapacity)
	c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "CreatedAutoScalingGroup", "Create", "Created Auto Scaling group %s: launching %d instances", name, in.DesiredCapacity)
	return g, nil
}

// groupIssue is the health issue of an Auto Scaling group the cloud
// refused to create.
func groupIssue(name string, err error) eksv1.Issue {
	var invalid *cloud.InvalidParameterError
	code := eksv1.IssueAutoScalingGroupInvalidConfiguration
	if errors.As(err, &invalid) && len(invalid.Problems) > 0 {
		switch invalid.Problems[0].Field {
		case "subnetIds":
			code = eksv1.IssueEc2SubnetNotFound
		case "instanceTypes":
			code = eksv1.IssueEc2InstanceTypeDoesNotExist
		case "launchTemplate":
			code = eksv1.IssueEc2LaunchTemplateNotFound
		}
	}
	return eksv1.Issue{Code: code, Message: err.Error(), ResourceIDs: []string{name}}
}

// instanceTypes is what the printer column shows: the group's types, or
// its launch template's.
func instanceTypes(ng *eksv1.NodeGroup, source *resources.Source) string {
	types := ng.Spec.InstanceTypes
	if len(types) == 0 && source != nil && source.Data.InstanceType != "" {
		types = []string{source.Data.InstanceType}
	}
	out := ""
	for i, t := range types {
		if i > 0 {
			out += ","
		}
		out += t
	}
	return out
}
