package sim

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// Faults are the simulated cloud's own operations, for people testing how
// their workloads and kdp cope; a real provider has none of them. Each is a
// request like any other: checked, then applied in the loop, durable once
// it returns. The Provider has them, and so has the CLI's client of it.
type Faults interface {
	// Interrupt sends a spot instance its interruption notice: it is
	// terminated when the notice (2 minutes, scaled) runs out, whatever
	// its group's hooks say.
	Interrupt(ctx context.Context, id string) error
	// Rebalance sends a spot instance a rebalance recommendation; its
	// group, if it rebalances capacity, replaces it.
	Rebalance(ctx context.Context, id string) error
	// ScheduleRetirement schedules maintenance that retires the instance
	// after in (scaled): an AWS Health event announces it now, and at that
	// time the instance is terminated (through its group's terminating
	// hooks) and replaced.
	ScheduleRetirement(ctx context.Context, id string, in time.Duration) error
	// FailKubelet stops an instance's kubelet: the instance runs on, its
	// node stops renewing its Lease and goes NotReady.
	FailKubelet(ctx context.Context, id string) error
	// FailCondition makes an instance's node report one of the node
	// monitoring conditions (cloud.NodeMonitoringConditions) False with
	// reason, as EKS's node monitoring agent does on a kernel, network,
	// storage, runtime or accelerator fault; the instance and its kubelet
	// run on, and its other conditions stay True. Failing a condition
	// again changes its reason.
	FailCondition(ctx context.Context, id, condition, reason string) error
	// SetCapacity limits how many instances of a type a zone holds
	// (launches beyond fail with InsufficientInstanceCapacity); a negative
	// n removes the limit. Capacity is the region's, for every cluster.
	SetCapacity(ctx context.Context, instanceType, zone string, n int) error
	// Capacity lists the limits, by type and zone.
	Capacity(ctx context.Context) ([]CapacityLimit, error)
	// ZoneOutage takes a zone down: no capacity is left in it, and every
	// kubelet there dies. It returns how many died.
	ZoneOutage(ctx context.Context, zone string) (int, error)
	// SetSlowBoot makes the instances a group launches in the next
	// duration boot delay longer (both in scenario time); 0 lifts it.
	SetSlowBoot(ctx context.Context, group string, delay, duration time.Duration) error
	// SetLaunchFailure makes a fraction of the instances a group launches
	// in the next in.Duration fail at launch; 0 lifts it.
	SetLaunchFailure(ctx context.Context, group string, in LaunchFailure) error
	// StartScenario checks a scenario against the catalogue (every problem
	// at once) and starts it in the cloud; a cluster plays one at a time.
	StartScenario(ctx context.Context, sc *scenario.Scenario) (*ScenarioStatus, error)
	// ScenarioStatus reports a scenario ("": the cluster's newest).
	ScenarioStatus(ctx context.Context, id string) (*ScenarioStatus, error)
	// StopScenario stops a running scenario ("": the newest): no further
	// action runs, and the fault windows it opened (slow boots, launch
	// failures) end now; capacity limits and outages it set stay, and its
	// log lists them.
	StopScenario(ctx context.Context, id string) (*ScenarioStatus, error)
}

var _ Faults = (*Provider)(nil)

// Interrupt implements Faults.
func (p *Provider) Interrupt(_ context.Context, id string) error {
	return p.onInstance(id, true, func(tx *txn, i *instance) { p.c.interrupt(tx, i) })
}

// Rebalance implements Faults.
func (p *Provider) Rebalance(_ context.Context, id string) error {
	return p.onInstance(id, true, func(tx *txn, i *instance) { p.c.rebalance(tx, i) })
}

// ScheduleRetirement implements Faults.
func (p *Provider) ScheduleRetirement(_ context.Context, id string, in time.Duration) error {
	if in <= 0 {
		return cloud.Invalid("in", "must be positive, got %s", in)
	}
	return p.onInstance(id, false, func(tx *txn, i *instance) {
		at := tx.now.Add(p.c.timing.Scale.Of(in))
		i.RetireAt = &at
		tx.putInstance(i)
		tx.emit(i.Cluster, cloud.DetailScheduledMaintenance, []string{p.c.instanceARN(i.ID)}, cloud.HealthDetail{
			EventArn:          "arn:aws:health:" + p.c.opts.Region + "::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/" + i.ID,
			Service:           "EC2",
			EventTypeCode:     "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
			EventTypeCategory: "scheduledChange",
			StartTime:         at.UTC().Format(time.RFC1123),
			AffectedEntities:  []cloud.AffectedEntity{{EntityValue: i.ID}},
		})
		p.c.log.Info("retirement scheduled", "instance", i.ID, "at", at)
	})
}

// FailKubelet implements Faults.
func (p *Provider) FailKubelet(_ context.Context, id string) error {
	return p.onInstance(id, false, func(tx *txn, i *instance) { p.c.failKubelet(tx, i) })
}

// FailCondition implements Faults.
func (p *Provider) FailCondition(_ context.Context, id, condition, reason string) error {
	var ps cloud.Problems
	if !slices.Contains(cloud.NodeMonitoringConditions, condition) {
		ps.Add("condition", "must be one of %s, got %q (Ready fails with kdp sim fail)", strings.Join(cloud.NodeMonitoringConditions, ", "), condition)
	}
	if reason == "" {
		ps.Add("reason", "is required")
	}
	if err := ps.Err(); err != nil {
		return err
	}
	return p.onInstance(id, false, func(tx *txn, i *instance) { p.c.failCondition(tx, i, condition, reason) })
}

func (c *Cloud) failCondition(tx *txn, i *instance, condition, reason string) {
	if i.FailedConditions[condition] == reason {
		return
	}
	if i.FailedConditions == nil {
		i.FailedConditions = map[string]string{}
	}
	i.FailedConditions[condition] = reason
	tx.putInstance(i)
	tx.emit(i.Cluster, cloud.DetailConditionFailed, []string{c.instanceARN(i.ID)}, cloud.ConditionDetail{InstanceID: i.ID, Condition: condition, Reason: reason})
	c.log.Info("node condition failed", "instance", i.ID, "condition", condition, "reason", reason)
}

func (p *Provider) onInstance(id string, spotOnly bool, fn func(*txn, *instance)) error {
	return p.c.do(func(tx *txn) error {
		i, err := p.instance(id)
		if err != nil {
			return err
		}
		if spotOnly && i.Lifecycle != cloud.Spot {
			return cloud.Invalid("instanceId", "%s is %s: only spot instances get interruption notices and rebalance recommendations", id, i.Lifecycle)
		}
		if i.leaving() {
			return cloud.Invalid("instanceId", "%s is %s", id, leavingState(i))
		}
		fn(tx, i)
		return nil
	})
}

func leavingState(i *instance) string {
	if i.State == cloud.StatePending || i.State == cloud.StateRunning {
		return "terminating"
	}
	return i.State
}

func (c *Cloud) interrupt(tx *txn, i *instance) {
	if i.SpotInterruptAt != nil {
		return
	}
	at := tx.now.Add(c.timing.SpotNotice)
	i.SpotInterruptAt = &at
	tx.putInstance(i)
	tx.emit(i.Cluster, cloud.DetailSpotInterruption, []string{c.instanceARN(i.ID)}, cloud.SpotInterruptionDetail{InstanceID: i.ID, InstanceAction: "terminate"})
	c.log.Info("spot interruption notice", "instance", i.ID, "terminatedAt", at)
}

func (c *Cloud) rebalance(tx *txn, i *instance) {
	if i.RebalanceAt != nil {
		return
	}
	now := tx.now
	i.RebalanceAt = &now
	tx.putInstance(i)
	tx.emit(i.Cluster, cloud.DetailRebalance, []string{c.instanceARN(i.ID)}, cloud.InstanceDetail{InstanceID: i.ID})
	c.log.Info("rebalance recommendation", "instance", i.ID)
}

func (c *Cloud) failKubelet(tx *txn, i *instance) {
	if i.KubeletFailed {
		return
	}
	i.KubeletFailed = true
	tx.putInstance(i)
	tx.emit(i.Cluster, cloud.DetailKubeletFailed, []string{c.instanceARN(i.ID)}, cloud.InstanceDetail{InstanceID: i.ID})
	c.log.Info("kubelet failed", "instance", i.ID)
}

// SetCapacity implements Faults.
func (p *Provider) SetCapacity(_ context.Context, instanceType, zone string, n int) error {
	zone, err := p.c.checkTypeAndZone(instanceType, zone, true)
	if err != nil {
		return err
	}
	return p.c.do(func(tx *txn) error {
		p.c.setCapacity(tx, instanceType, zone, n)
		return nil
	})
}

func (c *Cloud) setCapacity(tx *txn, instanceType, zone string, n int) {
	key := capacityKey(instanceType, zone)
	if n < 0 {
		delete(c.st.capacity, key)
		tx.del(bucketCapacity, key)
	} else {
		c.st.capacity[key] = n
		tx.put(bucketCapacity, key, n)
	}
	c.log.Info("capacity", "instanceType", instanceType, "zone", zone, "available", n)
}

// Capacity implements Faults.
func (p *Provider) Capacity(context.Context) ([]CapacityLimit, error) {
	var out []CapacityLimit
	err := p.read(func(st *state) error {
		for _, k := range sortedKeys(st.capacity) {
			t, z, _ := strings.Cut(k, "_")
			out = append(out, CapacityLimit{InstanceType: t, Zone: z, Available: st.capacity[k]})
		}
		return nil
	})
	return out, err
}

// CapacityLimit is how many instances of a type a zone holds at most.
type CapacityLimit struct {
	InstanceType string `json:"instanceType"`
	Zone         string `json:"zone"`
	Available    int    `json:"available"`
}

// checkTypeAndZone checks an instance type and a zone against the
// catalogue (each optional unless required) and returns the zone as the
// catalogue spells it.
func (c *Cloud) checkTypeAndZone(instanceType, zone string, required bool) (string, error) {
	var ps cloud.Problems
	if _, ok := c.catalog.InstanceType(instanceType); (required || instanceType != "") && !ok && instanceType != cloud.MicroVMType {
		ps.Add("instanceType", "unknown instance type %q (see kdp sim instance-types; %s is Fargate's micro-VMs)", instanceType, cloud.MicroVMType)
	}
	z, ok := c.catalog.Zone(zone)
	if (required || zone != "") && !ok {
		ps.Add("zone", "unknown zone %q (see kdp sim subnets)", zone)
	}
	if zone == "" {
		z = ""
	}
	return z, ps.Err()
}

// ZoneOutage implements Faults.
func (p *Provider) ZoneOutage(_ context.Context, zone string) (int, error) {
	z, err := p.c.checkTypeAndZone("", zone, false)
	if err == nil && z == "" {
		err = cloud.Invalid("zone", "is required")
	}
	if err != nil {
		return 0, err
	}
	var failed int
	err = p.c.do(func(tx *txn) error {
		failed = p.c.zoneOutage(tx, z)
		return nil
	})
	return failed, err
}

func (c *Cloud) zoneOutage(tx *txn, zone string) int {
	for _, t := range c.catalog.InstanceTypes() {
		c.setCapacity(tx, t.Name, zone, 0)
	}
	c.setCapacity(tx, cloud.MicroVMType, zone, 0)
	failed := 0
	for _, id := range sortedKeys(c.st.instances) {
		if i := c.st.instances[id]; i.Zone == zone && !i.leaving() && !i.KubeletFailed {
			c.failKubelet(tx, i)
			failed++
		}
	}
	return failed
}

// LaunchFailure is a launch-failure fault on a group.
type LaunchFailure struct {
	// InstanceType and Zone, if given, restrict the fault to the launches
	// of that type, in that zone.
	InstanceType, Zone string
	// Rate is the fraction of launches that fail, in (0, 1]; 1 fails all.
	Rate float64
	// Duration is how long the fault lasts, in scenario time; 0 lifts it.
	Duration time.Duration
	// Seed picks which launches fail.
	Seed uint64
}

// String says which launches fail: "50% of launches of m5.large in
// us-east-1a".
func (in LaunchFailure) String() string {
	s := strconv.FormatFloat(in.Rate*100, 'g', 4, 64) + "% of launches"
	if in.InstanceType != "" {
		s += " of " + in.InstanceType
	}
	if in.Zone != "" {
		s += " in " + in.Zone
	}
	return s
}

// SetSlowBoot implements Faults.
func (p *Provider) SetSlowBoot(_ context.Context, name string, delay, duration time.Duration) error {
	var ps cloud.Problems
	if duration < 0 {
		ps.Add("for", "must not be negative (0 lifts the fault), got %s", duration)
	}
	if duration > 0 && delay <= 0 {
		ps.Add("delay", "must be positive, got %s", delay)
	}
	if err := ps.Err(); err != nil {
		return err
	}
	return p.onGroup(name, func(tx *txn, g *group) error {
		p.c.setSlowBoot(tx, g, delay, duration)
		return nil
	})
}

func (c *Cloud) setSlowBoot(tx *txn, g *group, delay, duration time.Duration) {
	g.Faults.SlowBoot = nil
	if duration > 0 {
		g.Faults.SlowBoot = &slowBoot{window: c.window(tx, duration), Delay: delay}
	}
	tx.putGroup(g)
}

// SetLaunchFailure implements Faults.
func (p *Provider) SetLaunchFailure(_ context.Context, name string, in LaunchFailure) error {
	var ps cloud.Problems
	if in.Duration < 0 {
		ps.Add("for", "must not be negative (0 lifts the fault), got %s", in.Duration)
	}
	if in.Duration > 0 {
		if !(in.Rate > 0 && in.Rate <= 1) {
			ps.Add("rate", "must be more than 0 and at most 1 (every launch fails), got %g", in.Rate)
		}
		zone, err := p.c.checkTypeAndZone(in.InstanceType, in.Zone, false)
		if ip, ok := err.(*cloud.InvalidParameterError); ok {
			ps = append(ps, ip.Problems...)
		}
		in.Zone = zone
	}
	if err := ps.Err(); err != nil {
		return err
	}
	return p.onGroup(name, func(tx *txn, g *group) error {
		p.c.setLaunchFailure(tx, g, in)
		return nil
	})
}

func (c *Cloud) setLaunchFailure(tx *txn, g *group, in LaunchFailure) {
	g.Faults.LaunchFailure = nil
	if in.Duration > 0 {
		g.Faults.LaunchFailure = &launchFailure{window: c.window(tx, in.Duration), InstanceType: in.InstanceType, Zone: in.Zone, Rate: in.Rate, Seed: in.Seed}
	}
	tx.putGroup(g)
}

// window is a fault's window from now, for a duration in scenario time.
func (c *Cloud) window(tx *txn, d time.Duration) window {
	return window{From: tx.now, Until: tx.now.Add(c.timing.Scale.Of(d))}
}
