package eks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/validation"
)

// conflictRetries is how often an update of a group is tried again when
// the group changed between reading and writing it.
const conflictRetries = 5

// UpdateNodegroupConfig changes a group's labels, taints, sizes, update
// or repair configuration: it writes the change into the NodeGroup's spec
// and the node group controllers carry it out as a ConfigUpdate, whose id
// (resources.UpdateID: the group's uid and the spec's new generation) the
// answer names before the controller has even seen the change.
func (s *Service) UpdateNodegroupConfig(ctx context.Context, in *types.UpdateNodegroupConfigRequest) (*types.UpdateNodegroupConfigResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	ectx := Error{ClusterName: in.ClusterName, NodegroupName: in.NodegroupName}
	if in.WarmPoolConfig != nil {
		return nil, withContext(invalidParameter("warmPoolConfig", "warmPoolConfig is not supported by kdp"), ectx)
	}
	body := *in
	body.ClientRequestToken = ""
	req := request(in.ClientRequestToken, body, s.clock.Now())
	for range conflictRetries {
		ng, gerr := s.getNodegroup(ctx, in.NodegroupName, true)
		if gerr != nil {
			return nil, gerr
		}
		if done, update, e := s.replayUpdate(ctx, ng, req, AnnotationConfigRequest, ectx); done {
			return &types.UpdateNodegroupConfigResponse{Update: update}, e.orNil()
		}
		if why := busy(ng); why != "" {
			return nil, withContext(errorf(CodeResourceInUse, "%s", why), ectx)
		}
		spec := ng.Spec.DeepCopy()
		if e := applyConfig(spec, in); e != nil {
			return nil, withContext(e, ectx)
		}
		if !validation.Changes(spec, &ng.Spec) {
			return nil, withContext(invalidParameter("", "the request changes nothing of node group %s: it already has that configuration", ng.Name), ectx)
		}
		updated := ng.DeepCopy()
		updated.Spec = *spec
		req.Update = resources.UpdateID(ng, ng.Generation+1)
		updated.Annotations = req.annotate(updated.Annotations, AnnotationConfigRequest)
		err := s.c.Update(ctx, updated, s.fields)
		if apierrors.IsConflict(err) && !strings.Contains(err.Error(), "ResourceInUse:") {
			continue // changed meanwhile: read it again
		}
		if err != nil {
			return nil, fromKubernetes(err, ectx, "updating node group "+ng.Name)
		}
		if updated.Generation != ng.Generation+1 {
			return nil, serverError(fmt.Errorf("generation %d after %d", updated.Generation, ng.Generation), "updating node group "+ng.Name)
		}
		applied := updated.Status.Applied
		return &types.UpdateNodegroupConfigResponse{Update: &types.Update{
			Id: req.Update, Status: types.UpdateStatusInProgress, Type: types.UpdateTypeConfigUpdate,
			Params: paramsOut(resources.Diff(applied, &updated.Spec).Params(applied)), CreatedAt: types.NewTimestamp(req.At),
		}}, nil
	}
	return nil, withContext(errorf(CodeResourceInUse, "node group %s kept changing while this request tried to update it: try again", in.NodegroupName), ectx)
}

// UpdateNodegroupVersion moves a group to a Kubernetes version, an image
// release, or a version of its launch template (with no version, to the
// newest release of the version it runs), as a VersionUpdate: kdp writes
// the target into the NodeGroup's spec, with the request's token and
// force as annotations, and the controllers roll it out in EKS's four
// phases. A token of a failed update's request, used again with the same
// request, answers that update; a new token tries the same target again.
func (s *Service) UpdateNodegroupVersion(ctx context.Context, in *types.UpdateNodegroupVersionRequest) (*types.UpdateNodegroupVersionResponse, error) {
	if err := s.checkCluster(in.ClusterName); err != nil {
		return nil, err
	}
	ectx := Error{ClusterName: in.ClusterName, NodegroupName: in.NodegroupName}
	body := *in
	body.ClientRequestToken = ""
	req := request(in.ClientRequestToken, body, s.clock.Now())
	token := in.ClientRequestToken
	if token == "" {
		token = uuid.NewString() // every request without one is a new one
	}
	for range conflictRetries {
		ng, gerr := s.getNodegroup(ctx, in.NodegroupName, true)
		if gerr != nil {
			return nil, gerr
		}
		if done, update, e := s.replayUpdate(ctx, ng, req, AnnotationVersionRequest, ectx); done {
			return &types.UpdateNodegroupVersionResponse{Update: update}, e.orNil()
		}
		if why := busy(ng); why != "" {
			return nil, withContext(errorf(CodeResourceInUse, "%s", why), ectx)
		}
		applied := ng.Status.Applied
		spec := ng.Spec.DeepCopy()
		if e := s.target(ctx, ng, spec, in); e != nil {
			return nil, withContext(e, ectx)
		}
		v, pending := resources.PendingVersion(applied, spec)
		if !pending {
			return nil, withContext(invalidParameter("", "node group %s already runs %s: there is nothing to update to", ng.Name, describeVersion(applied)), ectx)
		}
		updated := ng.DeepCopy()
		updated.Spec = *spec
		req.Update = resources.VersionUpdateID(ng, applied, v, in.Force, token)
		updated.Annotations = req.annotate(updated.Annotations, AnnotationVersionRequest)
		updated.Annotations[eksv1.AnnotationUpdateRequest] = token
		if in.Force {
			updated.Annotations[eksv1.AnnotationForceUpdate] = "true"
		} else {
			delete(updated.Annotations, eksv1.AnnotationForceUpdate)
		}
		err := s.c.Update(ctx, updated, s.fields)
		if apierrors.IsConflict(err) && !strings.Contains(err.Error(), "ResourceInUse:") {
			continue
		}
		if err != nil {
			return nil, fromKubernetes(err, ectx, "updating node group "+ng.Name)
		}
		return &types.UpdateNodegroupVersionResponse{Update: &types.Update{
			Id: req.Update, Status: types.UpdateStatusInProgress, Type: types.UpdateTypeVersionUpdate,
			Params: paramsOut(v.Params()), CreatedAt: types.NewTimestamp(req.At),
		}}, nil
	}
	return nil, withContext(errorf(CodeResourceInUse, "node group %s kept changing while this request tried to update it: try again", in.NodegroupName), ectx)
}

// target writes into spec the version a version update request asks for.
func (s *Service) target(ctx context.Context, ng *eksv1.NodeGroup, spec *eksv1.NodeGroupSpec, in *types.UpdateNodegroupVersionRequest) *Error {
	applied := ng.Status.Applied
	if lt := in.LaunchTemplate; lt != nil {
		have := spec.LaunchTemplate
		if have == nil {
			return invalidParameter("launchTemplate", "node group %s was created without a launch template, and a group cannot move to one (as on EKS): create a new node group on the template", ng.Name)
		}
		id, name := have.ID, have.Name
		if r := ng.Status.Resources.LaunchTemplate; r != nil {
			id, name = r.ID, r.Name
		}
		if (lt.Id != "" && lt.Id != id) || (lt.Name != "" && lt.Name != name) {
			return invalidParameter("launchTemplate", "node group %s runs on launch template %s (%s): an update may change its version, not the template", ng.Name, name, id)
		}
		version := lt.Version
		if version == "" {
			t, err := s.cloud.GetLaunchTemplate(ctx, cloud.TemplateRef{ID: have.ID, Name: have.Name})
			if err != nil {
				return serverError(err, "reading launch template "+name)
			}
			version = fmt.Sprint(t.DefaultVersion)
		}
		spec.LaunchTemplate = &eksv1.LaunchTemplateSpecification{ID: have.ID, Name: have.Name, Version: version}
	}
	spec.Version = applied.Version
	if in.Version != "" {
		spec.Version = in.Version
	}
	custom := spec.AMIType == eksv1.CustomAMI || applied.ReleaseVersion == applied.ImageID
	switch {
	case custom && in.ReleaseVersion != "":
		return invalidParameter("releaseVersion", "node group %s runs a custom image (of its launch template): it has no EKS release to update to; update the template's version", ng.Name)
	case custom:
	case in.ReleaseVersion != "":
		spec.ReleaseVersion = in.ReleaseVersion
	default:
		release, err := s.newestRelease(ctx, string(spec.AMIType), spec.Version)
		if err != nil {
			return err
		}
		spec.ReleaseVersion = release
	}
	return nil
}

// newestRelease is the newest image release of the AMI type for the
// Kubernetes version (minor).
func (s *Service) newestRelease(ctx context.Context, amiType, version string) (string, *Error) {
	images, err := s.cloud.Images(ctx)
	if err != nil {
		return "", serverError(err, "reading the cloud's images")
	}
	var best *cloud.Image
	for i, img := range images {
		if img.Type == amiType && validation.Minor(img.KubernetesVersion) == version && (best == nil || img.Released.After(best.Released)) {
			best = &images[i]
		}
	}
	if best == nil {
		return "", invalidParameter("version", "there is no %s image release of Kubernetes %s (see kdp sim images)", amiType, version)
	}
	return best.ReleaseVersion, nil
}

func describeVersion(a *eksv1.AppliedConfig) string {
	s := "Kubernetes " + a.Version + ", release " + a.ReleaseVersion
	if a.LaunchTemplateVersion != "" {
		s += ", launch template version " + a.LaunchTemplateVersion
	}
	return s
}

// replayUpdate answers a request made before (same token): done with the
// update it started if the request is the same, done with an
// InvalidRequestException if it is not; not done if the token is new.
func (s *Service) replayUpdate(ctx context.Context, ng *eksv1.NodeGroup, req requestRecord, key string, ectx Error) (bool, *types.Update, *Error) {
	before := recordOf(ng.Annotations[key])
	if req.Token == "" || before.Token != req.Token {
		return false, nil, nil
	}
	if e := req.replay(ng.Annotations[key], ectx); e != nil {
		return true, nil, e
	}
	u, e := s.update(ctx, ng, before.Update)
	return true, u, e
}

// busy says why a group cannot be updated now ("" if it can): being
// deleted, not ACTIVE (or DEGRADED), an update in progress, or a change
// of its spec that its controller has not taken up yet.
func busy(ng *eksv1.NodeGroup) string {
	if why := validation.InUse(ng); why != "" {
		return why
	}
	if ng.Generation > ng.Status.ObservedGeneration {
		return fmt.Sprintf("node group %s has a change that is being taken up: update it once that has started (DescribeUpdate, or kubectl get ngu)", ng.Name)
	}
	return ""
}

// applyConfig writes an UpdateNodegroupConfig request into spec.
func applyConfig(spec *eksv1.NodeGroupSpec, in *types.UpdateNodegroupConfigRequest) *Error {
	if l := in.Labels; l != nil {
		for _, k := range l.RemoveLabels {
			if _, both := l.AddOrUpdateLabels[k]; both {
				return invalidParameter("labels", "label %s is in both addOrUpdateLabels and removeLabels", k)
			}
		}
		if len(l.AddOrUpdateLabels) > 0 && spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		for k, v := range l.AddOrUpdateLabels {
			spec.Labels[k] = v
		}
		for _, k := range l.RemoveLabels {
			delete(spec.Labels, k)
		}
	}
	if t := in.Taints; t != nil {
		for _, r := range t.RemoveTaints {
			for _, a := range t.AddOrUpdateTaints {
				if a.Key == r.Key && (r.Effect == "" || a.Effect == r.Effect) {
					return invalidParameter("taints", "taint %s:%s is in both addOrUpdateTaints and removeTaints", r.Key, r.Effect)
				}
			}
		}
		for _, a := range t.AddOrUpdateTaints {
			taint := eksv1.Taint{Key: a.Key, Value: a.Value, Effect: eksv1.TaintEffect(a.Effect)}
			if i := slices.IndexFunc(spec.Taints, func(x eksv1.Taint) bool { return x.Key == taint.Key && x.Effect == taint.Effect }); i >= 0 {
				spec.Taints[i] = taint
			} else {
				spec.Taints = append(spec.Taints, taint)
			}
		}
		for _, r := range t.RemoveTaints {
			spec.Taints = slices.DeleteFunc(spec.Taints, func(x eksv1.Taint) bool {
				return x.Key == r.Key && (r.Effect == "" || string(x.Effect) == string(r.Effect))
			})
		}
	}
	if c := in.ScalingConfig; c != nil {
		if spec.ScalingConfig == nil {
			spec.ScalingConfig = &eksv1.ScalingConfig{}
		}
		if c.MinSize != nil {
			spec.ScalingConfig.MinSize = *c.MinSize
		}
		if c.MaxSize != nil {
			spec.ScalingConfig.MaxSize = *c.MaxSize
		}
		if c.DesiredSize != nil {
			spec.ScalingConfig.DesiredSize = *c.DesiredSize
		}
	}
	if c := in.UpdateConfig; c != nil {
		u := &eksv1.UpdateConfig{}
		if spec.UpdateConfig != nil {
			u = spec.UpdateConfig.DeepCopy()
		}
		if c.MaxUnavailable != nil || c.MaxUnavailablePercentage != nil {
			u.MaxUnavailable, u.MaxUnavailablePercentage = c.MaxUnavailable, c.MaxUnavailablePercentage
		}
		if c.UpdateStrategy != "" {
			u.UpdateStrategy = string(c.UpdateStrategy)
		}
		spec.UpdateConfig = u
	}
	if c := in.NodeRepairConfig; c != nil {
		r := &eksv1.NodeRepairConfig{}
		if spec.NodeRepairConfig != nil {
			r = spec.NodeRepairConfig.DeepCopy()
		}
		given := repairConfigOf(c)
		if given.Enabled != nil {
			r.Enabled = given.Enabled
		}
		if given.MaxUnhealthyNodeThresholdCount != nil || given.MaxUnhealthyNodeThresholdPercentage != nil {
			r.MaxUnhealthyNodeThresholdCount, r.MaxUnhealthyNodeThresholdPercentage = given.MaxUnhealthyNodeThresholdCount, given.MaxUnhealthyNodeThresholdPercentage
		}
		if given.MaxParallelNodesRepairedCount != nil || given.MaxParallelNodesRepairedPercentage != nil {
			r.MaxParallelNodesRepairedCount, r.MaxParallelNodesRepairedPercentage = given.MaxParallelNodesRepairedCount, given.MaxParallelNodesRepairedPercentage
		}
		if c.NodeRepairConfigOverrides != nil {
			r.NodeRepairConfigOverrides = given.NodeRepairConfigOverrides
		}
		spec.NodeRepairConfig = r
	}
	return nil
}

// DescribeUpdate answers one update of a node group (kdp has no updates
// of the cluster or of add-ons).
func (s *Service) DescribeUpdate(ctx context.Context, in *types.DescribeUpdateRequest) (*types.DescribeUpdateResponse, error) {
	if err := s.checkCluster(in.Name); err != nil {
		return nil, err
	}
	notFound := &Error{Code: CodeResourceNotFound, ClusterName: in.Name, NodegroupName: in.NodegroupName, Message: "No update found for ID: " + in.UpdateId + "."}
	if in.NodegroupName == "" || in.AddonName != "" || in.CapabilityName != "" {
		return nil, notFound
	}
	ng, err := s.getNodegroup(ctx, in.NodegroupName, false)
	if err != nil {
		return nil, err
	}
	u, err := s.update(ctx, ng, in.UpdateId)
	if err != nil {
		return nil, err
	}
	return &types.DescribeUpdateResponse{Update: u}, nil
}

// update is one update of the group: its record, or, for the update an
// EKS API request has just asked for and the controller has not recorded
// yet, what the request started.
func (s *Service) update(ctx context.Context, ng *eksv1.NodeGroup, id string) (*types.Update, *Error) {
	notFound := &Error{Code: CodeResourceNotFound, ClusterName: s.clus.Name, NodegroupName: ng.Name, Message: "No update found for ID: " + id + "."}
	record := &eksv1.NodeGroupUpdate{}
	err := s.getFresh(ctx, id, record)
	switch {
	case err == nil && record.Spec.NodegroupName == ng.Name:
		return updateOut(record), nil
	case err != nil && !apierrors.IsNotFound(err):
		return nil, serverError(err, "reading update "+id)
	}
	if u := pending(ng); u != nil && u.Id == id {
		return u, nil
	}
	// The cache may not have the request's write yet.
	live := &eksv1.NodeGroup{}
	if err := s.c.Get(ctx, client.ObjectKeyFromObject(ng), live); err == nil {
		if u := pending(live); u != nil && u.Id == id {
			return u, nil
		}
	}
	return nil, notFound
}

// pending is the update an EKS API request started that the controller
// has not recorded yet, if there is one.
func pending(ng *eksv1.NodeGroup) *types.Update {
	applied := ng.Status.Applied
	if applied == nil || ng.Status.ActiveUpdate != "" {
		return nil
	}
	if r := recordOf(ng.Annotations[AnnotationConfigRequest]); ng.Generation > ng.Status.ObservedGeneration && r.Update == resources.UpdateID(ng, ng.Generation) {
		return &types.Update{Id: r.Update, Status: types.UpdateStatusInProgress, Type: types.UpdateTypeConfigUpdate,
			Params: paramsOut(resources.Diff(applied, &ng.Spec).Params(applied)), CreatedAt: types.NewTimestamp(r.At)}
	}
	if v, ok := resources.PendingVersion(applied, &ng.Spec); ok {
		r := recordOf(ng.Annotations[AnnotationVersionRequest])
		id := resources.VersionUpdateID(ng, applied, v, ng.Annotations[eksv1.AnnotationForceUpdate] == "true", ng.Annotations[eksv1.AnnotationUpdateRequest])
		if r.Update == id {
			return &types.Update{Id: id, Status: types.UpdateStatusInProgress, Type: types.UpdateTypeVersionUpdate,
				Params: paramsOut(v.Params()), CreatedAt: types.NewTimestamp(r.At)}
		}
	}
	return nil
}

func updateOut(r *eksv1.NodeGroupUpdate) *types.Update {
	u := &types.Update{
		Id: r.Name, Status: types.UpdateStatus(r.Status.Status), Type: types.UpdateType(r.Spec.Type),
		Params: paramsOut(r.Spec.Params), CreatedAt: types.NewTimestamp(r.CreationTimestamp.Time),
	}
	if u.Status == "" {
		u.Status = types.UpdateStatusInProgress
	}
	for _, e := range r.Status.Errors {
		u.Errors = append(u.Errors, types.ErrorDetail{ErrorCode: types.ErrorCode(e.ErrorCode), ErrorMessage: e.ErrorMessage, ResourceIds: e.ResourceIDs})
	}
	return u
}

func paramsOut(ps []eksv1.UpdateParam) []types.UpdateParam {
	var out []types.UpdateParam
	for _, p := range ps {
		out = append(out, types.UpdateParam{Type: types.UpdateParamType(p.Type), Value: p.Value})
	}
	return out
}

// ListUpdates answers the ids of a node group's updates, oldest first (the
// records kdp keeps: the newest 100 of each group); the cluster and its
// add-ons have none.
func (s *Service) ListUpdates(ctx context.Context, in *types.ListUpdatesRequest) (*types.ListUpdatesResponse, error) {
	if err := s.checkCluster(in.Name); err != nil {
		return nil, err
	}
	var ids []string
	if in.NodegroupName != "" && in.AddonName == "" && in.CapabilityName == "" {
		ng, err := s.getNodegroup(ctx, in.NodegroupName, false)
		if err != nil {
			return nil, err
		}
		records := &eksv1.NodeGroupUpdateList{}
		if err := s.c.List(ctx, records, client.MatchingLabels{eksv1.LabelUpdateNodegroup: ng.Name}); err != nil {
			return nil, serverError(err, "listing the updates of "+ng.Name)
		}
		type entry struct {
			id         string
			at         time.Time
			generation int64
		}
		var all []entry
		for _, r := range records.Items {
			all = append(all, entry{r.Name, r.CreationTimestamp.Time, r.Spec.Generation})
		}
		if u := pending(ng); u != nil && !slices.ContainsFunc(all, func(e entry) bool { return e.id == u.Id }) {
			all = append(all, entry{u.Id, u.CreatedAt.Time, ng.Generation})
		}
		// Oldest first: creation times are whole seconds, generations order
		// the updates of one second.
		slices.SortFunc(all, func(a, b entry) int {
			if c := a.at.Truncate(time.Second).Compare(b.at.Truncate(time.Second)); c != 0 {
				return c
			}
			if a.generation != b.generation {
				return int(a.generation - b.generation)
			}
			return strings.Compare(a.id, b.id)
		})
		for _, e := range all {
			ids = append(ids, e.id)
		}
	}
	page, next, perr := pageOf(ids, in.MaxResults, in.NextToken)
	if perr != nil {
		return nil, perr
	}
	return &types.ListUpdatesResponse{UpdateIds: page, NextToken: next}, nil
}

// withContext fills in an error's context members.
func withContext(e *Error, ctx Error) *Error {
	if e.ClusterName == "" {
		e.ClusterName = ctx.ClusterName
	}
	if e.NodegroupName == "" {
		e.NodegroupName = ctx.NodegroupName
	}
	if e.FargateProfileName == "" {
		e.FargateProfileName = ctx.FargateProfileName
	}
	return e
}

// orNil is e as an error: nil when e is nil (a nil *Error is not a nil
// error).
func (e *Error) orNil() error {
	if e == nil {
		return nil
	}
	return e
}
