package admission

import (
	"encoding/json"
	"strings"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// operation is one JSON patch (RFC 6902) operation.
type operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// labelPath is the JSON pointer (RFC 6901) of the profile label: the
// key's `/` is written ~1.
var labelPath = "/metadata/labels/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(eksv1.LabelFargateProfile)

// placement is the patch that places a pod on Fargate through profile,
// the four changes EKS's webhook makes:
//   - the label eks.amazonaws.com/fargate-profile: <profile>;
//   - spec.schedulerName: fargate-scheduler;
//   - spec.priorityClassName: system-node-critical;
//   - spec.priority: 2000001000, that class's value. The Priority
//     admission plugin runs before the webhooks and has already set the
//     priority of the class the pod came with (0 without one); nothing
//     after the webhooks sets it again from the class, so the patch sets
//     both, consistent.
//
// Each is an add: an add of an existing member replaces it (a pinned
// pod's label, the scheduler the API server defaulted), and an add of a
// missing one creates it. A pod without labels has no labels object to
// add a member to (the API server omits an empty one), so hasLabels false
// adds the whole object.
func placement(profile string, hasLabels bool) ([]byte, error) {
	label := operation{Op: "add", Path: labelPath, Value: profile}
	if !hasLabels {
		label = operation{Op: "add", Path: "/metadata/labels", Value: map[string]string{eksv1.LabelFargateProfile: profile}}
	}
	return json.Marshal([4]operation{
		label,
		{Op: "add", Path: "/spec/schedulerName", Value: eksv1.FargateScheduler},
		{Op: "add", Path: "/spec/priorityClassName", Value: eksv1.FargatePriorityClass},
		{Op: "add", Path: "/spec/priority", Value: eksv1.FargatePriority},
	})
}
