package sim

import (
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// State reasons of terminations EC2 decides, and of a failed launch.
const (
	SpotReclaimReason   = "Server.SpotInstanceTermination: Spot instance termination"
	RetirementReason    = "Server.ScheduledStop: instance retirement (scheduled maintenance)"
	LaunchFailureReason = "Client.InternalError: Client error on launch"
	UserRequestReason   = "Client.UserInitiatedShutdown: User initiated shutdown"
	ServiceReason       = "Client.UserInitiatedShutdown: Auto Scaling initiated shutdown"
)

// nextDue is the instance's next deadline: the end of its boot, of its
// spot notice, of its hook's timeout, of shutting down, of its record.
func (i *instance) nextDue() (time.Time, bool) {
	var next time.Time
	ok := false
	consider := func(t *time.Time) {
		if t != nil && (!ok || t.Before(next)) {
			next, ok = *t, true
		}
	}
	if i.State == cloud.StatePending && i.TerminateAt == nil {
		consider(&i.BootAt)
	}
	if i.State == cloud.StatePending || i.State == cloud.StateRunning {
		consider(i.SpotInterruptAt) // it takes the instance even on its way out
	}
	if !i.leaving() {
		consider(i.RetireAt)
	}
	if i.WaitingOn != "" {
		consider(i.HookDeadline)
	}
	switch i.State {
	case cloud.StateShuttingDown:
		consider(i.ShutdownAt)
	case cloud.StateTerminated:
		consider(i.ExpireAt)
	}
	return next, ok
}

// stepInstance moves an instance along its lifecycle as far as is due at
// the transaction's time: pending → running after its boot, Pending:Wait →
// InService when its launching hook lets it go, a termination through
// Terminating:Wait and shutting-down to terminated, and the terminated
// record gone after the retention period.
func (c *Cloud) stepInstance(tx *txn, i *instance) {
	for range 10 { // each step changes the state; a few are ever due at once
		if !c.stepOnce(tx, i) {
			return
		}
		if c.st.instances[i.ID] == nil {
			return // its record went
		}
	}
}

func (c *Cloud) stepOnce(tx *txn, i *instance) bool {
	now := tx.now
	due := func(t *time.Time) bool { return t != nil && !now.Before(*t) }
	switch {
	case i.State == cloud.StatePending && i.TerminateAt == nil && !now.Before(i.BootAt):
		if i.LaunchFailure != "" {
			c.failLaunch(tx, i)
			return true
		}
		c.boot(tx, i)
		return true
	case (i.State == cloud.StatePending || i.State == cloud.StateRunning) && due(i.SpotInterruptAt) && i.TerminateWhy != SpotReclaimReason:
		c.reclaim(tx, i)
		return true
	case !i.leaving() && due(i.RetireAt):
		c.requestTermination(tx, i, termination{why: RetirementReason,
			cause: "an instance was taken out of service in response to an EC2 instance retirement (scheduled maintenance)"})
		return true
	case i.WaitingOn != "" && (i.HookResult != "" || due(i.HookDeadline)):
		c.endWait(tx, i)
		return true
	case i.TerminateAt != nil && (i.State == cloud.StatePending || i.State == cloud.StateRunning) && i.WaitingOn == "":
		c.beginTermination(tx, i)
		return true
	case i.State == cloud.StateShuttingDown && due(i.ShutdownAt):
		c.setState(tx, i, cloud.StateTerminated, i.StateReason)
		i.ShutdownAt = nil
		expire := now.Add(c.timing.Retention)
		i.ExpireAt = &expire
		if i.Group != "" {
			i.LifecycleState = cloud.LifecycleTerminated
			c.endActivity(tx, i.TerminateActivity, cloud.ActivitySuccessful, "", cloud.DetailTerminateSuccessful)
		}
		c.metrics.terminations.WithLabelValues(i.StateReason).Inc()
		return true
	case i.State == cloud.StateTerminated && due(i.ExpireAt):
		c.forgetInstance(tx, i)
		return true
	}
	return false
}

// reclaim takes a spot instance when its notice runs out, whatever its
// group's hooks say: an instance waiting on one (on its way in or out)
// stops waiting.
func (c *Cloud) reclaim(tx *txn, i *instance) {
	cause := "an instance was taken out of service in response to an EC2 Spot Instance interruption notice"
	if i.TerminateAt == nil {
		c.requestTermination(tx, i, termination{why: SpotReclaimReason, skipHooks: true, cause: cause})
		return
	}
	i.TerminateWhy, i.SkipHooks = SpotReclaimReason, true // already on its way out, maybe held by a hook
	c.shutDown(tx, i)
}

// boot ends a pending instance's boot: it runs, and enters its group
// (through Pending:Wait if the group has a launching hook).
func (c *Cloud) boot(tx *txn, i *instance) {
	c.setState(tx, i, cloud.StateRunning, "")
	if i.Group == "" {
		return
	}
	g := c.st.groups[i.Group]
	if g != nil {
		if hook, ok := g.hook(cloud.HookLaunching); ok {
			c.wait(tx, i, hook, cloud.LifecyclePendingWait, cloud.DetailLaunchAction)
			return
		}
	}
	c.enterService(tx, i)
}

func (c *Cloud) enterService(tx *txn, i *instance) {
	i.LifecycleState = cloud.LifecycleInService
	tx.putInstance(i)
	c.endActivity(tx, i.LaunchActivity, cloud.ActivitySuccessful, "", cloud.DetailLaunchSuccessful)
}

// failLaunch ends the boot of an instance launched to fail: it shuts down
// with the failure's reason (no kubelet ever starts), and its group
// launches a replacement.
func (c *Cloud) failLaunch(tx *txn, i *instance) {
	c.endActivity(tx, i.LaunchActivity, cloud.ActivityFailed, "Instance failed to launch: "+i.LaunchFailure, cloud.DetailLaunchUnsuccessful)
	c.requestTermination(tx, i, termination{why: i.LaunchFailure, skipHooks: true,
		cause: "an instance was taken out of service because it failed to launch"})
	c.log.Info("instance failed to launch", "instance", i.ID, "group", i.Group, "reason", i.LaunchFailure)
}

// termination is a request for an instance to go.
type termination struct {
	// why is the instance's state reason, cause the group's activity's.
	why, cause string
	// skipHooks bypasses the group's terminating hook (EC2 takes a spot
	// instance when its notice runs out, whatever the hooks say).
	skipHooks bool
	// decrement lowers the group's desired capacity with the instance.
	decrement bool
}

// requestTermination starts an instance's termination, once.
func (c *Cloud) requestTermination(tx *txn, i *instance, t termination) {
	if i.leaving() {
		return
	}
	now := tx.now
	i.TerminateAt, i.TerminateWhy, i.SkipHooks = &now, t.why, t.skipHooks
	i.TerminateCause = t.cause
	if g := c.st.groups[i.Group]; g != nil {
		if t.decrement && g.Desired > g.Min {
			i.TerminateCause += shrinking(g.Desired, g.Desired-1)
			g.Desired--
			tx.saveGroup(g)
		}
		a := c.startActivity(tx, g, "Terminating EC2 instance: "+i.ID, "At "+stamp(now)+" "+i.TerminateCause+".", i.ID)
		i.TerminateActivity = a.ID
		if i.LifecycleState == cloud.LifecyclePending || i.LifecycleState == cloud.LifecyclePendingWait {
			c.endActivity(tx, i.LaunchActivity, cloud.ActivityCancelled, "The instance was terminated before it was in service", "")
			// Its launch lifecycle action is over (abandoned, as EC2 Auto
			// Scaling does); the terminating hook, if any, comes next.
			i.LifecycleState = cloud.LifecyclePending
			i.WaitingOn, i.HookToken, i.HookDeadline, i.HookResult = "", "", nil, ""
		}
	}
	tx.putInstance(i)
	c.stepInstance(tx, i)
}

// beginTermination holds the instance on its group's terminating hook, if
// it has one and the termination goes through hooks; else it shuts down.
func (c *Cloud) beginTermination(tx *txn, i *instance) {
	if g := c.st.groups[i.Group]; g != nil && !i.SkipHooks && i.State == cloud.StateRunning && i.LifecycleState != cloud.LifecycleTerminatingWait {
		if hook, ok := g.hook(cloud.HookTerminating); ok {
			c.wait(tx, i, hook, cloud.LifecycleTerminatingWait, cloud.DetailTerminateAction)
			return
		}
	}
	c.shutDown(tx, i)
}

func (c *Cloud) shutDown(tx *txn, i *instance) {
	c.setState(tx, i, cloud.StateShuttingDown, i.TerminateWhy)
	now := tx.now
	i.Ended = &now
	at := tx.now.Add(c.timing.Jittered(c.timing.ShutDown, i.ID+"/shutdown"))
	i.ShutdownAt = &at
	i.WaitingOn, i.HookToken, i.HookDeadline, i.HookResult = "", "", nil, ""
	if i.Group != "" {
		i.LifecycleState = cloud.LifecycleTerminating
	}
}

// wait holds an instance on a lifecycle hook: it publishes the lifecycle
// action and waits for it to be completed or to time out.
func (c *Cloud) wait(tx *txn, i *instance, hook cloud.LifecycleHook, state, detailType string) {
	deadline := tx.now.Add(c.timing.Scale.Of(hook.HeartbeatTimeout.Duration))
	i.LifecycleState, i.WaitingOn, i.HookDeadline, i.HookResult = state, hook.Name, &deadline, ""
	i.HookToken = tx.uuid()
	tx.putInstance(i)
	tx.emit(i.Cluster, detailType, []string{c.groupARN(i.Group)}, cloud.LifecycleActionDetail{
		LifecycleActionToken: i.HookToken, AutoScalingGroupName: i.Group, LifecycleHookName: hook.Name,
		EC2InstanceID: i.ID, LifecycleTransition: hook.Transition,
	})
	c.log.Info("instance waits on lifecycle hook", "instance", i.ID, "group", i.Group, "hook", hook.Name, "state", state, "timeout", deadline)
}

// endWait carries out the result of the hook an instance waited on: the
// one someone completed it with, or the hook's default once it timed out.
func (c *Cloud) endWait(tx *txn, i *instance) {
	result := i.HookResult
	if result == "" {
		result = cloud.ResultAbandon
		if g := c.st.groups[i.Group]; g != nil {
			if h, ok := g.hookNamed(i.WaitingOn); ok {
				result = h.DefaultResult
			}
		}
		c.log.Info("lifecycle hook timed out", "instance", i.ID, "group", i.Group, "hook", i.WaitingOn, "result", result)
	}
	state := i.LifecycleState
	i.WaitingOn, i.HookToken, i.HookDeadline, i.HookResult = "", "", nil, ""
	tx.putInstance(i)
	switch {
	case state == cloud.LifecycleTerminatingWait:
		c.shutDown(tx, i) // either result lets the instance go
	case result == cloud.ResultContinue:
		c.enterService(tx, i)
	default:
		i.LifecycleState = cloud.LifecyclePending
		c.endActivity(tx, i.LaunchActivity, cloud.ActivityFailed, "Instance failed to complete user's Lifecycle Action: Lifecycle Action Completed with ABANDON Result", cloud.DetailLaunchUnsuccessful)
		c.requestTermination(tx, i, termination{why: ServiceReason, cause: "an instance was taken out of service because its launch lifecycle action was abandoned"})
	}
}

// setState moves the instance to an EC2 state and publishes the change.
func (c *Cloud) setState(tx *txn, i *instance, state, reason string) {
	i.State, i.StateReason, i.StateTime = state, reason, tx.now
	tx.putInstance(i)
	tx.emit(i.Cluster, cloud.DetailStateChange, []string{c.instanceARN(i.ID)}, cloud.StateChangeDetail{InstanceID: i.ID, State: state})
	c.log.V(1).Info("instance state", "instance", i.ID, "state", state, "reason", reason)
}

// forgetInstance removes a terminated instance's record, keeping the
// record of its launch.
func (c *Cloud) forgetInstance(tx *txn, i *instance) {
	l := &launch{ID: i.ID, Cluster: i.Cluster, Group: i.Group, DNSName: i.DNSName, Launch: i.LaunchTime, Ended: i.Ended,
		Forget: tx.now.Add(c.opts.LaunchRetention)}
	c.st.launches[i.ID] = l
	tx.put(bucketLaunches, i.ID, l)
	c.removeInstance(i)
	tx.del(bucketInstances, i.ID)
	if i.Group != "" {
		tx.settle(i.Group)
	}
}

// addInstance and removeInstance keep the indexes of instances.
func (c *Cloud) addInstance(i *instance) {
	c.st.instances[i.ID] = i
	if i.GroupID != "" {
		m := c.st.byGroup[i.GroupID]
		if m == nil {
			m = map[string]*instance{}
			c.st.byGroup[i.GroupID] = m
		}
		m[i.ID] = i
	}
	c.st.ips.use(i.SubnetID, i.PrivateIP)
}

func (c *Cloud) removeInstance(i *instance) {
	delete(c.st.instances, i.ID)
	if m := c.st.byGroup[i.GroupID]; m != nil {
		delete(m, i.ID)
		if len(m) == 0 {
			delete(c.st.byGroup, i.GroupID)
		}
	}
	c.st.ips.free(i.SubnetID, i.PrivateIP)
}

// stamp is how EC2 Auto Scaling writes a time in a cause.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
