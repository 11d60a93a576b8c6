package update

// A version update replaces every node of a group that runs an older
// version of its launch template, in EKS's four phases:
//
//  1. Setup: a launch template version with the target image (and the
//     labels that name it), the Auto Scaling group pointed at it, AZ
//     rebalancing suspended, the parallelism from updateConfig.
//  2. Scale up (DEFAULT only): max and desired raised by the larger of
//     twice the zones the group spans and maxUnavailable; it passes when a
//     new node is in every zone that has old ones and every new node is
//     Ready with EKS's labels. Then the old nodes are cordoned and
//     labelled exclude-from-external-load-balancers.
//  3. Upgrade: old nodes, picked at random, up to maxUnavailable at a time,
//     are drained through the Eviction API (PodDisruptionBudgets hold);
//     a node whose pods have not left within 15 minutes fails the update
//     with PodEvictionFailure unless it is forced; an empty node waits 60
//     seconds, then its instance is terminated (the group launches its
//     replacement from the new version). MINIMAL terminates before the
//     replacement launches: the group's Launch process is suspended while
//     an old instance is on its way out.
//  4. Scale down: max and desired lowered one at a time back to where they
//     were; AZ rebalancing resumed.
//
// Every decision is written in the record's status (its phase, the plan,
// the nodes being drained and since when) before it is acted on, and every
// action is idempotent, so a restart resumes the update at its phase.

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/nodegroup/lifecycle"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/termination"
)

// drainReason is what a version update's drains say they are for.
const drainReason = "version update"

// startVersion begins the version update the group's spec asks for,
// unless the same request (target, force, token) was tried already: a
// failed one is tried again only when asked (forced, or a new token).
func (c *Controller) startVersion(ctx context.Context, ng *eksv1.NodeGroup, v resources.Version) (reconcile.Result, error) {
	force := ng.Annotations[eksv1.AnnotationForceUpdate] == "true"
	token := ng.Annotations[eksv1.AnnotationUpdateRequest]
	id := resources.VersionUpdateID(ng, ng.Status.Applied, v, force, token)
	existing := &eksv1.NodeGroupUpdate{}
	err := c.client.Get(ctx, client.ObjectKey{Name: id}, existing)
	switch {
	case err == nil && done(existing):
		return reconcile.Result{}, nil // tried: it failed; a retry is a new request
	case err != nil && !apierrors.IsNotFound(err):
		return reconcile.Result{}, fmt.Errorf("reading update %s: %w", id, err)
	}
	if err := c.cancelOrphans(ctx, ng, id); err != nil {
		return reconcile.Result{}, err
	}
	record, err := c.ensureRecord(ctx, ng, &eksv1.NodeGroupUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: id},
		Spec: eksv1.NodeGroupUpdateSpec{NodegroupName: ng.Name, Type: eksv1.VersionUpdate, Params: v.Params(),
			Generation: ng.Generation, Force: force, RequestToken: token},
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	before := ng.DeepCopy()
	ng.Status.ActiveUpdate = record.Name
	if err := c.patchStatus(ctx, before, ng); err != nil {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("started a version update", "nodegroup", ng.Name, "update", record.Name, "params", record.Spec.Params, "force", force)
	c.recorder.Eventf(ng, record, corev1.EventTypeNormal, "UpdateStarted", "Update", "Update %s (%s%s) started: %s", record.Name, record.Spec.Type, forced(record), describe(record.Spec.Params))
	return c.carryOn(ctx, ng)
}

func forced(r *eksv1.NodeGroupUpdate) string {
	if r.Spec.Force {
		return ", forced"
	}
	return ""
}

// rollout carries a version update on from its phase.
func (c *Controller) rollout(ctx context.Context, ng *eksv1.NodeGroup, record *eksv1.NodeGroupUpdate) (reconcile.Result, error) {
	v, err := resources.VersionOf(record.Spec.Params)
	if err != nil {
		return reconcile.Result{}, c.fail(ctx, ng, record, "Unknown", err.Error(), nil)
	}
	name := resources.ASGName(ng)
	group, err := c.cloud.GetGroup(ctx, name)
	if cloud.IsNotFound(err) {
		return reconcile.Result{}, c.fail(ctx, ng, record, "K8sResourceNotFound", "the node group's Auto Scaling group is gone", []string{name})
	}
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading Auto Scaling group %s: %w", name, err)
	}
	members, err := resources.Members(ctx, c.client, c.cloud, ng)
	if err != nil {
		return reconcile.Result{}, err
	}
	r := &run{c: c, ng: ng, record: record, group: group, members: members, now: c.env.Clock.Now()}
	var res reconcile.Result
	switch record.Status.Phase {
	case "", eksv1.PhaseSetup:
		res, err = r.setup(ctx, v)
	case eksv1.PhaseScaleUp:
		res, err = r.scaleUp(ctx)
	case eksv1.PhaseUpgrade:
		res, err = r.upgrade(ctx)
	case eksv1.PhaseScaleDown:
		res, err = r.scaleDown(ctx)
	default:
		return reconcile.Result{}, c.fail(ctx, ng, record, "Unknown", fmt.Sprintf("unknown phase %q", record.Status.Phase), nil)
	}
	var failed *failure
	if asFailure(err, &failed) {
		return reconcile.Result{}, c.fail(ctx, ng, record, failed.code, failed.message, failed.resources)
	}
	return res, err
}

// run is one look at a version update: the group as the cloud and the
// API server have it now.
type run struct {
	c       *Controller
	ng      *eksv1.NodeGroup
	record  *eksv1.NodeGroupUpdate
	group   *cloud.Group
	members []resources.Member
	now     time.Time
	// said are the events of decisions not yet saved: recorded once the
	// record's status that holds them is written, so that a decision made
	// again after a conflict is not told twice.
	said []func()
}

// say records an event once the status is saved.
func (r *run) say(event func()) { r.said = append(r.said, event) }

func (r *run) rollout() *eksv1.Rollout { return r.record.Status.Rollout }

// old reports whether an instance runs an older launch template version
// than the update's.
func (r *run) old(i cloud.Instance) bool {
	return i.LaunchTemplate == nil || i.LaunchTemplate.Version != r.rollout().LaunchTemplateVersion
}

// save writes the record's status (on the version it was read at).
func (r *run) save(ctx context.Context) error {
	if err := r.c.client.Status().Update(ctx, r.record); err != nil {
		return fmt.Errorf("recording update %s: %w", r.record.Name, err)
	}
	for _, e := range r.said {
		e()
	}
	r.said = nil
	return nil
}

// enter moves the update to its next phase, and says so.
func (r *run) enter(ctx context.Context, phase eksv1.UpdatePhase, note string) error {
	was, since := r.record.Status.Phase, r.record.Status.PhaseStartedAt
	r.record.Status.Phase = phase
	r.record.Status.PhaseStartedAt = &metav1.MicroTime{Time: r.now}
	if err := r.save(ctx); err != nil {
		return err
	}
	if since != nil && was != "" {
		phases.WithLabelValues(string(was), r.rollout().Strategy).Observe(r.now.Sub(since.Time).Seconds())
	}
	log.FromContext(ctx).Info("version update phase", "nodegroup", r.ng.Name, "update", r.record.Name, "phase", phase, "note", note)
	r.c.recorder.Eventf(r.ng, r.record, corev1.EventTypeNormal, "Update"+string(phase), "Update", "Update %s: %s phase: %s", r.record.Name, phaseName(phase), note)
	return nil
}

func phaseName(p eksv1.UpdatePhase) string {
	switch p {
	case eksv1.PhaseScaleUp:
		return "scale-up"
	case eksv1.PhaseScaleDown:
		return "scale-down"
	}
	return strings.ToLower(string(p))
}

// setup plans the update once (the target launch template version, the
// group's size before, the surge and the parallelism), writes the plan,
// then points the Auto Scaling group at the new version with AZ
// rebalancing suspended.
func (r *run) setup(ctx context.Context, v resources.Version) (reconcile.Result, error) {
	if r.rollout() == nil {
		plan, err := r.plan(ctx, v)
		if err != nil {
			return reconcile.Result{}, err
		}
		r.record.Status.Rollout = plan
		r.record.Status.Phase = eksv1.PhaseSetup
		r.record.Status.PhaseStartedAt = &metav1.MicroTime{Time: r.now}
		if err := r.save(ctx); err != nil {
			return reconcile.Result{}, err
		}
	}
	p := r.rollout()
	name := r.group.Name
	if err := r.c.cloud.SuspendProcesses(ctx, name, []string{cloud.ProcessAZRebalance}); err != nil {
		return reconcile.Result{}, fmt.Errorf("suspending AZ rebalancing of %s: %w", name, err)
	}
	if r.group.LaunchTemplate.Version != p.LaunchTemplateVersion {
		if _, err := r.c.cloud.UpdateGroup(ctx, name, cloud.GroupUpdate{LaunchTemplate: &cloud.TemplateRef{ID: r.group.LaunchTemplate.ID, Version: p.LaunchTemplateVersion}}); err != nil {
			return reconcile.Result{}, fmt.Errorf("pointing %s at launch template version %s: %w", name, p.LaunchTemplateVersion, err)
		}
	}
	note := fmt.Sprintf("new nodes launch from launch template version %s (image %s, release %s); %d nodes to replace, %d at a time (%s)",
		p.LaunchTemplateVersion, p.ImageID, p.ReleaseVersion, p.NodesToReplace, p.MaxUnavailable, p.Strategy)
	next := eksv1.PhaseScaleUp
	switch {
	case p.NodesToReplace == 0:
		next = eksv1.PhaseScaleDown // nothing runs the old version
	case p.Strategy == "MINIMAL":
		next = eksv1.PhaseUpgrade // no surge: old nodes go first
	}
	if err := r.enter(ctx, next, note); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{Requeue: true}, nil
}

// plan works out the update: the launch template version whose nodes
// run the target image, and how the group gets there.
func (r *run) plan(ctx context.Context, v resources.Version) (*eksv1.Rollout, error) {
	c, ng := r.c, r.ng
	spec := ng.Spec.LaunchTemplate.DeepCopy()
	if spec != nil {
		spec.Version = v.LaunchTemplateVersion
	}
	source, issue, err := lifecycle.ReadSource(ctx, c.cloud, spec)
	if issue != nil || err != nil {
		return nil, planError(issue, err)
	}
	image, issue, err := lifecycle.ImageOf(ctx, c.cloud, ng.Spec.AMIType, v.Version, v.ReleaseVersion, source)
	if issue != nil || err != nil {
		return nil, planError(issue, err)
	}
	return r.planFor(ctx, v, source, image)
}

// planError is why the target cannot be planned: an issue (a template or
// image that is not there) fails the update; an error is tried again.
func planError(issue *eksv1.Issue, err error) error {
	if issue != nil {
		return &failure{code: "Unknown", message: string(issue.Code) + ": " + issue.Message, resources: issue.ResourceIDs}
	}
	return err
}

func (r *run) planFor(ctx context.Context, v resources.Version, source *resources.Source, image resources.Image) (*eksv1.Rollout, error) {
	c, ng := r.c, r.ng
	token, err := join.EnsureToken(ctx, c.kube, resources.TokenID(ng), "kdp node group "+ng.Name, map[string]string{eksv1.LabelUpdateNodegroup: ng.Name})
	if err != nil {
		return nil, err
	}
	target := resources.ApplyVersion(ng.Status.Applied, v, image)
	data, err := resources.TemplateData(lifecycle.JoinOptions(c.env), token, resources.NodeLabels(ng, target, source), target.Taints, image.ID, source)
	if err != nil {
		return nil, err
	}
	_, version, err := lifecycle.EnsureTemplate(ctx, c.cloud, resources.TemplateName(ng), data, "kdp node group "+ng.Name)
	if err != nil {
		return nil, err
	}
	p := &eksv1.Rollout{
		LaunchTemplateVersion: strconv.FormatInt(version, 10),
		ImageID:               image.ID,
		ReleaseVersion:        image.ReleaseVersion,
		Before:                eksv1.ScalingConfig{MinSize: r.group.MinSize, MaxSize: r.group.MaxSize, DesiredSize: r.group.DesiredCapacity},
		MaxUnavailable:        resources.MaxUnavailable(ng.Status.Applied.UpdateConfig, r.group.DesiredCapacity),
		Strategy:              "DEFAULT",
		EvictionTimeout:       &metav1.Duration{Duration: r.c.env.Wait(resources.EvictionTimeout)},
	}
	if u := ng.Status.Applied.UpdateConfig; u != nil && u.UpdateStrategy == "MINIMAL" {
		p.Strategy = "MINIMAL"
	} else {
		p.Surge = resources.Surge(len(r.group.Zones), p.MaxUnavailable)
	}
	r.record.Status.Rollout = p // for old()
	for _, m := range r.members {
		if !resources.Leaving(m.Instance) && r.old(m.Instance) {
			p.NodesToReplace++
		}
	}
	return p, nil
}

// scaleUp raises the group by the surge and waits for the new nodes: one
// in every zone that has old nodes, every one Ready with EKS's labels. Then
// it cordons the old nodes and labels them out of load balancers.
func (r *run) scaleUp(ctx context.Context) (reconcile.Result, error) {
	p := r.rollout()
	maxSize, desired := p.Before.MaxSize+p.Surge, p.Before.DesiredSize+p.Surge
	if r.group.MaxSize != maxSize || r.group.DesiredCapacity != desired {
		_, err := r.c.cloud.UpdateGroup(ctx, r.group.Name, cloud.GroupUpdate{MaxSize: &maxSize, DesiredCapacity: &desired})
		if cloud.IsInvalid(err) {
			return reconcile.Result{}, &failure{code: "ConfigurationConflict", message: err.Error(), resources: []string{r.group.Name}}
		}
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("scaling %s up for the update: %w", r.group.Name, err)
		}
		r.c.recorder.Eventf(r.ng, r.record, corev1.EventTypeNormal, "Scaling", "Update",
			"Update %s: raising max to %d and desired to %d: %d new nodes (the larger of 2 × %d zones and maxUnavailable %d) before any old one goes",
			r.record.Name, maxSize, desired, p.Surge, len(r.group.Zones), p.MaxUnavailable)
	}
	oldZones, newZones := map[string]bool{}, map[string]bool{}
	var fresh, notReady []string
	for _, m := range r.members {
		i := m.Instance
		switch {
		case resources.Leaving(i):
		case r.old(i):
			oldZones[i.Zone] = true
		default:
			fresh = append(fresh, i.ID)
			if m.Node == nil || !resources.Ready(m.Node) || !r.labelled(m.Node) {
				notReady = append(notReady, i.ID)
				continue
			}
			newZones[i.Zone] = true
		}
	}
	var missing []string
	for z := range oldZones {
		if !newZones[z] {
			missing = append(missing, z)
		}
	}
	slices.Sort(missing)
	if len(fresh) >= int(p.Surge) && len(notReady) == 0 && len(missing) == 0 {
		n, err := r.cordonOld(ctx)
		if err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{Requeue: true}, r.enter(ctx, eksv1.PhaseUpgrade,
			fmt.Sprintf("%d new nodes are Ready in every zone; cordoned %d old nodes and labelled them %s=true", len(fresh), n, eksv1.LabelExcludeFromLB))
	}
	deadline := r.record.Status.PhaseStartedAt.Add(r.c.env.Wait(resources.JoinTimeout))
	if !r.now.Before(deadline) {
		slices.Sort(notReady)
		missingNodes := len(notReady) + max(0, int(p.Surge)-len(fresh)) // not Ready, or never launched
		msg := fmt.Sprintf("%d of %d new nodes did not become Ready nodes within %s", missingNodes, p.Surge, r.c.env.Wait(resources.JoinTimeout))
		if len(missing) > 0 {
			msg += fmt.Sprintf("; no new node in zones %s, where old nodes are", strings.Join(missing, ", "))
		}
		return reconcile.Result{}, &failure{code: "NodeCreationFailure", message: msg, resources: notReady}
	}
	return reconcile.Result{RequeueAfter: min(retry, deadline.Sub(r.now))}, nil
}

// labelled reports whether a new node carries EKS's labels for the
// update's image.
func (r *run) labelled(n *corev1.Node) bool {
	return n.Labels[eksv1.LabelNodegroup] == r.ng.Name && n.Labels[eksv1.LabelNodegroupImage] == r.rollout().ImageID &&
		n.Labels[eksv1.LabelCapacityType] != ""
}

// cordonOld cordons the old nodes and labels them out of external load
// balancers (each patch once; a node that is so already is left alone).
func (r *run) cordonOld(ctx context.Context) (int, error) {
	n := 0
	for _, m := range r.members {
		if m.Node == nil || resources.Leaving(m.Instance) || !r.old(m.Instance) {
			continue
		}
		n++
		if m.Node.Spec.Unschedulable && m.Node.Labels[eksv1.LabelExcludeFromLB] == "true" {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}},"spec":{"unschedulable":true}}`, eksv1.LabelExcludeFromLB)
		if err := r.c.client.Patch(ctx, m.Node, client.RawPatch(types.MergePatchType, []byte(patch))); client.IgnoreNotFound(err) != nil {
			return n, fmt.Errorf("cordoning old node %s: %w", m.Node.Name, err)
		}
	}
	return n, nil
}

// upgrade replaces the old nodes, up to maxUnavailable at a time.
func (r *run) upgrade(ctx context.Context) (reconcile.Result, error) {
	p := r.rollout()
	byID := map[string]resources.Member{}
	for _, m := range r.members {
		byID[m.Instance.ID] = m
	}
	next := retry
	wake := func(d time.Duration) { next = max(min(next, d), 10*time.Millisecond) }
	var draining []eksv1.DrainingNode
	var stuck []eksv1.DrainingNode
	why := map[string][]string{} // a stuck node's instance → what is left on it
	var stuckPods []string
	terminated := false
	for _, d := range p.Draining {
		m, ok := byID[d.InstanceID]
		if !ok || resources.Leaving(m.Instance) {
			continue // on its way out, or gone: replaced
		}
		onRecord := d.DrainedAt != nil // drained before this look
		if d.DrainedAt == nil {
			if m.Node == nil {
				d.DrainedAt = &metav1.MicroTime{Time: r.now}
			} else {
				res, err := r.c.drainer.Step(ctx, m.Node, drain.Request{Reason: drainReason, Group: r.ng.Name})
				if err != nil {
					return reconcile.Result{}, err
				}
				p.PodsEvicted += int32(res.Evicted)
				deadline := d.StartedAt.Add(r.c.env.Wait(resources.EvictionTimeout))
				switch {
				case res.Done:
					d.DrainedAt, d.BlockedBy = &metav1.MicroTime{Time: r.now}, nil
					r.say(func() {
						r.c.drainsTold.Store(r.record.Name+"/"+d.InstanceID, true)
						r.c.recorder.Eventf(r.ng, m.Node, corev1.EventTypeNormal, "Drained", "Update", "Update %s: drained node %s in %s; it is terminated in %s",
							r.record.Name, m.Node.Name, r.now.Sub(d.StartedAt.Time).Round(time.Millisecond), r.c.env.Wait(resources.AfterDrain))
					})
				case !r.now.Before(deadline) && r.record.Spec.Force:
					d.DrainedAt, d.Forced = &metav1.MicroTime{Time: r.now}, true
					r.say(func() {
						r.c.recorder.Eventf(r.ng, m.Node, corev1.EventTypeWarning, "ForcedDrain", "Update", "Update %s (forced): node %s was not drained within %s; it is terminated with %s",
							r.record.Name, m.Node.Name, r.c.env.Wait(resources.EvictionTimeout), strings.Join(blockedBy(res), ", "))
					})
				case !r.now.Before(deadline):
					stuck = append(stuck, d)
					why[d.InstanceID] = blockedBy(res)
					for _, pod := range res.Remaining {
						stuckPods = append(stuckPods, pod.String())
					}
				default:
					if b := blockedBy(res); !slices.Equal(b, d.BlockedBy) {
						d.BlockedBy = b
						if len(b) > 0 {
							r.say(func() {
								r.c.recorder.Eventf(r.ng, m.Node, corev1.EventTypeWarning, "DrainBlocked", "Update", "Update %s: node %s is not drained yet, %s of %s: %s",
									r.record.Name, m.Node.Name, r.now.Sub(d.StartedAt.Time).Round(time.Second), r.c.env.Wait(resources.EvictionTimeout), strings.Join(b, ", "))
							})
						}
					}
					wake(deadline.Sub(r.now))
				}
			}
		}
		if onRecord && !d.Forced && m.Node != nil {
			// A drain on record this kdp has not told: the kdp that recorded
			// it may have been killed before its event left (events are sent
			// after the status that holds them is written, asynchronously).
			if _, told := r.c.drainsTold.LoadOrStore(r.record.Name+"/"+d.InstanceID, true); !told {
				r.c.recorder.Eventf(r.ng, m.Node, corev1.EventTypeNormal, "Drained", "Update", "Update %s: drained node %s in %s (on record before kdp restarted); it is terminated in %s",
					r.record.Name, m.Node.Name, d.DrainedAt.Sub(d.StartedAt.Time).Round(time.Millisecond), r.c.env.Wait(resources.AfterDrain))
			}
		}
		if d.DrainedAt != nil {
			due := d.DrainedAt.Add(r.c.env.Wait(resources.AfterDrain))
			if r.now.Before(due) {
				wake(due.Sub(r.now))
			} else if again, err := r.stillEmpty(ctx, m, d); err != nil {
				return reconcile.Result{}, err
			} else if !again {
				// A pod came meanwhile: back to draining, on the same clock.
				d.DrainedAt = nil
				wake(0)
			} else {
				if err := r.terminate(ctx, m, d); err != nil {
					return reconcile.Result{}, err
				}
				terminated = true
			}
		}
		draining = append(draining, d)
	}
	if len(stuck) > 0 {
		p.Draining = draining
		return reconcile.Result{}, &failure{code: "PodEvictionFailure", message: evictionMessage(r, stuck, why), resources: uniqueSorted(stuckPods)}
	}
	// How many of the desired nodes are not serving: those being replaced,
	// and those whose replacement is not Ready yet.
	serving, liveOld, leavingOld := 0, 0, 0
	inDrain := map[string]bool{}
	for _, d := range draining {
		inDrain[d.InstanceID] = true
	}
	// Old nodes that serve nothing (NotReady, or never joined) go first,
	// and do not count against maxUnavailable: replacing them takes
	// nothing out of service.
	var candidates, idle []resources.Member
	var late []string
	for _, m := range r.members {
		i := m.Instance
		ready := m.Node != nil && resources.Ready(m.Node)
		switch {
		case resources.Leaving(i):
			if r.old(i) {
				leavingOld++
			}
		case inDrain[i.ID]:
			liveOld++
		case r.old(i) && !ready:
			liveOld++
			idle = append(idle, m)
		case r.old(i):
			liveOld++
			serving++
			candidates = append(candidates, m)
		case ready:
			serving++
		case m.Node == nil && r.now.Sub(i.LaunchTime) >= r.c.env.Wait(resources.JoinTimeout):
			late = append(late, i.ID) // a replacement that never joined
		}
	}
	if len(late) > 0 {
		slices.Sort(late)
		p.Draining = draining
		return reconcile.Result{}, &failure{code: "NodeCreationFailure", resources: late,
			message: fmt.Sprintf("%d new instances did not join the cluster within %s", len(late), r.c.env.Wait(resources.JoinTimeout))}
	}
	unavailable := max(0, int(r.group.DesiredCapacity)-serving-len(idle))
	slots := int(p.MaxUnavailable) - unavailable
	rand.Shuffle(len(idle), func(a, b int) { idle[a], idle[b] = idle[b], idle[a] })
	rand.Shuffle(len(candidates), func(a, b int) { candidates[a], candidates[b] = candidates[b], candidates[a] })
	candidates = append(idle, candidates...)
	for _, m := range candidates[:max(0, min(slots, len(candidates)))] {
		d := eksv1.DrainingNode{InstanceID: m.Instance.ID, StartedAt: metav1.MicroTime{Time: r.now}}
		if m.Node != nil {
			d.NodeName = m.Node.Name
		}
		draining = append(draining, d)
		r.say(func() {
			r.c.recorder.Eventf(r.ng, nodeOf(m), corev1.EventTypeNormal, "ReplacingNode", "Update", "Update %s: draining node %s (instance %s) to replace it: %d of %d old nodes replaced, %d at a time",
				r.record.Name, d.NodeName, d.InstanceID, p.NodesToReplace-int32(liveOld), p.NodesToReplace, p.MaxUnavailable)
		})
		wake(0)
	}
	if p.Strategy == "MINIMAL" && leavingOld == 0 && !terminated && slices.Contains(r.group.SuspendedProcesses, cloud.ProcessLaunch) {
		// The old instances are gone: their replacements may launch.
		if err := r.c.cloud.ResumeProcesses(ctx, r.group.Name, []string{cloud.ProcessLaunch}); err != nil {
			return reconcile.Result{}, fmt.Errorf("resuming launches of %s: %w", r.group.Name, err)
		}
	}
	p.Draining = draining
	p.NodesReplaced = max(0, p.NodesToReplace-int32(liveOld))
	if liveOld == 0 && leavingOld == 0 && len(draining) == 0 {
		return reconcile.Result{Requeue: true}, r.enter(ctx, eksv1.PhaseScaleDown,
			fmt.Sprintf("every node runs launch template version %s", p.LaunchTemplateVersion))
	}
	if err := r.save(ctx); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

// stillEmpty checks again, after the 60 seconds, that a drained node has
// nothing left to evict (a pod may have come meanwhile); a forced node,
// and one with no Node, go as they are.
func (r *run) stillEmpty(ctx context.Context, m resources.Member, d eksv1.DrainingNode) (bool, error) {
	if m.Node == nil || d.Forced || m.Node.Annotations[termination.AnnotationDrainResult] != "" {
		return true, nil
	}
	res, err := r.c.drainer.Step(ctx, m.Node, drain.Request{Reason: drainReason, Group: r.ng.Name})
	return res.Done, err
}

// terminate lets an old node's instance go, its drain done: the node is
// marked drained (so the group's termination hook lets it through at
// once), and, for MINIMAL, launches are suspended first so that its
// replacement launches only once it is gone.
func (r *run) terminate(ctx context.Context, m resources.Member, d eksv1.DrainingNode) error {
	how := drain.ResultDrained
	if d.Forced {
		how = drain.ResultForced
	}
	if m.Node != nil && m.Node.Annotations[termination.AnnotationDrainResult] == "" {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q,%q:%q,%q:%q}}}`,
			termination.AnnotationDrainStarted, d.StartedAt.UTC().Format(time.RFC3339Nano), termination.AnnotationDrainReason, drainReason, termination.AnnotationDrainResult, how)
		if err := r.c.client.Patch(ctx, m.Node, client.RawPatch(types.MergePatchType, []byte(patch))); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("marking node %s drained: %w", m.Node.Name, err)
		}
	}
	if r.rollout().Strategy == "MINIMAL" && !slices.Contains(r.group.SuspendedProcesses, cloud.ProcessLaunch) {
		if err := r.c.cloud.SuspendProcesses(ctx, r.group.Name, []string{cloud.ProcessLaunch}); err != nil {
			return fmt.Errorf("suspending launches of %s: %w", r.group.Name, err)
		}
		r.group.SuspendedProcesses = append(r.group.SuspendedProcesses, cloud.ProcessLaunch)
	}
	if err := r.c.cloud.TerminateInstance(ctx, m.Instance.ID, false); err != nil && !cloud.IsNotFound(err) {
		return fmt.Errorf("terminating instance %s: %w", m.Instance.ID, err)
	}
	replaced.WithLabelValues(r.ng.Name, how).Inc()
	r.c.recorder.Eventf(r.ng, nodeOf(m), corev1.EventTypeNormal, "TerminatingNode", "Update", "Update %s: terminating instance %s of node %s, %s after its drain; the group launches its replacement from launch template version %s",
		r.record.Name, m.Instance.ID, d.NodeName, r.c.env.Wait(resources.AfterDrain), r.rollout().LaunchTemplateVersion)
	return nil
}

// scaleDown lowers max and desired one at a time, each once the group has
// settled, back to where they were before the update; then AZ rebalancing
// (and, for MINIMAL, launching) resumes and the update has succeeded.
func (r *run) scaleDown(ctx context.Context) (reconcile.Result, error) {
	p := r.rollout()
	g := r.group
	live := 0
	for _, m := range r.members {
		if resources.Leaving(m.Instance) {
			return reconcile.Result{RequeueAfter: retry}, nil // one at a time, each drained and gone
		}
		live++
	}
	if live > int(g.DesiredCapacity) {
		return reconcile.Result{RequeueAfter: retry}, nil
	}
	if g.DesiredCapacity > p.Before.DesiredSize || g.MaxSize > p.Before.MaxSize {
		desired, maxSize := max(p.Before.DesiredSize, g.DesiredCapacity-1), max(p.Before.MaxSize, g.MaxSize-1)
		if _, err := r.c.cloud.UpdateGroup(ctx, g.Name, cloud.GroupUpdate{DesiredCapacity: &desired, MaxSize: &maxSize}); err != nil {
			return reconcile.Result{}, fmt.Errorf("scaling %s back down: %w", g.Name, err)
		}
		r.c.recorder.Eventf(r.ng, r.record, corev1.EventTypeNormal, "Scaling", "Update", "Update %s: lowering desired to %d and max to %d (back to %d and %d, one at a time)",
			r.record.Name, desired, maxSize, p.Before.DesiredSize, p.Before.MaxSize)
		return reconcile.Result{RequeueAfter: retry}, nil
	}
	if err := r.c.cloud.ResumeProcesses(ctx, g.Name, []string{cloud.ProcessAZRebalance, cloud.ProcessLaunch}); err != nil {
		return reconcile.Result{}, fmt.Errorf("resuming the processes of %s: %w", g.Name, err)
	}
	// Done when the group's desired nodes all run the new version and have
	// joined with EKS's labels (MINIMAL's replacements launch last: an
	// image whose nodes never join fails here).
	var late []string
	joined := 0
	for _, m := range r.members {
		switch {
		case m.Node != nil && r.labelled(m.Node) && !r.old(m.Instance):
			joined++
		case m.Node == nil && r.now.Sub(m.Instance.LaunchTime) >= r.c.env.Wait(resources.JoinTimeout):
			late = append(late, m.Instance.ID)
		}
	}
	if len(late) > 0 {
		slices.Sort(late)
		return reconcile.Result{}, &failure{code: "NodeCreationFailure", resources: late,
			message: fmt.Sprintf("%d new instances did not join the cluster within %s", len(late), r.c.env.Wait(resources.JoinTimeout))}
	}
	if joined < int(g.DesiredCapacity) {
		return reconcile.Result{RequeueAfter: retry}, nil
	}
	r.record.Status.Status, r.record.Status.CompletedAt = eksv1.UpdateSuccessful, &metav1.Time{Time: r.now}
	if err := r.save(ctx); err != nil {
		return reconcile.Result{}, err
	}
	phases.WithLabelValues(string(eksv1.PhaseScaleDown), p.Strategy).Observe(r.now.Sub(r.record.Status.PhaseStartedAt.Time).Seconds())
	return reconcile.Result{}, r.c.end(ctx, r.ng, r.record)
}

// restore undoes what a failed version update leaves behind: the old
// nodes it did not replace are uncordoned and back in load balancers, the
// group launches from its old launch template version again, the nodes it
// added are drained and terminated (newest first) until the group is at
// its size before, and its processes run again. The nodes it replaced
// stay replaced. It is idempotent.
func (c *Controller) restore(ctx context.Context, ng *eksv1.NodeGroup, record *eksv1.NodeGroupUpdate) error {
	p := record.Status.Rollout
	if p == nil {
		return nil // it failed in its setup, before it changed anything
	}
	name := resources.ASGName(ng)
	group, err := c.cloud.GetGroup(ctx, name)
	if cloud.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading Auto Scaling group %s: %w", name, err)
	}
	members, err := resources.Members(ctx, c.client, c.cloud, ng)
	if err != nil {
		return err
	}
	r := &run{c: c, ng: ng, record: record, group: group, members: members, now: c.env.Clock.Now()}
	var added []cloud.Instance
	for _, m := range members {
		if resources.Leaving(m.Instance) {
			continue
		}
		if !r.old(m.Instance) {
			added = append(added, m.Instance)
			continue
		}
		if m.Node == nil {
			continue
		}
		want := m.Node.DeepCopy()
		want.Spec.Unschedulable = false
		delete(want.Labels, eksv1.LabelExcludeFromLB)
		if !want.Spec.Unschedulable && !m.Node.Spec.Unschedulable && maps.Equal(want.Labels, m.Node.Labels) {
			continue
		}
		if err := c.client.Patch(ctx, want, client.MergeFrom(m.Node)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("uncordoning node %s: %w", m.Node.Name, err)
		}
	}
	if v := ng.Status.Resources.LaunchTemplate; v != nil && group.LaunchTemplate.Version != v.Version {
		if _, err := c.cloud.UpdateGroup(ctx, name, cloud.GroupUpdate{LaunchTemplate: &cloud.TemplateRef{ID: group.LaunchTemplate.ID, Version: v.Version}}); err != nil {
			return fmt.Errorf("pointing %s back at launch template version %s: %w", name, v.Version, err)
		}
	}
	slices.SortFunc(added, func(a, b cloud.Instance) int { return b.LaunchTime.Compare(a.LaunchTime) })
	excess := int(group.DesiredCapacity - p.Before.DesiredSize)
	for _, i := range added[:max(0, min(excess, len(added)))] {
		if err := c.cloud.TerminateInstance(ctx, i.ID, true); err != nil && !cloud.IsNotFound(err) && !cloud.IsInvalid(err) {
			return fmt.Errorf("terminating instance %s, added by the update: %w", i.ID, err)
		}
	}
	// Each termination lowered desired by one; what is left of the raise
	// had no instance (a launch that failed): it goes too.
	terminated := int32(max(0, min(excess, len(added))))
	if group.DesiredCapacity-terminated != p.Before.DesiredSize || group.MaxSize != p.Before.MaxSize {
		desired, maxSize := p.Before.DesiredSize, p.Before.MaxSize
		if _, err := c.cloud.UpdateGroup(ctx, name, cloud.GroupUpdate{DesiredCapacity: &desired, MaxSize: &maxSize}); err != nil {
			return fmt.Errorf("scaling %s back to its size before the update: %w", name, err)
		}
	}
	if err := c.cloud.ResumeProcesses(ctx, name, []string{cloud.ProcessAZRebalance, cloud.ProcessLaunch}); err != nil {
		return fmt.Errorf("resuming the processes of %s: %w", name, err)
	}
	return nil
}

// nodeOf is a member's Node as an event's related object (none if it has
// no Node: a nil *Node would not be a nil object).
func nodeOf(m resources.Member) runtime.Object {
	if m.Node == nil {
		return nil
	}
	return m.Node
}

// blockedBy says which pods a drain step left, and why.
func blockedBy(res drain.Result) []string {
	why := map[types.NamespacedName]string{}
	for _, b := range res.Blocked {
		if b.Budget != "" {
			// The Eviction API refuses only when the budget allows none.
			why[b.Pod] = "PodDisruptionBudget " + b.Budget + " (0 disruptions allowed)"
		} else {
			why[b.Pod] = b.Message
		}
	}
	out := make([]string, 0, len(res.Remaining))
	for _, p := range res.Remaining {
		if w := why[p]; w != "" {
			out = append(out, p.String()+": "+w)
		} else {
			out = append(out, p.String()+": terminating")
		}
	}
	slices.Sort(out)
	return out
}

// evictionMessage is a PodEvictionFailure's message: EKS's words, then
// which nodes and pods, and the budgets that held them.
func evictionMessage(r *run, stuck []eksv1.DrainingNode, why map[string][]string) string {
	parts := make([]string, 0, len(stuck))
	for _, d := range stuck {
		parts = append(parts, fmt.Sprintf("node %s: %s", d.NodeName, strings.Join(why[d.InstanceID], ", ")))
	}
	return fmt.Sprintf("Reached max retries while trying to evict pods from nodes in node group %s: their pods did not leave within %s (%s). Retry with force to replace them anyway.",
		r.ng.Name, r.c.env.Wait(resources.EvictionTimeout), strings.Join(parts, "; "))
}

func uniqueSorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
