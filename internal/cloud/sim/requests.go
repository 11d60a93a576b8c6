package sim

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// The requests below check everything first, reporting every problem at
// once, and change the state only once all is well: a request that fails
// changes nothing.

// groupName and hookName are EC2 Auto Scaling's rules (a group's name may
// hold no colon: Auto Scaling ARNs use it as a separator).
var (
	groupName = regexp.MustCompile(`^[^:\x00-\x1f]{1,255}$`)
	hookName  = regexp.MustCompile(`^[A-Za-z0-9\-_/]{1,255}$`)
)

func (c *Cloud) createGroup(tx *txn, cluster string, in cloud.GroupInput) (*group, error) {
	var ps cloud.Problems
	if !groupName.MatchString(in.Name) {
		ps.Add("autoScalingGroupName", "%q must be 1–255 characters, with no colon", in.Name)
	}
	g := &group{
		Name: in.Name, Cluster: cluster, Min: in.MinSize, Max: in.MaxSize, Desired: in.DesiredCapacity,
		InstanceTypes: slices.Clone(in.InstanceTypes), CapacityType: in.CapacityType, SubnetIDs: slices.Clone(in.SubnetIDs),
		Tags: maps.Clone(in.Tags), Created: tx.now.UTC(),
	}
	if g.CapacityType == "" {
		g.CapacityType = cloud.OnDemand
	}
	if g.CapacityType != cloud.OnDemand && g.CapacityType != cloud.Spot {
		ps.Add("capacityType", "must be %s or %s, got %q", cloud.OnDemand, cloud.Spot, g.CapacityType)
	}
	g.CapacityRebalance = g.CapacityType == cloud.Spot
	if in.CapacityRebalance != nil {
		g.CapacityRebalance = *in.CapacityRebalance
	}
	if len(g.SubnetIDs) == 0 {
		for _, s := range c.catalog.PrivateSubnets() {
			g.SubnetIDs = append(g.SubnetIDs, s.ID)
		}
	}
	checkSizes(&ps, g.Min, g.Max, g.Desired)
	c.checkSubnets(&ps, g.SubnetIDs)
	checkTags(&ps, "tags", g.Tags)
	t, v := c.checkLaunchTemplate(&ps, cluster, in.LaunchTemplate)
	if t != nil {
		g.Template = cloud.TemplateRef{ID: t.ID, Version: in.LaunchTemplate.Version}
		if g.Template.Version == "" {
			g.Template.Version = cloud.VersionDefault
		}
		c.checkTypes(&ps, g.InstanceTypes, v)
	}
	transitions := map[string]string{}
	for n, h := range in.LifecycleHooks {
		field := fmt.Sprintf("lifecycleHooks[%d]", n)
		h = checkHook(&ps, field+".", h)
		if other, dup := transitions[h.Transition]; dup {
			ps.Add(field+".lifecycleTransition", "hooks %s and %s are both for %s: kdp's groups take one hook per transition", other, h.Name, h.Transition)
		}
		transitions[h.Transition] = h.Name
		g.Hooks = append(g.Hooks, h)
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	if _, taken := c.st.groups[in.Name]; taken {
		return nil, &cloud.AlreadyExistsError{Kind: "auto scaling group", Name: in.Name}
	}
	g.ID = tx.uuid()
	c.st.groups[g.Name] = g
	tx.putGroup(g)
	c.log.Info("created group", "group", g.Name, "cluster", cluster, "desired", g.Desired, "capacityType", g.CapacityType)
	return g, nil
}

func (c *Cloud) updateGroup(tx *txn, g *group, in cloud.GroupUpdate) error {
	if g.Deleting {
		return &cloud.ResourceInUseError{Kind: "auto scaling group", Name: g.Name, Message: "it is being deleted"}
	}
	var ps cloud.Problems
	lo, hi, want := g.Min, g.Max, g.Desired
	if in.MinSize != nil {
		lo = *in.MinSize
	}
	if in.MaxSize != nil {
		hi = *in.MaxSize
	}
	switch {
	case in.DesiredCapacity != nil:
		want = *in.DesiredCapacity
	case in.MinSize != nil && lo > want:
		want = lo // as EC2 Auto Scaling raises it
	case in.MaxSize != nil && hi < want:
		want = hi
	}
	checkSizes(&ps, lo, hi, want)
	ref, types := g.Template, g.InstanceTypes
	if in.LaunchTemplate != nil {
		ref = *in.LaunchTemplate
	}
	if in.InstanceTypes != nil {
		types = in.InstanceTypes
	}
	var t *template
	if in.LaunchTemplate != nil || in.InstanceTypes != nil {
		var v cloud.LaunchTemplateVersion
		if t, v = c.checkLaunchTemplate(&ps, g.Cluster, ref); t != nil {
			c.checkTypes(&ps, types, v)
		}
	}
	if in.SubnetIDs != nil {
		if len(in.SubnetIDs) == 0 {
			ps.Add("subnetIds", "at least one subnet is required")
		}
		c.checkSubnets(&ps, in.SubnetIDs)
	}
	tags := maps.Clone(g.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, in.Tags)
	for _, k := range in.RemoveTags {
		delete(tags, k)
	}
	checkTags(&ps, "tags", tags)
	if err := ps.Err(); err != nil {
		return err
	}
	g.Min, g.Max, g.Desired = lo, hi, want
	if t != nil {
		g.Template = cloud.TemplateRef{ID: t.ID, Version: ref.Version}
		if g.Template.Version == "" {
			g.Template.Version = cloud.VersionDefault
		}
	}
	if in.InstanceTypes != nil {
		g.InstanceTypes = slices.Clone(in.InstanceTypes)
	}
	if in.SubnetIDs != nil {
		g.SubnetIDs = slices.Clone(in.SubnetIDs)
	}
	if in.CapacityRebalance != nil {
		g.CapacityRebalance = *in.CapacityRebalance
	}
	g.Tags = tags
	g.RetryAt = nil // a change is worth a new try
	tx.putGroup(g)
	c.log.Info("updated group", "group", g.Name, "min", g.Min, "max", g.Max, "desired", g.Desired, "launchTemplate", g.Template.String())
	return nil
}

func checkSizes(ps *cloud.Problems, lo, hi, want int32) {
	if lo < 0 {
		ps.Add("minSize", "must be 0 or more, got %d", lo)
	}
	if hi > MaxGroupSize {
		ps.Add("maxSize", "must be at most %d, got %d", MaxGroupSize, hi)
	}
	if lo > hi {
		ps.Add("minSize", "minSize (%d) is greater than maxSize (%d)", lo, hi)
	}
	if want < lo || want > hi {
		ps.Add("desiredCapacity", "desiredCapacity (%d) must be between minSize (%d) and maxSize (%d)", want, lo, hi)
	}
}

func (c *Cloud) checkSubnets(ps *cloud.Problems, ids []string) {
	for _, id := range ids {
		if _, ok := c.catalog.Subnet(id); !ok {
			ps.Add("subnetIds", "unknown subnet %q (see kdp sim subnets)", id)
		}
	}
}

// checkLaunchTemplate finds the template and version a group launches
// from.
func (c *Cloud) checkLaunchTemplate(ps *cloud.Problems, cluster string, ref cloud.TemplateRef) (*template, cloud.LaunchTemplateVersion) {
	if (ref.ID == "") == (ref.Name == "") {
		ps.Add("launchTemplate", "give the launch template's id or its name (one of them)")
		return nil, cloud.LaunchTemplateVersion{}
	}
	t, err := c.findTemplate(cluster, ref)
	if err != nil {
		ps.Add("launchTemplate", "%v", err)
		return nil, cloud.LaunchTemplateVersion{}
	}
	v, err := resolveVersion(t, ref.Version)
	if err != nil {
		ps.Add("launchTemplate", "%v", err)
		return nil, cloud.LaunchTemplateVersion{}
	}
	if v.ImageID == "" {
		ps.Add("launchTemplate", "You must use a valid fully-formed launch template: version %d of %s has no image id", v.Number, t.Name)
	}
	return t, v
}

// checkTypes checks a group's instance types against its template's image.
func (c *Cloud) checkTypes(ps *cloud.Problems, types []string, v cloud.LaunchTemplateVersion) {
	img, _ := c.catalog.Image(v.ImageID)
	if len(types) == 0 {
		if v.InstanceType == "" {
			ps.Add("instanceTypes", "the launch template names no instance type, so the group must")
		}
		return
	}
	for _, name := range types {
		t, ok := c.catalog.InstanceType(name)
		switch {
		case !ok:
			ps.Add("instanceTypes", "unknown instance type %q (see kdp sim instance-types)", name)
		case t.Architecture != img.Architecture:
			ps.Add("instanceTypes", "%s is %s but image %s is %s", name, t.Architecture, img.ID, img.Architecture)
		}
	}
}

// checkHook checks a lifecycle hook and fills in EC2's defaults.
func checkHook(ps *cloud.Problems, field string, h cloud.LifecycleHook) cloud.LifecycleHook {
	if !hookName.MatchString(h.Name) {
		ps.Add(field+"lifecycleHookName", "%q must be 1–255 letters, digits and - _ /", h.Name)
	}
	if h.Transition != cloud.HookLaunching && h.Transition != cloud.HookTerminating {
		ps.Add(field+"lifecycleTransition", "must be %s or %s, got %q", cloud.HookLaunching, cloud.HookTerminating, h.Transition)
	}
	if h.HeartbeatTimeout.Duration == 0 {
		h.HeartbeatTimeout.Duration = time.Hour // EC2's default
	}
	if d := h.HeartbeatTimeout.Duration; d < 30*time.Second || d > 2*time.Hour {
		ps.Add(field+"heartbeatTimeout", "must be between 30s and 2h, got %s", d)
	}
	if h.DefaultResult == "" {
		h.DefaultResult = cloud.ResultAbandon // EC2's default
	}
	if h.DefaultResult != cloud.ResultContinue && h.DefaultResult != cloud.ResultAbandon {
		ps.Add(field+"defaultResult", "must be CONTINUE or ABANDON, got %q", h.DefaultResult)
	}
	return h
}

// maxRun is how many instances one RunInstances launches at most.
const maxRun = 100

func (c *Cloud) runInstances(tx *txn, cluster string, in cloud.RunInput) ([]*instance, error) {
	if in.ClientToken != "" { // a retried request: the instances it launched
		var again []*instance
		for _, id := range sortedKeys(c.st.instances) {
			if i := c.st.instances[id]; i.Cluster == cluster && i.ClientToken == in.ClientToken {
				again = append(again, i)
			}
		}
		if len(again) > 0 {
			return again, nil
		}
	}
	var ps cloud.Problems
	count := in.Count
	if count == 0 {
		count = 1
	}
	if count < 1 || count > maxRun {
		ps.Add("count", "must be between 1 and %d, got %d", maxRun, in.Count)
	}
	var t *template
	var v cloud.LaunchTemplateVersion
	if in.LaunchTemplate != nil {
		t, v = c.checkLaunchTemplate(&ps, cluster, *in.LaunchTemplate)
	}
	v.LaunchTemplateData = overlay(v.LaunchTemplateData, cloud.LaunchTemplateData{ImageID: in.ImageID, InstanceType: in.InstanceType, UserData: in.UserData})
	if in.UserData != "" {
		t = nil // the instance keeps its own
	}
	c.checkTemplateData(&ps, v.LaunchTemplateData, true)
	if v.InstanceType == "" {
		ps.Add("instanceType", "is required (here or in the launch template)")
	}
	checkMicroVM(&ps, v.InstanceType, in.MicroVM)
	subnet, ok := c.catalog.Subnet(in.SubnetID)
	if !ok {
		ps.Add("subnetId", "unknown subnet %q (see kdp sim subnets)", in.SubnetID)
	}
	capacityType := in.CapacityType
	if capacityType == "" {
		capacityType = cloud.OnDemand
	}
	if capacityType != cloud.OnDemand && capacityType != cloud.Spot {
		ps.Add("capacityType", "must be %s or %s, got %q", cloud.OnDemand, cloud.Spot, capacityType)
	}
	checkTags(&ps, "tags", in.Tags)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	pool := c.pool()
	for range count {
		if !pool.available(v.InstanceType, subnet.Zone) {
			return nil, &cloud.InsufficientCapacityError{InstanceType: v.InstanceType, Zone: subnet.Zone}
		}
		pool.live[capacityKey(v.InstanceType, subnet.Zone)]++
	}
	if free := c.st.ips.freeCount(subnet); free < count {
		return nil, cloud.Invalid("subnetId", "there are not enough free addresses in subnet %s to satisfy the requested number of instances (%d free)", subnet.ID, free)
	}
	var out []*instance
	for range count {
		i := c.newInstance(tx, cluster, subnet, c.st.ips.next(subnet), v.InstanceType, v, t, capacityType)
		if in.MicroVM != nil {
			size := *in.MicroVM
			i.MicroVM = &size
			i.DNSName = "fargate-" + i.DNSName
			i.BootAt = tx.now.Add(c.timing.Jittered(c.timing.MicroVMBoot, i.ID))
		}
		maps.Copy(i.Tags, in.Tags)
		i.ClientToken = in.ClientToken
		c.commitLaunch(tx, i)
		out = append(out, i)
	}
	c.log.Info("ran instances", "count", count, "type", v.InstanceType, "zone", subnet.Zone, "cluster", cluster)
	return out, nil
}

// A micro-VM's limits: Fargate's largest size, and its storage.
const (
	maxMicroVMMilliCPU  = 16000
	maxMicroVMMemoryMiB = 120 * 1024
	minMicroVMStorage   = 20
	maxMicroVMStorage   = 175
)

// checkMicroVM checks a launch's micro-VM size: given for the micro-VM type
// (within its limits), and only for it.
func checkMicroVM(ps *cloud.Problems, instanceType string, size *cloud.MicroVM) {
	switch {
	case instanceType != cloud.MicroVMType && size != nil:
		ps.Add("microVm", "is only for instance type %s, not %s", cloud.MicroVMType, instanceType)
	case instanceType == cloud.MicroVMType && size == nil:
		ps.Add("microVm", "is required for instance type %s: a micro-VM's size is chosen at launch", cloud.MicroVMType)
	case size == nil:
	default:
		if size.MilliCPU <= 0 || size.MilliCPU > maxMicroVMMilliCPU {
			ps.Add("microVm.milliCpu", "must be between 1 and %d, got %d", maxMicroVMMilliCPU, size.MilliCPU)
		}
		if size.MemoryMiB <= 0 || size.MemoryMiB > maxMicroVMMemoryMiB {
			ps.Add("microVm.memoryMiB", "must be between 1 and %d, got %d", maxMicroVMMemoryMiB, size.MemoryMiB)
		}
		if size.StorageGiB < minMicroVMStorage || size.StorageGiB > maxMicroVMStorage {
			ps.Add("microVm.ephemeralStorageGiB", "must be between %d and %d, got %d", minMicroVMStorage, maxMicroVMStorage, size.StorageGiB)
		}
	}
}
