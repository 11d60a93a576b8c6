package update

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// ensureRecord writes the record of an update, or finds it: its name (the
// update's id) is the same for the same group and generation (a
// ConfigUpdate) or request (a VersionUpdate), so a crash between writing
// it and naming it in the group's status does not make a second one.
func (c *Controller) ensureRecord(ctx context.Context, ng *eksv1.NodeGroup, record *eksv1.NodeGroupUpdate) (*eksv1.NodeGroupUpdate, error) {
	record.Labels = map[string]string{eksv1.LabelUpdateNodegroup: ng.Name}
	record.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: eksv1.GroupVersion.String(), Kind: "NodeGroup", Name: ng.Name, UID: ng.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	err := c.client.Create(ctx, record)
	if apierrors.IsAlreadyExists(err) {
		err = c.client.Get(ctx, client.ObjectKeyFromObject(record), record)
	}
	if err != nil {
		return nil, fmt.Errorf("writing the record of update %s: %w", record.Name, err)
	}
	if record.Status.Status == "" {
		record.Status.Status = eksv1.UpdateInProgress
		if err := c.client.Status().Update(ctx, record); err != nil {
			return nil, fmt.Errorf("writing the status of update %s: %w", record.Name, err)
		}
	}
	return record, nil
}

// cancelOrphans ends as Cancelled the records of the group's updates in
// progress other than keep that no group status names: a record written
// just before a crash (or a conflict) whose request changed before it was
// started. Nothing of it was carried out.
func (c *Controller) cancelOrphans(ctx context.Context, ng *eksv1.NodeGroup, keep string) error {
	records := &eksv1.NodeGroupUpdateList{}
	if err := c.client.List(ctx, records, client.MatchingLabels{eksv1.LabelUpdateNodegroup: ng.Name}); err != nil {
		return fmt.Errorf("listing the updates of %s: %w", ng.Name, err)
	}
	for i := range records.Items {
		r := &records.Items[i]
		if done(r) || r.Name == keep || r.Name == ng.Status.ActiveUpdate {
			continue
		}
		now := metav1.NewTime(c.env.Clock.Now())
		r.Status.Status, r.Status.CompletedAt = eksv1.UpdateCancelled, &now
		if err := c.client.Status().Update(ctx, r); err != nil {
			return fmt.Errorf("cancelling update %s, never started: %w", r.Name, err)
		}
		log.FromContext(ctx).Info("cancelled an update that was recorded but never started", "nodegroup", ng.Name, "update", r.Name)
	}
	return nil
}

// done reports whether an update has ended.
func done(r *eksv1.NodeGroupUpdate) bool {
	return r.Status.Status != "" && r.Status.Status != eksv1.UpdateInProgress
}

// fail ends an update as Failed, with EKS's error code: the group keeps
// the configuration it had.
func (c *Controller) fail(ctx context.Context, ng *eksv1.NodeGroup, r *eksv1.NodeGroupUpdate, code, message string, ids []string) error {
	now := metav1.NewTime(c.env.Clock.Now())
	r.Status.Status, r.Status.CompletedAt = eksv1.UpdateFailed, &now
	r.Status.Errors = []eksv1.ErrorDetail{{ErrorCode: code, ErrorMessage: message, ResourceIDs: ids}}
	if err := c.client.Status().Update(ctx, r); err != nil {
		return fmt.Errorf("recording the failure of update %s: %w", r.Name, err)
	}
	return c.end(ctx, ng, r)
}

// prune deletes the oldest ended records of a group beyond History.
func (c *Controller) prune(ctx context.Context, ng *eksv1.NodeGroup) error {
	records := &eksv1.NodeGroupUpdateList{}
	if err := c.client.List(ctx, records, client.MatchingLabels{eksv1.LabelUpdateNodegroup: ng.Name}); err != nil {
		return fmt.Errorf("listing the updates of %s: %w", ng.Name, err)
	}
	for _, r := range prunable(records.Items) {
		if err := c.client.Delete(ctx, &r, client.Preconditions{UID: &r.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting the old record of update %s: %w", r.Name, err)
		}
		log.FromContext(ctx).V(1).Info("pruned an old update record", "nodegroup", ng.Name, "update", r.Name)
	}
	return nil
}

// prunable are the records of a group to delete: the ended ones among
// those beyond the newest History, oldest (lowest generation) first.
func prunable(records []eksv1.NodeGroupUpdate) []eksv1.NodeGroupUpdate {
	if len(records) <= History {
		return nil
	}
	sorted := slices.Clone(records)
	slices.SortFunc(sorted, func(a, b eksv1.NodeGroupUpdate) int {
		if a.Spec.Generation != b.Spec.Generation {
			return int(a.Spec.Generation - b.Spec.Generation)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var out []eksv1.NodeGroupUpdate
	for _, r := range sorted[:len(sorted)-History] {
		if done(&r) {
			out = append(out, r)
		}
	}
	return out
}

// describe writes an update's params for an event.
func describe(params []eksv1.UpdateParam) string {
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = string(p.Type) + "=" + p.Value
	}
	return strings.Join(parts, ", ")
}

func errorsOf(r *eksv1.NodeGroupUpdate) string {
	parts := make([]string, len(r.Status.Errors))
	for i, e := range r.Status.Errors {
		parts[i] = e.ErrorCode + ": " + e.ErrorMessage
	}
	return strings.Join(parts, "; ")
}
