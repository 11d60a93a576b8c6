package sim

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// settleGroup does what EC2 Auto Scaling does for a group whenever it or
// one of its instances changes: it launches instances up to the desired
// capacity (balanced across zones, retrying when EC2 has no capacity),
// terminates the surplus, replaces spot instances at risk (capacity
// rebalancing) and evens out the zones (AZ rebalancing); a deleted group's
// instances are terminated and the group goes once none is left.
func (c *Cloud) settleGroup(tx *txn, g *group) {
	// Counted in no particular order (this runs after every change of the
	// group's instances); sorted by launch before anything is picked, so
	// that what the group does is the same whatever the map's order.
	var active, atRisk []*instance
	live := 0
	for _, i := range c.st.byGroup[g.ID] {
		if i.State != cloud.StateTerminated {
			live++
		}
		switch {
		case i.leaving():
		case g.CapacityRebalance && i.RebalanceAt != nil:
			atRisk = append(atRisk, i)
		default:
			active = append(active, i)
		}
	}
	if g.Deleting {
		for _, i := range byLaunch(append(active, atRisk...)) {
			c.requestTermination(tx, i, termination{why: ServiceReason, cause: "an instance was taken out of service in response to the deletion of its group"})
		}
		if live == 0 {
			c.deleteGroupRecord(tx, g)
		}
		return
	}
	// The instance launched to even out the zones stays on top of the
	// desired capacity until one of the most crowded zone has gone.
	extra := 0
	if r := c.st.instances[g.Rebalancing]; r != nil && !r.leaving() {
		extra = 1
	} else if g.Rebalancing != "" {
		g.Rebalancing = ""
		tx.saveGroup(g)
	}
	want := int(g.Desired)
	switch {
	case len(active) < want+extra && !g.suspended(cloud.ProcessLaunch):
		if g.RetryAt != nil && tx.now.Before(*g.RetryAt) {
			c.queue.add(wakeGroup, g.Name, *g.RetryAt) // (again, after a restart)
			break                                      // after a capacity failure, wait for the retry
		}
		cause := "an instance was started in response to a difference between desired and actual capacity" +
			increasing(int32(len(active)), g.Desired)
		if len(atRisk) > 0 {
			cause = "an instance was started in response to an EC2 instance rebalance recommendation"
		}
		c.launch(tx, g, active, want+extra-len(active), cause)
	case len(active) > want+extra && !g.suspended(cloud.ProcessTerminate):
		n := len(active) - want - extra
		for _, i := range surplus(active, n) {
			c.requestTermination(tx, i, termination{why: ServiceReason,
				cause: "an instance was taken out of service in response to a difference between desired and actual capacity" +
					shrinking(int32(len(active)), g.Desired)})
		}
		return
	}
	// Capacity rebalancing: an at-risk instance goes once its replacement
	// is in service.
	if len(atRisk) > 0 && inService(active) >= want {
		for _, i := range byLaunch(atRisk) {
			c.requestTermination(tx, i, termination{why: ServiceReason,
				cause: "an instance was taken out of service in response to an EC2 instance rebalance recommendation"})
		}
	}
	c.rebalanceZones(tx, g, active)
}

// rebalanceZones evens out a group's zones, as EC2 Auto Scaling's
// AZRebalance does: when the zones differ by more than one instance it
// launches one in the zone with the fewest and, once that is in service,
// terminates one in the zone with the most.
func (c *Cloud) rebalanceZones(tx *txn, g *group, active []*instance) {
	if g.suspended(cloud.ProcessAZRebalance) || len(active) != int(g.Desired)+boolInt(g.Rebalancing != "") ||
		(g.RetryAt != nil && tx.now.Before(*g.RetryAt)) { // a launch failed for capacity: not before the retry
		return
	}
	perZone := map[string][]*instance{}
	for _, z := range c.groupZones(g) {
		perZone[z] = nil
	}
	for _, i := range active {
		perZone[i.Zone] = append(perZone[i.Zone], i)
	}
	zones := sortedKeys(perZone)
	fewest := slices.MinFunc(zones, func(a, b string) int { return len(perZone[a]) - len(perZone[b]) })
	most := slices.MaxFunc(zones, func(a, b string) int { return len(perZone[a]) - len(perZone[b]) })
	if g.Rebalancing != "" {
		r := c.st.instances[g.Rebalancing]
		if r == nil || r.LifecycleState != cloud.LifecycleInService {
			return
		}
		// One from the most crowded zone goes (not the new one).
		var candidates []*instance
		for _, i := range perZone[most] {
			if i.ID != r.ID {
				candidates = append(candidates, i)
			}
		}
		g.Rebalancing = ""
		tx.saveGroup(g)
		if len(candidates) > 0 {
			c.requestTermination(tx, surplus(candidates, 1)[0], termination{why: ServiceReason,
				cause: "an instance was taken out of service in response to an availability zone rebalancing"})
		}
		return
	}
	if len(perZone[most])-len(perZone[fewest]) <= 1 || inService(active) < len(active) {
		return
	}
	if ids := c.launchIn(tx, g, fewest, "an instance was launched to aid in balancing the group's zones"); len(ids) == 1 {
		g.Rebalancing = ids[0]
		tx.saveGroup(g)
	}
}

// launch starts n instances, each in the zone with the fewest active
// instances of the group. When EC2 has no capacity for them, it records the
// failed activity and retries after the timing's CapacityRetry.
func (c *Cloud) launch(tx *txn, g *group, active []*instance, n int, cause string) []string {
	perZone := map[string]int{}
	for _, i := range active {
		perZone[i.Zone]++
	}
	return c.place(tx, g, perZone, "", n, cause)
}

// launchIn launches one instance in a zone.
func (c *Cloud) launchIn(tx *txn, g *group, zone, cause string) []string {
	return c.place(tx, g, nil, zone, 1, cause)
}

func (c *Cloud) place(tx *txn, g *group, perZone map[string]int, onlyZone string, n int, cause string) []string {
	t := c.st.templates[g.Template.ID]
	if t == nil {
		c.failActivity(tx, g, "The specified launch template, with template ID "+g.Template.ID+", does not exist.", cause)
		return nil
	}
	v, err := resolveVersion(t, g.Template.Version)
	if err != nil {
		c.failActivity(tx, g, err.Error()+".", cause)
		return nil
	}
	types := g.InstanceTypes
	if len(types) == 0 {
		types = []string{v.InstanceType}
	}
	pool := c.pool()
	var launched []string
	for range n {
		subnet, instanceType, err := c.choose(g, types, perZone, onlyZone, pool)
		ip := ""
		if err == nil {
			if ip = c.st.ips.next(subnet); ip == "" {
				err = fmt.Errorf("There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", subnet.ID)
			}
		}
		if err != nil {
			c.failActivity(tx, g, capacityMessage(err, c.groupZones(g)), cause)
			retry := tx.now.Add(c.timing.CapacityRetry)
			g.RetryAt = &retry
			tx.saveGroup(g)
			c.queue.add(wakeGroup, g.Name, retry)
			break
		}
		i := c.newInstance(tx, g.Cluster, subnet, ip, instanceType, v, t, g.CapacityType)
		i.Group, i.GroupID = g.Name, g.ID
		i.LifecycleState = cloud.LifecyclePending
		i.Tags["aws:autoscaling:groupName"] = g.Name
		maps.Copy(i.Tags, g.Tags)
		c.applyFaults(tx, g, i)
		a := c.startActivity(tx, g, "Launching a new EC2 instance: "+i.ID, "At "+stamp(tx.now)+" "+cause+".", i.ID)
		i.LaunchActivity = a.ID
		c.commitLaunch(tx, i)
		if perZone != nil {
			perZone[subnet.Zone]++
		}
		pool.add(i)
		launched = append(launched, i.ID)
	}
	if len(launched) > 0 && g.RetryAt != nil {
		g.RetryAt = nil
		tx.saveGroup(g)
	}
	if len(launched) > 0 {
		c.log.Info("launched instances", "group", g.Name, "count", len(launched), "desired", g.Desired)
	}
	return launched
}

// newInstance makes a pending instance's record (not yet added).
func (c *Cloud) newInstance(tx *txn, cluster string, subnet cloud.Subnet, ip, instanceType string, v cloud.LaunchTemplateVersion, t *template, capacityType string) *instance {
	id := tx.id("i-", 17)
	i := &instance{
		ID: id, Cluster: cluster, Type: instanceType, ImageID: v.ImageID, SubnetID: subnet.ID, Zone: subnet.Zone,
		PrivateIP: ip, DNSName: catalog.PrivateDNSName(c.opts.Region, ip), Lifecycle: capacityType, LaunchTime: tx.now,
		Tags: map[string]string{"kubernetes.io/cluster/" + cluster: "owned"},
	}
	if t != nil {
		i.Template = &cloud.TemplateRef{ID: t.ID, Name: t.Name, Version: fmt.Sprint(v.Number)}
		i.Tags["aws:ec2launchtemplate:id"] = t.ID
		i.Tags["aws:ec2launchtemplate:version"] = fmt.Sprint(v.Number)
	} else {
		i.UserData = v.UserData
	}
	maps.Copy(i.Tags, v.InstanceTags)
	i.BootAt = tx.now.Add(c.timing.Jittered(c.timing.Boot, id))
	return i
}

// commitLaunch adds a new instance, pending.
func (c *Cloud) commitLaunch(tx *txn, i *instance) {
	i.BootAt = i.BootAt.Add(c.timing.Scale.Of(i.BootDelay))
	c.addInstance(i)
	c.setState(tx, i, cloud.StatePending, "")
	c.metrics.launches.WithLabelValues(i.Lifecycle).Inc()
}

// choose picks the subnet and instance type of a new instance: the zone
// with the fewest of the group's instances first; in it, an on-demand group
// takes its types in order, a spot group the cheapest; a type without
// capacity in the zone is skipped.
func (c *Cloud) choose(g *group, types []string, perZone map[string]int, onlyZone string, pool *pool) (cloud.Subnet, string, error) {
	var subnets []cloud.Subnet
	for _, id := range g.SubnetIDs {
		if s, ok := c.catalog.Subnet(id); ok && (onlyZone == "" || s.Zone == onlyZone) {
			subnets = append(subnets, s)
		}
	}
	slices.SortStableFunc(subnets, func(a, b cloud.Subnet) int { return perZone[a.Zone] - perZone[b.Zone] })
	var err error = &cloud.InsufficientCapacityError{InstanceType: types[0], Zone: onlyZone}
	for _, subnet := range subnets {
		candidates := slices.Clone(types)
		if g.CapacityType == cloud.Spot {
			slices.SortStableFunc(candidates, func(a, b string) int {
				pa, _ := c.catalog.SpotPrice(a, subnet.Zone)
				pb, _ := c.catalog.SpotPrice(b, subnet.Zone)
				return cmp.Compare(pa, pb)
			})
		}
		for _, t := range candidates {
			if pool.available(t, subnet.Zone) {
				return subnet, t, nil
			}
			err = &cloud.InsufficientCapacityError{InstanceType: t, Zone: subnet.Zone}
		}
	}
	return cloud.Subnet{}, "", err
}

// capacityMessage is EC2's message for a launch without capacity.
func capacityMessage(err error, zones []string) string {
	ice, ok := err.(*cloud.InsufficientCapacityError)
	if !ok {
		return err.Error()
	}
	others := slices.DeleteFunc(slices.Clone(zones), func(z string) bool { return z == ice.Zone })
	msg := fmt.Sprintf("We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity.", ice.InstanceType, ice.Zone)
	if len(others) > 0 {
		msg += fmt.Sprintf(" You can currently get %s capacity by not specifying an Availability Zone in your request or choosing %s.", ice.InstanceType, strings.Join(others, ", "))
	}
	return msg
}

// groupZones are the zones of a group's subnets.
func (c *Cloud) groupZones(g *group) []string {
	var zones []string
	for _, id := range g.SubnetIDs {
		if s, ok := c.catalog.Subnet(id); ok && !slices.Contains(zones, s.Zone) {
			zones = append(zones, s.Zone)
		}
	}
	return zones
}

// applyFaults records the group's faults in effect on an instance it
// launches: the decision is made once, at launch, and kept with it.
func (c *Cloud) applyFaults(tx *txn, g *group, i *instance) {
	f := &g.Faults
	if sb := f.SlowBoot; sb != nil && sb.contains(tx.now) {
		i.BootDelay = sb.Delay
		sb.Slowed++
		tx.saveGroup(g)
	}
	if lf := f.LaunchFailure; lf != nil && lf.contains(tx.now) && lf.matches(i.Type, i.Zone) {
		if failsLaunch(lf.Seed, lf.Matched, lf.Rate) {
			i.LaunchFailure = LaunchFailureReason
			lf.Failed++
		}
		lf.Matched++
		tx.saveGroup(g)
	}
}

// failsLaunch reports whether the n-th launch of a launch-failure window
// fails: a draw seeded with the fault's seed and n, so that a replay fails
// the same launches whatever ids its instances get.
func failsLaunch(seed uint64, n int, rate float64) bool {
	return rand.New(rand.NewPCG(seed, uint64(n))).Float64() < rate
}

// surplus picks the instances a scale-in terminates, as EC2's default
// termination policy does: from the zone with the most instances, an
// instance still pending before a running one, then the oldest.
func surplus(active []*instance, n int) []*instance {
	remaining := slices.Clone(active)
	var out []*instance
	for range min(n, len(remaining)) {
		perZone := map[string]int{}
		for _, i := range remaining {
			perZone[i.Zone]++
		}
		slices.SortStableFunc(remaining, func(a, b *instance) int {
			if d := perZone[b.Zone] - perZone[a.Zone]; d != 0 {
				return d
			}
			if ra, rb := a.State == cloud.StateRunning, b.State == cloud.StateRunning; ra != rb {
				if ra {
					return 1
				}
				return -1
			}
			if d := a.LaunchTime.Compare(b.LaunchTime); d != 0 {
				return d
			}
			return strings.Compare(a.ID, b.ID)
		})
		out = append(out, remaining[0])
		remaining = remaining[1:]
	}
	return out
}

// byLaunch sorts instances in launch order.
func byLaunch(is []*instance) []*instance {
	slices.SortFunc(is, launchOrder)
	return is
}

func inService(instances []*instance) int {
	n := 0
	for _, i := range instances {
		if i.LifecycleState == cloud.LifecycleInService {
			n++
		}
	}
	return n
}

// deleteGroupRecord removes a deleted group once its instances are gone.
func (c *Cloud) deleteGroupRecord(tx *txn, g *group) {
	delete(c.st.groups, g.Name)
	tx.del(bucketGroups, g.Name)
	for _, a := range c.st.activities[g.Name] {
		tx.del(bucketActivities, activityKey(a))
		delete(c.st.activityByID, a.ID)
	}
	delete(c.st.activities, g.Name)
	c.log.Info("deleted group", "group", g.Name)
}

// pool is what the region holds right now: the live instances of each type
// in each zone, against the capacity limits.
type pool struct {
	limits map[string]int
	live   map[string]int
}

func capacityKey(instanceType, zone string) string { return instanceType + "_" + zone }

func (c *Cloud) pool() *pool {
	p := &pool{limits: c.st.capacity, live: map[string]int{}}
	if len(p.limits) == 0 {
		return p // unlimited: nothing to count
	}
	for _, i := range c.st.instances {
		if i.State != cloud.StateTerminated && i.State != cloud.StateShuttingDown {
			p.live[capacityKey(i.Type, i.Zone)]++
		}
	}
	return p
}

func (p *pool) add(i *instance) { p.live[capacityKey(i.Type, i.Zone)]++ }

// available reports whether the zone has room for one more of the type.
func (p *pool) available(instanceType, zone string) bool {
	limit, limited := p.limits[capacityKey(instanceType, zone)]
	return !limited || p.live[capacityKey(instanceType, zone)] < limit
}

// increasing and shrinking end EC2 Auto Scaling's causes.
func increasing(from, to int32) string {
	return fmt.Sprintf(", increasing the capacity from %d to %d", from, to)
}

func shrinking(from, to int32) string {
	return fmt.Sprintf(", shrinking the capacity from %d to %d", from, to)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ipPool hands out subnets' addresses: an address is held until its
// instance's record goes.
type ipPool struct {
	used map[string]map[string]bool // subnet → address
	// cursor is the cloud's meta.Addresses.
	cursor map[string]int
}

func (p *ipPool) use(subnet, ip string) {
	if p.used == nil {
		p.used = map[string]map[string]bool{}
	}
	if p.used[subnet] == nil {
		p.used[subnet] = map[string]bool{}
	}
	p.used[subnet][ip] = true
}

func (p *ipPool) free(subnet, ip string) { delete(p.used[subnet], ip) }

// next returns the subnet's next free address, searching on from the last
// one given (so that an address is not given again at once), or "" if the
// subnet is full.
func (p *ipPool) next(s cloud.Subnet) string {
	for _, from := range []int{p.cursor[s.ID], 0} {
		for n := from; ; n++ {
			ip, err := s.Address(n)
			if err != nil {
				break // the end of the subnet: search again from its start
			}
			if !p.used[s.ID][ip] {
				p.cursor[s.ID] = n + 1
				return ip
			}
		}
	}
	return ""
}

// freeCount is how many of the subnet's addresses are free.
func (p *ipPool) freeCount(s cloud.Subnet) int { return s.Addresses() - len(p.used[s.ID]) }
