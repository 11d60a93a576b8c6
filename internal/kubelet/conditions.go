package kubelet

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kdp-project/kdp/internal/cloud"
)

// reportConditions plays EKS's node monitoring agent on a node whose
// instance has a failed condition (sim.Faults.FailCondition): the Node's
// node monitoring conditions are set, the failed ones False with their
// reasons, the others True, as the agent reports them. A node that has
// never had a failed condition has none of them (a cluster without the
// agent), which spares every node a status write. It writes only what
// differs, so that calling it at every heartbeat costs nothing.
func (k *Controller) reportConditions(ctx context.Context, inst *cloud.Instance, node *corev1.Node) error {
	want := monitoringConditions(inst.FailedConditions, node.Status.Conditions, metav1.NewTime(k.clock.Now()))
	if want == nil {
		return nil
	}
	patched := node.DeepCopy()
	for _, c := range want {
		setCondition(&patched.Status.Conditions, c)
	}
	if err := k.client.Status().Patch(ctx, patched, client.StrategicMergeFrom(node)); err != nil {
		return client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("node monitoring conditions reported", "instance", inst.ID, "node", node.Name, "failed", inst.FailedConditions)
	return nil
}

// monitoringConditions are the node monitoring conditions to write on a
// Node whose conditions are have, given its instance's failed conditions:
// nil if none changes (or none ever failed). A condition keeps
// its transition time unless its status changes.
func monitoringConditions(failed map[string]string, have []corev1.NodeCondition, now metav1.Time) []corev1.NodeCondition {
	current := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range have {
		current[c.Type] = c
	}
	reported := false
	for _, t := range cloud.NodeMonitoringConditions {
		if _, ok := current[corev1.NodeConditionType(t)]; ok {
			reported = true
		}
	}
	if len(failed) == 0 && !reported {
		return nil
	}
	var out []corev1.NodeCondition
	for _, t := range cloud.NodeMonitoringConditions {
		system := strings.TrimSuffix(t, "Ready")
		c := corev1.NodeCondition{
			Type: corev1.NodeConditionType(t), Status: corev1.ConditionTrue,
			Reason: system + "IsReady", Message: fmt.Sprintf("Monitoring for the %s system is active", system),
			LastHeartbeatTime: now, LastTransitionTime: now,
		}
		if reason, ok := failed[t]; ok {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, fmt.Sprintf("%s: the simulated %s fault (kdp sim fail-condition)", reason, system)
		}
		old, ok := current[c.Type]
		if ok && old.Status == c.Status && old.Reason == c.Reason {
			continue
		}
		if ok && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

func setCondition(conditions *[]corev1.NodeCondition, c corev1.NodeCondition) {
	for i := range *conditions {
		if (*conditions)[i].Type == c.Type {
			(*conditions)[i] = c
			return
		}
	}
	*conditions = append(*conditions, c)
}
