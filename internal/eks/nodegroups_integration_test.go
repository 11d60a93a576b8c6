package eks_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/testenv"
)

const (
	oldRelease = "1.37.2-20261015"
	newRelease = "1.37.2-20261101"
)

// createRequest is a CreateNodegroup request for a small group.
func createRequest(name string, desired int32) *types.CreateNodegroupRequest {
	return &types.CreateNodegroupRequest{
		ClusterName: clusterName, NodegroupName: name, NodeRole: nodeRole, Subnets: nil,
		ScalingConfig:  &types.NodegroupScalingConfig{MinSize: ptr.To[int32](0), MaxSize: ptr.To[int32](3), DesiredSize: ptr.To(desired)},
		ReleaseVersion: oldRelease,
	}
}

// wantError checks that err is an *eks.Error with code, and returns it.
func wantError(t testing.TB, err error, code string) *eks.Error {
	t.Helper()
	e, ok := eks.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	return e
}

func describe(t testing.TB, svc *eks.Service, name string) *types.Nodegroup {
	t.Helper()
	out, err := svc.DescribeNodegroup(context.Background(), &types.DescribeNodegroupRequest{ClusterName: clusterName, NodegroupName: name})
	if err != nil {
		t.Fatal(err)
	}
	return out.Nodegroup
}

func waitNodegroup(t testing.TB, svc *eks.Service, name string, want types.NodegroupStatus) *types.Nodegroup {
	t.Helper()
	var ng *types.Nodegroup
	testenv.Eventually(t, 2*time.Minute, func() error {
		ng = describe(t, svc, name)
		if ng.Status != want {
			return fmt.Errorf("node group %s is %s (health %+v), want %s", name, ng.Status, ng.Health, want)
		}
		return nil
	})
	return ng
}

func waitUpdate(t testing.TB, svc *eks.Service, group, id string, want types.UpdateStatus) *types.Update {
	t.Helper()
	var u *types.Update
	testenv.Eventually(t, 3*time.Minute, func() error {
		out, err := svc.DescribeUpdate(context.Background(), &types.DescribeUpdateRequest{Name: clusterName, NodegroupName: group, UpdateId: id})
		if err != nil {
			return err
		}
		u = out.Update
		switch {
		case u.Status == want:
			return nil
		case u.Status != types.UpdateStatusInProgress:
			t.Fatalf("update %s ended %s (%+v), want %s", id, u.Status, u.Errors, want)
		}
		return fmt.Errorf("update %s is %s", id, u.Status)
	})
	return u
}

func waitGone(t testing.TB, svc *eks.Service, name string) {
	t.Helper()
	testenv.Eventually(t, 2*time.Minute, func() error {
		_, err := svc.DescribeNodegroup(context.Background(), &types.DescribeNodegroupRequest{ClusterName: clusterName, NodegroupName: name})
		if e, ok := eks.AsError(err); ok && e.Code == eks.CodeResourceNotFound {
			return nil
		}
		return errors.Join(err, fmt.Errorf("node group %s is still there", name))
	})
}

func param(u *types.Update, typ types.UpdateParamType) string {
	for _, p := range u.Params {
		if p.Type == typ {
			return p.Value
		}
	}
	return ""
}

// TestIntegration_NodegroupLifecycle: a group created, scaled, relabelled,
// upgraded and deleted through the Service is what the NodeGroup shows,
// with EKS's update records, idempotent requests and in-use errors.
func TestIntegration_NodegroupLifecycle(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	svc := k.svc

	in := createRequest("life", 1)
	in.Labels = map[string]string{"team": "a"}
	in.Tags = map[string]string{"owner": "me"}
	in.ClientRequestToken = "create-1"
	created, err := svc.CreateNodegroup(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup(t, svc, "life") })
	ng := created.Nodegroup
	if ng.Status != types.NodegroupStatusCreating || !strings.HasPrefix(ng.NodegroupArn, "arn:aws:eks:") ||
		!strings.Contains(ng.NodegroupArn, ":nodegroup/"+clusterName+"/life/") || ng.CreatedAt == nil || ng.ClusterName != clusterName {
		t.Errorf("created %+v", ng)
	}
	if ng.Version != "1.37" || ng.ReleaseVersion != oldRelease || len(ng.InstanceTypes) != 1 || ng.CapacityType != types.CapacityTypesOnDemand {
		t.Errorf("EKS's defaults not filled in: version %q, release %q, instance types %v, capacity %q", ng.Version, ng.ReleaseVersion, ng.InstanceTypes, ng.CapacityType)
	}

	// The same request again is the same group; the token with another
	// request, or another token, is refused.
	again, err := svc.CreateNodegroup(ctx, in)
	if err != nil || again.Nodegroup.NodegroupArn != ng.NodegroupArn {
		t.Fatalf("the same request again: %v, %+v", err, again)
	}
	other := *in
	other.Labels = map[string]string{"team": "b"}
	wantError(t, errOf(svc.CreateNodegroup(ctx, &other)), eks.CodeInvalidRequest)
	other = *in
	other.ClientRequestToken = "create-2"
	e := wantError(t, errOf(svc.CreateNodegroup(ctx, &other)), eks.CodeResourceInUse)
	if e.Message != "NodeGroup already exists with name life and cluster name "+clusterName || e.NodegroupName != "life" {
		t.Errorf("in use: %+v", e)
	}

	active := waitNodegroup(t, svc, "life", types.NodegroupStatusActive)
	if active.Resources == nil || len(active.Resources.AutoScalingGroups) != 1 || !strings.HasPrefix(active.Resources.AutoScalingGroups[0].Name, "eks-life-") {
		t.Errorf("resources %+v", active.Resources)
	}
	list, err := svc.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: clusterName})
	if err != nil || !slices.Contains(list.Nodegroups, "life") {
		t.Errorf("list %+v, %v", list, err)
	}

	// A config update: its id at once, the same for the same request.
	up := &types.UpdateNodegroupConfigRequest{ClusterName: clusterName, NodegroupName: "life", ClientRequestToken: "scale-1",
		ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: ptr.To[int32](2)},
		Labels:        &types.UpdateLabelsPayload{AddOrUpdateLabels: map[string]string{"tier": "web"}, RemoveLabels: []string{"team"}}}
	started, err := svc.UpdateNodegroupConfig(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	u := started.Update
	if u.Type != types.UpdateTypeConfigUpdate || u.Status != types.UpdateStatusInProgress || param(u, "DesiredSize") != "2" ||
		param(u, "LabelsToAdd") != `{"tier":"web"}` || param(u, "LabelsToRemove") != `["team"]` {
		t.Errorf("update %+v", u)
	}
	described, err := svc.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: clusterName, NodegroupName: "life", UpdateId: u.Id})
	if err != nil || described.Update.Id != u.Id {
		t.Fatalf("describing update %s at once: %v", u.Id, err)
	}
	replayed, err := svc.UpdateNodegroupConfig(ctx, up)
	if err != nil || replayed.Update.Id != u.Id {
		t.Errorf("the same update request again: %v, %+v", err, replayed)
	}
	e = wantError(t, errOf(svc.UpdateNodegroupConfig(ctx, &types.UpdateNodegroupConfigRequest{ClusterName: clusterName, NodegroupName: "life",
		ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: ptr.To[int32](3)}})), eks.CodeResourceInUse)
	if e.NodegroupName != "life" || e.ClusterName != clusterName {
		t.Errorf("in-use context %+v", e)
	}
	waitUpdate(t, svc, "life", u.Id, types.UpdateStatusSuccessful)
	done := waitNodegroup(t, svc, "life", types.NodegroupStatusActive)
	if *done.ScalingConfig.DesiredSize != 2 || done.Labels["tier"] != "web" || done.Labels["team"] != "" || done.Tags["owner"] != "me" {
		t.Errorf("after the update: scaling %+v, labels %v, tags %v", done.ScalingConfig, done.Labels, done.Tags)
	}
	nothing := &types.UpdateNodegroupConfigRequest{ClusterName: clusterName, NodegroupName: "life", ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: ptr.To[int32](2)}}
	wantError(t, errOf(svc.UpdateNodegroupConfig(ctx, nothing)), eks.CodeInvalidParameter)

	// A version update to the newest release of the version it runs.
	version, err := svc.UpdateNodegroupVersion(ctx, &types.UpdateNodegroupVersionRequest{ClusterName: clusterName, NodegroupName: "life", ClientRequestToken: "v-1"})
	if err != nil {
		t.Fatal(err)
	}
	v := version.Update
	if v.Type != types.UpdateTypeVersionUpdate || param(v, "Version") != "1.37" || param(v, "ReleaseVersion") != newRelease {
		t.Errorf("version update %+v", v)
	}
	if p, err := svc.DescribeUpdateProgress(ctx, clusterName, "life", v.Id); err != nil || p.Update.Id != v.Id || p.EvictionTimeout <= 0 {
		t.Errorf("the version update's progress at once: %v, %+v", err, p)
	}
	waitUpdate(t, svc, "life", v.Id, types.UpdateStatusSuccessful)
	// What kdp's CLI shows beyond EKS's status word: the rollout as the
	// controller left it, and the group's nodes counted.
	p, err := svc.DescribeUpdateProgress(ctx, clusterName, "life", v.Id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Update.Status != types.UpdateStatusSuccessful || p.Phase != "ScaleDown" || p.PhaseStartedAt.IsZero() ||
		p.NodesToReplace != 2 || p.NodesReplaced != 2 || len(p.Draining) != 0 || p.EvictionTimeout != resources.EvictionTimeout/100 {
		t.Errorf("the version update's progress when it is over: %+v", p)
	}
	if _, err := svc.DescribeUpdateProgress(ctx, clusterName, "life", "no-such-update"); !eks.IsNotFound(err) {
		t.Errorf("the progress of no update: %v, want ResourceNotFoundException", err)
	}
	if _, err := svc.DescribeUpdateProgress(ctx, "another", "life", v.Id); !eks.IsNotFound(err) {
		t.Errorf("the progress of another cluster's update: %v, want ResourceNotFoundException", err)
	}
	upgraded := waitNodegroup(t, svc, "life", types.NodegroupStatusActive)
	if np, err := svc.DescribeNodegroupProgress(ctx, clusterName, "life"); err != nil || np.ReadyNodes != 2 || np.Nodes != 2 || np.Instances != 2 || np.Nodegroup.NodegroupName != "life" {
		t.Errorf("the group's progress: %v, %+v", err, np)
	}
	if upgraded.ReleaseVersion != newRelease {
		t.Errorf("release %s after the update, want %s", upgraded.ReleaseVersion, newRelease)
	}
	wantError(t, errOf(svc.UpdateNodegroupVersion(ctx, &types.UpdateNodegroupVersionRequest{ClusterName: clusterName, NodegroupName: "life"})), eks.CodeInvalidParameter)
	ids, err := svc.ListUpdates(ctx, &types.ListUpdatesRequest{Name: clusterName, NodegroupName: "life"})
	if err != nil || !slices.Equal(ids.UpdateIds, []string{u.Id, v.Id}) {
		t.Errorf("updates %+v, %v; want [%s %s]", ids, err, u.Id, v.Id)
	}

	deleted, err := svc.DeleteNodegroup(ctx, &types.DeleteNodegroupRequest{ClusterName: clusterName, NodegroupName: "life"})
	if err != nil || deleted.Nodegroup.Status != types.NodegroupStatusDeleting {
		t.Fatalf("delete: %v, %+v", err, deleted)
	}
	if again, err := svc.DeleteNodegroup(ctx, &types.DeleteNodegroupRequest{ClusterName: clusterName, NodegroupName: "life"}); err == nil {
		if again.Nodegroup.Status != types.NodegroupStatusDeleting {
			t.Errorf("deleting again: %+v", again.Nodegroup)
		}
	} else {
		wantError(t, err, eks.CodeResourceNotFound) // gone already
	}
	waitGone(t, svc, "life")
}

// TestIntegration_NodegroupErrors: requests kdp refuses get EKS's codes,
// context members and the request's members they are about, and change
// nothing.
func TestIntegration_NodegroupErrors(t *testing.T) {
	k := start(t, "")
	ctx := context.Background()
	svc := k.svc

	e := wantError(t, errOf(svc.DescribeNodegroup(ctx, &types.DescribeNodegroupRequest{ClusterName: "other", NodegroupName: "x"})), eks.CodeResourceNotFound)
	if e.ClusterName != "other" || e.Message != "No cluster found for name: other." {
		t.Errorf("another cluster: %+v", e)
	}
	e = wantError(t, errOf(svc.DescribeNodegroup(ctx, &types.DescribeNodegroupRequest{ClusterName: clusterName, NodegroupName: "nope"})), eks.CodeResourceNotFound)
	if e.NodegroupName != "nope" || e.ClusterName != clusterName || e.Message != "No node group found for name: nope." {
		t.Errorf("a missing group: %+v", e)
	}

	bad := createRequest("bad", 1)
	bad.ScalingConfig = &types.NodegroupScalingConfig{MinSize: ptr.To[int32](3), MaxSize: ptr.To[int32](2), DesiredSize: ptr.To[int32](1)}
	bad.InstanceTypes = []string{"m9.nope"}
	e = wantError(t, errOf(svc.CreateNodegroup(ctx, bad)), eks.CodeInvalidParameter)
	for _, f := range []string{"scalingConfig.minSize", "instanceTypes[0]"} {
		if !slices.ContainsFunc(e.Fields, func(x string) bool { return strings.HasPrefix(x, f) }) {
			t.Errorf("fields %v: want %s (message %q)", e.Fields, f, e.Message)
		}
	}
	if strings.Contains(e.Message, "spec.") || e.NodegroupName != "bad" {
		t.Errorf("message %q (context %+v): want the EKS API's member names", e.Message, e)
	}
	partial := createRequest("partial", 1)
	partial.ScalingConfig.MinSize = nil
	if e := wantError(t, errOf(svc.CreateNodegroup(ctx, partial)), eks.CodeInvalidParameter); !slices.Equal(e.Fields, []string{"scalingConfig"}) {
		t.Errorf("a partial scalingConfig: %+v", e)
	}
	badName := createRequest("Bad_Name!", 1)
	if e := wantError(t, errOf(svc.CreateNodegroup(ctx, badName)), eks.CodeInvalidParameter); !slices.Contains(e.Fields, "nodegroupName") {
		t.Errorf("a bad name: %+v", e)
	}

	// Pages of a list.
	for _, name := range []string{"page-a", "page-b", "page-c"} {
		if _, err := svc.CreateNodegroup(ctx, createRequest(name, 0)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cleanup(t, svc, name) })
	}
	var names []string
	token := ""
	for range 5 {
		page, err := svc.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: clusterName, MaxResults: ptr.To[int32](2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Nodegroups) > 2 {
			t.Errorf("a page of %d, want at most 2", len(page.Nodegroups))
		}
		names = append(names, page.Nodegroups...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if !slices.Equal(names, []string{"page-a", "page-b", "page-c"}) {
		t.Errorf("pages gave %v", names)
	}
	wantError(t, errOf(svc.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: clusterName, MaxResults: ptr.To[int32](0)})), eks.CodeInvalidParameter)
	wantError(t, errOf(svc.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: clusterName, NodegroupName: "page-a", UpdateId: "0b0b0b0b-0000-0000-0000-123456789012"})), eks.CodeResourceNotFound)
	if out, err := svc.ListUpdates(ctx, &types.ListUpdatesRequest{Name: clusterName}); err != nil || len(out.UpdateIds) != 0 {
		t.Errorf("the cluster's updates: %+v, %v; want none", out, err)
	}
	for _, name := range []string{"page-a", "page-b", "page-c"} {
		if _, err := svc.DeleteNodegroup(ctx, &types.DeleteNodegroupRequest{ClusterName: clusterName, NodegroupName: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"page-a", "page-b", "page-c"} {
		waitGone(t, svc, name)
	}
}

// cleanup deletes a group a test made (if it is still there) and waits
// until it is gone.
func cleanup(t testing.TB, svc *eks.Service, name string) {
	_, err := svc.DeleteNodegroup(context.Background(), &types.DeleteNodegroupRequest{ClusterName: clusterName, NodegroupName: name})
	if e, ok := eks.AsError(err); ok && e.Code == eks.CodeResourceNotFound {
		return
	}
	waitGone(t, svc, name)
}

// errOf drops a result, keeping its error.
func errOf[T any](_ T, err error) error { return err }
