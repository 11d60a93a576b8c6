// Package update is the node group update controller: every change of a
// created group's spec that EKS calls a ConfigUpdate (scaling, labels,
// taints, the update and repair configurations) becomes an update with a
// record (a NodeGroupUpdate named by the update's id), whether it came from
// kubectl or the EKS API, and is carried out: the Auto Scaling group's
// sizes, a new launch template version for new nodes, the labels and taints
// of the nodes there are. One update runs at a time per group; the record
// says how it went, and the last 100 are kept.
//
// The record is written before anything changes and holds the change
// (EKS's update parameters), and the group's status says which update is
// in progress and what configuration was in effect before it, so a crash
// at any point resumes the same update, never a second one, and never
// loses it. Labels and taints are applied to nodes only by an update (EKS
// does not put back a taint a user took off a node by hand).
package update

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/drain"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// History is how many records of a group's updates are kept.
const History = 100

// retry is how often an update that waits (on nodes still joining from an
// older launch template) looks again.
const retry = 2 * time.Second

// Controller carries out node group updates.
type Controller struct {
	client   client.Client
	kube     kubernetes.Interface
	cloud    cloud.Provider
	drainer  *drain.Drainer
	recorder events.EventRecorder
	env      resources.Env
	// drainsTold are the drains (update/instance) whose Drained event this
	// kdp has sent: one on record and not among them was told by a kdp
	// that may have been killed before its event left, so it is told again.
	drainsTold sync.Map
}

// NewController returns the update controller. It drains the old nodes of
// version updates with d, and makes their launch template versions with
// the group's bootstrap token, read through kube.
func NewController(c client.Client, kube kubernetes.Interface, p cloud.Provider, d *drain.Drainer, recorder events.EventRecorder, env resources.Env) *Controller {
	return &Controller{client: c, kube: kube, cloud: p, drainer: d, recorder: recorder, env: env}
}

// Name is the controller's name.
func (*Controller) Name() string { return "nodegroup.update" }

// Register adds the controller to the manager: it looks at a group when it
// changes, when one of its nodes changes (an update waits for nodes to
// register and become Ready), and when a pod leaves a cordoned node of a
// group (a version update's drain moves on).
func (c *Controller) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&eksv1.NodeGroup{}).
		Owns(&eksv1.NodeGroupUpdate{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(resources.ByNodeLabel)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(c.byPod)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(c)
}

// byPod is the request of the group of a pod's node, if the node is
// cordoned (being drained).
func (c *Controller) byPod(ctx context.Context, o client.Object) []reconcile.Request {
	name := o.(*corev1.Pod).Spec.NodeName
	if name == "" {
		return nil
	}
	node := &corev1.Node{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: name}, node); err != nil || !node.Spec.Unschedulable {
		return nil
	}
	if group := node.Labels[eksv1.LabelNodegroup]; group != "" {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: group}}}
	}
	return nil
}

// Reconcile starts or carries on one group's update.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	r, err := c.reconcile(ctx, req)
	if apierrors.IsConflict(err) {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil // read again, newer
	}
	return r, err
}

func (c *Controller) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ng := &eksv1.NodeGroup{}
	if err := c.client.Get(ctx, req.NamespacedName, ng); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	st := ng.Status
	switch {
	case !ng.DeletionTimestamp.IsZero(), st.Applied == nil, st.Status == eksv1.StatusCreateFailed:
		return reconcile.Result{}, nil // not created, failed or going: nothing to update
	case st.ActiveUpdate != "":
		return c.carryOn(ctx, ng)
	case st.Status != eksv1.StatusActive && st.Status != eksv1.StatusDegraded:
		return reconcile.Result{}, nil
	case ng.Generation > st.ObservedGeneration:
		return c.start(ctx, ng)
	}
	if v, pending := resources.PendingVersion(st.Applied, &ng.Spec); pending {
		return c.startVersion(ctx, ng, v)
	}
	return reconcile.Result{}, nil
}

// start begins the update that brings the group's spec into effect: its
// record first, then the group's status naming it. A change of tags alone
// is not an update (EKS's TagResource): they are put on the Auto Scaling
// group at once.
func (c *Controller) start(ctx context.Context, ng *eksv1.NodeGroup) (reconcile.Result, error) {
	applied := ng.Status.Applied
	if err := c.syncTags(ctx, ng); err != nil {
		return reconcile.Result{}, err
	}
	change := resources.Diff(applied, &ng.Spec)
	before := ng.DeepCopy()
	if change.Empty(applied) {
		ng.Status.Applied.Tags = ng.Spec.Tags
		ng.Status.ObservedGeneration = ng.Generation
		return reconcile.Result{}, c.patchStatus(ctx, before, ng)
	}
	if err := c.cancelOrphans(ctx, ng, resources.UpdateID(ng, ng.Generation)); err != nil {
		return reconcile.Result{}, err
	}
	record, err := c.ensureRecord(ctx, ng, &eksv1.NodeGroupUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: resources.UpdateID(ng, ng.Generation)},
		Spec:       eksv1.NodeGroupUpdateSpec{NodegroupName: ng.Name, Type: eksv1.ConfigUpdate, Params: change.Params(applied), Generation: ng.Generation},
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	ng.Status.ActiveUpdate = record.Name
	ng.Status.Applied.Tags = ng.Spec.Tags
	if err := c.patchStatus(ctx, before, ng); err != nil {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("started an update", "nodegroup", ng.Name, "update", record.Name, "params", record.Spec.Params)
	c.recorder.Eventf(ng, record, corev1.EventTypeNormal, "UpdateStarted", "Update", "Update %s (%s) started: %s", record.Name, record.Spec.Type, describe(record.Spec.Params))
	return c.carryOn(ctx, ng)
}

// carryOn carries out the group's update in progress, and ends it once
// everything it changes is so.
func (c *Controller) carryOn(ctx context.Context, ng *eksv1.NodeGroup) (reconcile.Result, error) {
	record := &eksv1.NodeGroupUpdate{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: ng.Status.ActiveUpdate}, record); err != nil {
		return reconcile.Result{}, fmt.Errorf("reading update %s: %w", ng.Status.ActiveUpdate, err)
	}
	if done(record) {
		return reconcile.Result{}, c.end(ctx, ng, record)
	}
	if record.Spec.Type == eksv1.VersionUpdate {
		return c.rollout(ctx, ng, record)
	}
	change, err := resources.ChangeOf(record.Spec.Params, ng.Status.Applied)
	if err != nil {
		return reconcile.Result{}, c.fail(ctx, ng, record, "Unknown", err.Error(), nil)
	}
	target := change.Apply(ng.Status.Applied)
	waiting, err := c.apply(ctx, ng, change, target)
	var failed *failure
	switch {
	case asFailure(err, &failed):
		return reconcile.Result{}, c.fail(ctx, ng, record, failed.code, failed.message, failed.resources)
	case err != nil:
		return reconcile.Result{}, err
	case waiting != "":
		log.FromContext(ctx).V(1).Info("update waits", "nodegroup", ng.Name, "update", record.Name, "on", waiting)
		return reconcile.Result{RequeueAfter: retry}, nil
	}
	now := metav1.NewTime(c.env.Clock.Now())
	record.Status.Status, record.Status.CompletedAt = eksv1.UpdateSuccessful, &now
	if err := c.client.Status().Update(ctx, record); err != nil {
		return reconcile.Result{}, fmt.Errorf("recording update %s: %w", record.Name, err)
	}
	return reconcile.Result{}, c.end(ctx, ng, record)
}

// end closes the group's side of an ended update: the configuration it
// brought into effect (or, if it failed, the one before), no update in
// progress, and the generation it was for.
func (c *Controller) end(ctx context.Context, ng *eksv1.NodeGroup, record *eksv1.NodeGroupUpdate) error {
	before := ng.DeepCopy()
	version := record.Spec.Type == eksv1.VersionUpdate
	if version && record.Status.Status != eksv1.UpdateSuccessful {
		if err := c.restore(ctx, ng, record); err != nil {
			return err
		}
	}
	if record.Status.Status == eksv1.UpdateSuccessful {
		if version {
			v, err := resources.VersionOf(record.Spec.Params)
			if err != nil {
				return err
			}
			p := record.Status.Rollout
			ng.Status.Applied = resources.ApplyVersion(ng.Status.Applied, v, resources.Image{ID: p.ImageID, ReleaseVersion: p.ReleaseVersion})
			ng.Status.ReleaseVersion = p.ReleaseVersion
		} else {
			change, err := resources.ChangeOf(record.Spec.Params, ng.Status.Applied)
			if err != nil {
				return err
			}
			ng.Status.Applied = change.Apply(ng.Status.Applied)
		}
		// The version of the group's launch template its nodes launch
		// from now, as the cloud has it.
		group, err := c.cloud.GetGroup(ctx, resources.ASGName(ng))
		if err != nil && !cloud.IsNotFound(err) {
			return fmt.Errorf("reading Auto Scaling group %s: %w", resources.ASGName(ng), err)
		}
		if lt := ng.Status.Resources.LaunchTemplate; lt != nil && group != nil {
			lt.Version = group.LaunchTemplate.Version
		}
	}
	ng.Status.ActiveUpdate = ""
	ng.Status.ObservedGeneration = max(ng.Status.ObservedGeneration, record.Spec.Generation)
	now := metav1.NewTime(c.env.Clock.Now())
	ng.Status.ModifiedAt = &now
	if err := c.patchStatus(ctx, before, ng); err != nil {
		return err
	}
	updates.WithLabelValues(string(record.Spec.Type), string(record.Status.Status)).Inc()
	switch record.Status.Status {
	case eksv1.UpdateSuccessful:
		c.recorder.Eventf(ng, record, corev1.EventTypeNormal, "UpdateSuccessful", "Update", "Update %s (%s) succeeded", record.Name, record.Spec.Type)
	default:
		c.recorder.Eventf(ng, record, corev1.EventTypeWarning, "Update"+string(record.Status.Status), "Update", "Update %s (%s) %s: %s", record.Name, record.Spec.Type, record.Status.Status, errorsOf(record))
	}
	return c.prune(ctx, ng)
}

// patchStatus writes the fields of the group's status this controller
// owns, if they changed, on the version of the group they were decided on:
// a decision made on a stale read (an update ended twice) is refused, and
// the reconcile tried again.
func (c *Controller) patchStatus(ctx context.Context, before, ng *eksv1.NodeGroup) error {
	if apiequality.Semantic.DeepEqual(before.Status, ng.Status) {
		return nil
	}
	if err := c.client.Status().Patch(ctx, ng, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("writing the status of node group %s: %w", ng.Name, err)
	}
	return nil
}

// syncTags puts the group's tags on its Auto Scaling group.
func (c *Controller) syncTags(ctx context.Context, ng *eksv1.NodeGroup) error {
	if apiequality.Semantic.DeepEqual(ng.Spec.Tags, ng.Status.Applied.Tags) {
		return nil
	}
	in := cloud.GroupUpdate{Tags: resources.GroupTags(c.env.Cluster, ng, ng.Spec.Tags)}
	for k := range ng.Status.Applied.Tags {
		if _, ok := ng.Spec.Tags[k]; !ok && !resources.Managed(c.env.Cluster, k) {
			in.RemoveTags = append(in.RemoveTags, k)
		}
	}
	if _, err := c.cloud.UpdateGroup(ctx, resources.ASGName(ng), in); err != nil {
		return fmt.Errorf("tagging Auto Scaling group %s: %w", resources.ASGName(ng), err)
	}
	c.recorder.Eventf(ng, nil, corev1.EventTypeNormal, "Tagged", "Update", "Put the node group's %d tags on Auto Scaling group %s", len(ng.Spec.Tags), resources.ASGName(ng))
	return nil
}
