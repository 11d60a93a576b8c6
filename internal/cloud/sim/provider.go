// Package sim is the simulated cloud that `kdp up` runs by default: EC2
// instances, launch templates and Auto Scaling groups, modelled on AWS and
// kept as resources of the sim.kdp.dev API group in the cluster's own API
// server. The Provider is what controllers and the CLI call; the
// controllers in this package play the cloud's part (launching instances,
// booting them, terminating them) and the part of the kubelets on them.
//
// Instance-type selection follows EC2 Auto Scaling: an on-demand group uses
// its instance types in order (prioritized), a spot group takes the
// cheapest type in the zone (price-capacity-optimized); a type with no
// capacity in a zone is skipped.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

// MaxGroupSize bounds a group's maxSize, as EKS bounds a node group's.
const MaxGroupSize = 1000

// Provider implements cloud.Provider on the sim.kdp.dev resources.
type Provider struct {
	client  client.Client
	catalog *Catalog
	clock   clock.Clock
	timing  Timing
	events  *Broker
}

var _ cloud.Provider = (*Provider)(nil)

// NewProvider returns the simulated cloud's provider. Its events come
// from the controllers that share the broker; a provider in another process
// (the CLI's) has none.
func NewProvider(c client.Client, catalog *Catalog, clk clock.Clock, timing Timing, events *Broker) *Provider {
	return &Provider{client: c, catalog: catalog, clock: clk, timing: timing, events: events}
}

// Subscribe delivers the cloud's events until ctx ends.
func (p *Provider) Subscribe(ctx context.Context) <-chan cloud.Event { return p.events.Subscribe(ctx) }

func (p *Provider) CompleteLifecycleAction(ctx context.Context, group, hook, instanceID, result string) error {
	if result != simv1.ResultContinue && result != simv1.ResultAbandon {
		return cloud.Invalid("result", "must be CONTINUE or ABANDON, got %q", result)
	}
	inst := &simv1.Instance{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: instanceID}, inst); err != nil {
		return notFound(err, "instance", instanceID)
	}
	waiting := inst.Status.LifecycleState == simv1.LifecycleTerminatingWait || inst.Status.LifecycleState == simv1.LifecyclePendingWait
	if inst.Spec.Group != group || !waiting || inst.Status.WaitingOn != hook {
		return cloud.Invalid("instance", "no active lifecycle action found with instance ID %s for hook %s of group %s", instanceID, hook, group)
	}
	if inst.Spec.CompletedLifecycleActions[hook] != "" {
		return nil
	}
	base := inst.DeepCopy()
	if inst.Spec.CompletedLifecycleActions == nil {
		inst.Spec.CompletedLifecycleActions = map[string]string{}
	}
	inst.Spec.CompletedLifecycleActions[hook] = result
	return p.client.Patch(ctx, inst, client.MergeFrom(base))
}

// Catalog is the provider's catalogue.
func (p *Provider) Catalog() *Catalog { return p.catalog }

func (p *Provider) InstanceTypes(context.Context) ([]cloud.InstanceType, error) {
	return p.catalog.InstanceTypes(), nil
}

func (p *Provider) Images(context.Context) ([]cloud.Image, error) { return p.catalog.Images(), nil }

func (p *Provider) Subnets(context.Context) ([]cloud.Subnet, error) { return p.catalog.Subnets(), nil }

func (p *Provider) CreateLaunchTemplate(ctx context.Context, in cloud.LaunchTemplateInput) (*cloud.LaunchTemplate, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	if err := p.checkImageAndType(in.ImageID, in.InstanceType); err != nil {
		return nil, err
	}
	lt := &simv1.LaunchTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: in.Name},
		Spec: simv1.LaunchTemplateSpec{
			ID:             "lt-" + randomHex(17),
			DefaultVersion: 1,
			Versions: []simv1.LaunchTemplateVersion{{
				Number: 1, ImageID: in.ImageID, InstanceType: in.InstanceType, UserData: in.UserData, Tags: in.Tags,
			}},
		},
	}
	if err := p.client.Create(ctx, lt); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, &cloud.AlreadyExistsError{Kind: "launch template", Name: in.Name}
		}
		return nil, err
	}
	return launchTemplateFrom(lt), nil
}

func (p *Provider) GetLaunchTemplate(ctx context.Context, name string) (*cloud.LaunchTemplate, error) {
	lt := &simv1.LaunchTemplate{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: name}, lt); err != nil {
		return nil, notFound(err, "launch template", name)
	}
	return launchTemplateFrom(lt), nil
}

func (p *Provider) CreateLaunchTemplateVersion(ctx context.Context, name string, in cloud.LaunchTemplateInput, makeDefault bool) (int64, error) {
	var number int64
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lt := &simv1.LaunchTemplate{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: name}, lt); err != nil {
			return notFound(err, "launch template", name)
		}
		def, err := ResolveVersion(lt, "$Default")
		if err != nil {
			return err
		}
		v := simv1.LaunchTemplateVersion{ImageID: def.ImageID, InstanceType: def.InstanceType, UserData: def.UserData, Tags: def.Tags}
		if in.ImageID != "" {
			v.ImageID = in.ImageID
		}
		if in.InstanceType != "" {
			v.InstanceType = in.InstanceType
		}
		if in.UserData != "" {
			v.UserData = in.UserData
		}
		if in.Tags != nil {
			v.Tags = in.Tags
		}
		if err := p.checkImageAndType(v.ImageID, v.InstanceType); err != nil {
			return err
		}
		base := lt.DeepCopy()
		v.Number = lt.Spec.Versions[len(lt.Spec.Versions)-1].Number + 1
		lt.Spec.Versions = append(lt.Spec.Versions, v)
		if makeDefault {
			lt.Spec.DefaultVersion = v.Number
		}
		number = v.Number
		return p.client.Patch(ctx, lt, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
	return number, err
}

func (p *Provider) SetLaunchTemplateVersion(ctx context.Context, name, version string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		asg := &simv1.AutoScalingGroup{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: name}, asg); err != nil {
			return notFound(err, "auto scaling group", name)
		}
		lt := &simv1.LaunchTemplate{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: asg.Spec.LaunchTemplate.Name}, lt); err != nil {
			return notFound(err, "launch template", asg.Spec.LaunchTemplate.Name)
		}
		ltv, err := ResolveVersion(lt, version)
		if err != nil {
			return cloud.Invalid("launch-template-version", "%s", err.(*cloud.InvalidParameterError).Message)
		}
		img, _ := p.catalog.Image(ltv.ImageID)
		types := asg.Spec.InstanceTypes
		if len(types) == 0 {
			types = []string{ltv.InstanceType}
		}
		for _, t := range types {
			if it, ok := p.catalog.InstanceType(t); !ok || it.Architecture != img.Architecture {
				return cloud.Invalid("launch-template-version", "version %s (image %s, %s) does not fit the group's instance type %s", version, img.ID, img.Architecture, t)
			}
		}
		base := asg.DeepCopy()
		asg.Spec.LaunchTemplate.Version = version
		return p.client.Patch(ctx, asg, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
}

// checkImageAndType checks an image and an (optional) instance type against
// the catalogue and each other.
func (p *Provider) checkImageAndType(imageID, instanceType string) error {
	img, ok := p.catalog.Image(imageID)
	if !ok {
		return cloud.Invalid("image", "unknown image %q (see kdp sim images)", imageID)
	}
	if instanceType == "" {
		return nil
	}
	t, ok := p.catalog.InstanceType(instanceType)
	if !ok {
		return cloud.Invalid("instance-type", "unknown instance type %q (see kdp sim instance-types)", instanceType)
	}
	if t.Architecture != img.Architecture {
		return cloud.Invalid("instance-type", "%s is %s but image %s is %s", t.Name, t.Architecture, img.ID, img.Architecture)
	}
	return nil
}

func (p *Provider) DeleteLaunchTemplate(ctx context.Context, name string) error {
	err := p.client.Delete(ctx, &simv1.LaunchTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return client.IgnoreNotFound(err)
}

func (p *Provider) CreateGroup(ctx context.Context, in cloud.GroupInput) (*cloud.Group, error) {
	asg, err := p.validateGroup(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := p.client.Create(ctx, asg); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, &cloud.AlreadyExistsError{Kind: "auto scaling group", Name: in.Name}
		}
		return nil, err
	}
	return groupFrom(asg), nil
}

// validateGroup checks a group request against the catalogue and the
// launch template, and returns the resource to create.
func (p *Provider) validateGroup(ctx context.Context, in cloud.GroupInput) (*simv1.AutoScalingGroup, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	switch {
	case in.MinSize < 0:
		return nil, cloud.Invalid("min", "must be at least 0, got %d", in.MinSize)
	case in.MaxSize > MaxGroupSize:
		return nil, cloud.Invalid("max", "must be at most %d, got %d", MaxGroupSize, in.MaxSize)
	case in.MinSize > in.MaxSize:
		return nil, cloud.Invalid("min", "min (%d) must not be greater than max (%d)", in.MinSize, in.MaxSize)
	case in.DesiredCapacity < in.MinSize || in.DesiredCapacity > in.MaxSize:
		return nil, cloud.Invalid("desired", "desired (%d) must be between min (%d) and max (%d)", in.DesiredCapacity, in.MinSize, in.MaxSize)
	}
	capacityType := in.CapacityType
	if capacityType == "" {
		capacityType = cloud.OnDemand
	}
	if capacityType != cloud.OnDemand && capacityType != cloud.Spot {
		return nil, cloud.Invalid("capacity-type", "must be %s or %s, got %q", cloud.OnDemand, cloud.Spot, capacityType)
	}
	lt := &simv1.LaunchTemplate{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: in.LaunchTemplate}, lt); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, cloud.Invalid("launch-template", "launch template %q not found", in.LaunchTemplate)
		}
		return nil, err
	}
	version := in.LaunchTemplateVersion
	if version == "" {
		version = "$Default"
	}
	ltv, err := ResolveVersion(lt, version)
	if err != nil {
		return nil, err
	}
	img, _ := p.catalog.Image(ltv.ImageID)
	types := in.InstanceTypes
	if len(types) == 0 {
		if ltv.InstanceType == "" {
			return nil, cloud.Invalid("instance-types", "the launch template names no instance type, so the group must")
		}
		types = []string{ltv.InstanceType}
	}
	for _, name := range types {
		t, ok := p.catalog.InstanceType(name)
		if !ok {
			return nil, cloud.Invalid("instance-types", "unknown instance type %q (see kdp sim instance-types)", name)
		}
		if t.Architecture != img.Architecture {
			return nil, cloud.Invalid("instance-types", "%s is %s but image %s is %s", name, t.Architecture, img.ID, img.Architecture)
		}
	}
	subnets := in.SubnetIDs
	if len(subnets) == 0 {
		for _, s := range p.catalog.PrivateSubnets() {
			subnets = append(subnets, s.ID)
		}
	}
	for _, id := range subnets {
		if _, ok := p.catalog.Subnet(id); !ok {
			return nil, cloud.Invalid("subnets", "unknown subnet %q (see kdp sim subnets)", id)
		}
	}
	var hooks []simv1.LifecycleHook
	seen := map[string]bool{}
	for _, h := range in.LifecycleHooks {
		field := "lifecycle-hook " + h.Name
		if err := validName("lifecycle-hook", h.Name); err != nil {
			return nil, err
		}
		transition := map[string]string{cloud.HookLaunching: simv1.TransitionLaunching, cloud.HookTerminating: simv1.TransitionTerminating}[h.Transition]
		if transition == "" {
			return nil, cloud.Invalid(field, "transition must be %s or %s, got %q", cloud.HookLaunching, cloud.HookTerminating, h.Transition)
		}
		if seen[h.Name] || seen[transition] {
			return nil, cloud.Invalid(field, "each hook needs its own name, and a group takes one hook per transition")
		}
		seen[h.Name], seen[transition] = true, true
		timeout := h.HeartbeatTimeout
		if timeout == 0 {
			timeout = time.Hour // EC2's default
		}
		if timeout < 30*time.Second || timeout > 2*time.Hour {
			return nil, cloud.Invalid(field, "timeout must be between 30s and 2h, got %s", timeout)
		}
		result := h.DefaultResult
		if result == "" {
			result = simv1.ResultAbandon // EC2's default
		}
		if result != simv1.ResultContinue && result != simv1.ResultAbandon {
			return nil, cloud.Invalid(field, "result must be CONTINUE or ABANDON, got %q", result)
		}
		hooks = append(hooks, simv1.LifecycleHook{Name: h.Name, Transition: transition, HeartbeatTimeoutSeconds: int32(timeout / time.Second), DefaultResult: result})
	}
	return &simv1.AutoScalingGroup{
		ObjectMeta: metav1.ObjectMeta{Name: in.Name, Finalizers: []string{simv1.Finalizer}},
		Spec: simv1.AutoScalingGroupSpec{
			MinSize: in.MinSize, MaxSize: in.MaxSize, DesiredCapacity: in.DesiredCapacity,
			LaunchTemplate:    simv1.LaunchTemplateRef{Name: in.LaunchTemplate, Version: version},
			InstanceTypes:     in.InstanceTypes,
			CapacityType:      capacityType,
			SubnetIDs:         subnets,
			CapacityRebalance: in.CapacityRebalance || capacityType == cloud.Spot,
			Tags:              in.Tags,
			LifecycleHooks:    hooks,
		},
	}, nil
}

// ResolveVersion finds a launch template's version: a number, "$Latest"
// or "$Default".
func ResolveVersion(lt *simv1.LaunchTemplate, version string) (simv1.LaunchTemplateVersion, error) {
	want := lt.Spec.DefaultVersion
	switch version {
	case "$Default", "":
	case "$Latest":
		want = lt.Spec.Versions[len(lt.Spec.Versions)-1].Number
	default:
		n, err := strconv.ParseInt(version, 10, 64)
		if err != nil {
			return simv1.LaunchTemplateVersion{}, cloud.Invalid("launch-template", "version %q must be a number, $Latest or $Default", version)
		}
		want = n
	}
	for _, v := range lt.Spec.Versions {
		if v.Number == want {
			return v, nil
		}
	}
	return simv1.LaunchTemplateVersion{}, cloud.Invalid("launch-template", "launch template %s has no version %s", lt.Name, version)
}

func (p *Provider) GetGroup(ctx context.Context, name string) (*cloud.Group, error) {
	asg := &simv1.AutoScalingGroup{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: name}, asg); err != nil {
		return nil, notFound(err, "auto scaling group", name)
	}
	return groupFrom(asg), nil
}

func (p *Provider) ListGroups(ctx context.Context) ([]cloud.Group, error) {
	var list simv1.AutoScalingGroupList
	if err := p.client.List(ctx, &list); err != nil {
		return nil, err
	}
	out := make([]cloud.Group, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, *groupFrom(&list.Items[i]))
	}
	return out, nil
}

func (p *Provider) SetDesiredCapacity(ctx context.Context, name string, desired int32) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		asg := &simv1.AutoScalingGroup{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: name}, asg); err != nil {
			return notFound(err, "auto scaling group", name)
		}
		if desired < asg.Spec.MinSize || desired > asg.Spec.MaxSize {
			return cloud.Invalid("desired", "desired (%d) must be between min (%d) and max (%d)", desired, asg.Spec.MinSize, asg.Spec.MaxSize)
		}
		base := asg.DeepCopy()
		asg.Spec.DesiredCapacity = desired
		return p.client.Patch(ctx, asg, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
}

func (p *Provider) DeleteGroup(ctx context.Context, name string) error {
	err := p.client.Delete(ctx, &simv1.AutoScalingGroup{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return notFound(err, "auto scaling group", name)
}

func (p *Provider) ListInstances(ctx context.Context, filter cloud.InstanceFilter) ([]cloud.Instance, error) {
	var opts []client.ListOption
	if filter.Group != "" {
		opts = append(opts, client.MatchingLabels{simv1.LabelGroup: filter.Group})
	}
	var list simv1.InstanceList
	if err := p.client.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	nodes, err := p.nodeNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Instance, 0, len(list.Items))
	for i := range list.Items {
		inst := instanceFrom(&list.Items[i])
		inst.NodeName = nodes[inst.ID]
		out = append(out, inst)
	}
	slices.SortFunc(out, func(a, b cloud.Instance) int { return compareLaunch(a, b) })
	return out, nil
}

// nodeNames maps instance ids to the names of their registered Nodes.
func (p *Provider) nodeNames(ctx context.Context) (map[string]string, error) {
	var nodes metav1.PartialObjectMetadataList
	nodes.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NodeList"))
	if err := p.client.List(ctx, &nodes, client.HasLabels{LabelInstanceID}); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(nodes.Items))
	for _, n := range nodes.Items {
		out[n.Labels[LabelInstanceID]] = n.Name
	}
	return out, nil
}

func (p *Provider) GetInstance(ctx context.Context, id string) (*cloud.Instance, error) {
	inst := &simv1.Instance{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: id}, inst); err != nil {
		return nil, notFound(err, "instance", id)
	}
	out := instanceFrom(inst)
	if inst.Status.PrivateDNSName == "" {
		return &out, nil // just launched: no kubelet yet
	}
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
	err := p.client.Get(ctx, client.ObjectKey{Name: inst.Status.PrivateDNSName}, node)
	switch {
	case err == nil && node.Labels[LabelInstanceID] == inst.Name:
		out.NodeName = node.Name
	case err != nil && !apierrors.IsNotFound(err):
		return nil, err
	}
	return &out, nil
}

func (p *Provider) TerminateInstance(ctx context.Context, id string, decrementDesired bool) error {
	inst := &simv1.Instance{}
	if err := p.client.Get(ctx, client.ObjectKey{Name: id}, inst); err != nil {
		return notFound(err, "instance", id)
	}
	decrement := decrementDesired && inst.Spec.Group != ""
	if decrement {
		asg := &simv1.AutoScalingGroup{}
		if err := p.client.Get(ctx, client.ObjectKey{Name: inst.Spec.Group}, asg); err != nil {
			return notFound(err, "auto scaling group", inst.Spec.Group)
		}
		if asg.Spec.DesiredCapacity <= asg.Spec.MinSize {
			return cloud.Invalid("instance", "terminating %s without replacement would take group %s below its min size (%d)", id, asg.Name, asg.Spec.MinSize)
		}
	}
	// One write: the group controller lowers the desired capacity when it
	// sees the request, so it never picks another instance to scale in.
	return requestTermination(ctx, p.client, p.clock, inst, "user request", decrement)
}

// RequestTermination marks an instance for termination, once; the instance
// controller carries it out.
func RequestTermination(ctx context.Context, c client.Client, clk clock.Clock, inst *simv1.Instance, reason string) error {
	return requestTermination(ctx, c, clk, inst, reason, false)
}

func requestTermination(ctx context.Context, c client.Client, clk clock.Clock, inst *simv1.Instance, reason string, decrementDesired bool) error {
	if inst.Spec.TerminationRequested != nil {
		return nil
	}
	base := inst.DeepCopy()
	now := metav1.NewTime(clk.Now())
	inst.Spec.TerminationRequested = &now
	inst.Spec.TerminationReason = reason
	inst.Spec.DecrementDesired = decrementDesired
	return c.Patch(ctx, inst, client.MergeFrom(base))
}

func validName(field, name string) error {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return cloud.Invalid(field, "%q: %s", name, msgs[0])
	}
	return nil
}

func notFound(err error, kind, name string) error {
	if apierrors.IsNotFound(err) {
		return &cloud.NotFoundError{Kind: kind, Name: name}
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)[:n]
}

func launchTemplateFrom(lt *simv1.LaunchTemplate) *cloud.LaunchTemplate {
	out := &cloud.LaunchTemplate{Name: lt.Name, ID: lt.Spec.ID, DefaultVersion: lt.Spec.DefaultVersion}
	for _, v := range lt.Spec.Versions {
		out.Versions = append(out.Versions, cloud.LaunchTemplateVersion{
			Number: v.Number, ImageID: v.ImageID, InstanceType: v.InstanceType, UserData: v.UserData, Tags: v.Tags,
		})
		out.LatestVersion = max(out.LatestVersion, v.Number)
	}
	return out
}

func groupFrom(asg *simv1.AutoScalingGroup) *cloud.Group {
	s := asg.Spec
	return &cloud.Group{
		GroupInput: cloud.GroupInput{
			Name: asg.Name, LaunchTemplate: s.LaunchTemplate.Name, LaunchTemplateVersion: s.LaunchTemplate.Version,
			MinSize: s.MinSize, MaxSize: s.MaxSize, DesiredCapacity: s.DesiredCapacity,
			InstanceTypes: s.InstanceTypes, CapacityType: s.CapacityType, SubnetIDs: s.SubnetIDs,
			CapacityRebalance: s.CapacityRebalance, Tags: s.Tags, LifecycleHooks: hooksFrom(s.LifecycleHooks),
		},
		InService: asg.Status.InService,
		Pending:   asg.Status.Pending,
	}
}

func instanceFrom(inst *simv1.Instance) cloud.Instance {
	out := cloud.Instance{
		ID: inst.Name, Type: inst.Spec.InstanceType, Zone: inst.Spec.Zone, SubnetID: inst.Spec.SubnetID,
		PrivateIP: inst.Spec.PrivateIP, PrivateDNSName: inst.Status.PrivateDNSName, State: inst.Status.State,
		Lifecycle: inst.Spec.Lifecycle, ImageID: inst.Spec.ImageID, Group: inst.Spec.Group,
		Tags: inst.Spec.Tags, LifecycleState: inst.Status.LifecycleState,
	}
	if out.State == "" {
		out.State = cloud.StatePending
	}
	launched := launchTime(inst)
	out.LaunchTime = &launched
	return out
}

func hooksFrom(hooks []simv1.LifecycleHook) []cloud.LifecycleHook {
	var out []cloud.LifecycleHook
	for _, h := range hooks {
		transition := cloud.HookLaunching
		if h.Transition == simv1.TransitionTerminating {
			transition = cloud.HookTerminating
		}
		out = append(out, cloud.LifecycleHook{Name: h.Name, Transition: transition,
			HeartbeatTimeout: time.Duration(h.HeartbeatTimeoutSeconds) * time.Second, DefaultResult: h.DefaultResult})
	}
	return out
}

func compareLaunch(a, b cloud.Instance) int {
	switch {
	case a.LaunchTime == nil || b.LaunchTime == nil:
	case a.LaunchTime.Before(*b.LaunchTime):
		return -1
	case b.LaunchTime.Before(*a.LaunchTime):
		return 1
	}
	if a.ID < b.ID {
		return -1
	}
	return 1
}

// Timing is the simulated cloud's timing, as the provider was built with.
func (p *Provider) Timing() Timing { return p.timing }
