package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
)

// observation is what the controller saw of a created group.
type observation struct {
	now, created time.Time
	// group is the Auto Scaling group, nil if it is gone.
	group      *cloud.Group
	members    []resources.Member
	activities []cloud.Activity
	// prior is the status before; updating says an update is in progress.
	prior    eksv1.Status
	updating bool
	// joinTimeout and createTimeout are EKS's waits, as kdp runs them.
	joinTimeout, createTimeout time.Duration
}

// verdict is what the observation means.
type verdict struct {
	status eksv1.Status
	issues []eksv1.Issue
	nodes  eksv1.NodeCounts
	// desired is how many nodes the group should have Ready.
	desired int32
	// next is when something is due (a join or the creation times out).
	next time.Time
}

// judge computes a created group's status from what was observed: ACTIVE
// once its desired nodes are Ready, CREATE_FAILED if a new group has not
// got there within the creation timeout (EKS's status: a group that failed
// to create stays failed), DEGRADED while a group that was ACTIVE has
// health issues, UPDATING while an update runs.
func judge(o observation) verdict {
	var v verdict
	if o.group == nil {
		v.issues = []eksv1.Issue{{Code: eksv1.IssueAutoScalingGroupNotFound, Message: "The node group's Auto Scaling group is gone: it was deleted outside kdp."}}
		v.status = eksv1.StatusDegraded
		if o.prior == eksv1.StatusCreating || o.prior == "" || o.prior == eksv1.StatusCreateFailed {
			v.status = eksv1.StatusCreateFailed
		}
		return v
	}
	v.desired = o.group.DesiredCapacity
	var late []string
	for _, m := range o.members {
		i := m.Instance
		if i.State == cloud.StateShuttingDown || i.LifecycleState == cloud.LifecycleTerminating || i.LifecycleState == cloud.LifecycleTerminatingWait {
			continue // on its way out: not one of the desired
		}
		v.nodes.Instances++
		if m.Node != nil {
			v.nodes.Total++
			if resources.Ready(m.Node) {
				v.nodes.Ready++
				continue
			}
		}
		if m.Node == nil && i.State == cloud.StateRunning {
			if due := i.LaunchTime.Add(o.joinTimeout); !o.now.Before(due) {
				late = append(late, i.ID)
			} else {
				v.next = earliest(v.next, due)
			}
		}
	}
	slices.Sort(late)
	if len(late) > 0 {
		v.issues = append(v.issues, eksv1.Issue{
			Code:        eksv1.IssueNodeCreationFailure,
			Message:     fmt.Sprintf("Instances failed to join the kubernetes cluster: %d did not become Ready nodes within %s.", len(late), o.joinTimeout),
			ResourceIDs: late,
		})
	}
	if v.nodes.Instances < v.desired {
		v.issues = append(v.issues, launchIssues(o.activities, o.group.Name)...)
	}
	ready := v.nodes.Ready >= v.desired
	switch {
	case o.prior == eksv1.StatusCreateFailed:
		v.status = eksv1.StatusCreateFailed
	case o.updating:
		v.status = eksv1.StatusUpdating
	case o.prior == eksv1.StatusCreating || o.prior == "":
		deadline := o.created.Add(o.createTimeout)
		switch {
		case ready:
			v.status = eksv1.StatusActive
		case !o.now.Before(deadline):
			v.status = eksv1.StatusCreateFailed
			if len(v.issues) == 0 {
				v.issues = []eksv1.Issue{{Code: eksv1.IssueNodeCreationFailure,
					Message: fmt.Sprintf("%d of %d nodes were Ready within %s.", v.nodes.Ready, v.desired, o.createTimeout)}}
			}
		default:
			v.status = eksv1.StatusCreating
			v.next = earliest(v.next, deadline)
		}
	case len(v.issues) > 0:
		v.status = eksv1.StatusDegraded
	default:
		v.status = eksv1.StatusActive
	}
	return v
}

// launchIssues are the launch failures of a group since its last
// successful launch (activities come newest first), one issue per code.
func launchIssues(activities []cloud.Activity, group string) []eksv1.Issue {
	var out []eksv1.Issue
	for _, a := range activities {
		if !strings.HasPrefix(a.Description, "Launching") {
			continue
		}
		if a.StatusCode != cloud.ActivityFailed {
			break
		}
		message := failure(a)
		code := launchIssue(message)
		if slices.ContainsFunc(out, func(i eksv1.Issue) bool { return i.Code == code }) {
			continue
		}
		out = append(out, eksv1.Issue{Code: code, Message: message, ResourceIDs: []string{group}})
	}
	return out
}

// failure is why a launch failed: its status message, or else what its
// description gives as the status reason (a launch that fails at once may
// say it only there), or else its description.
func failure(a cloud.Activity) string {
	if a.StatusMessage != "" {
		return a.StatusMessage
	}
	if _, reason, ok := strings.Cut(a.Description, "Status Reason: "); ok {
		return reason
	}
	return a.Description
}

// launchIssue is the issue code of a failed launch's status message, as
// EC2 Auto Scaling words them.
func launchIssue(message string) eksv1.IssueCode {
	switch m := strings.ToLower(message); {
	case strings.Contains(m, "not enough free addresses"):
		return eksv1.IssueInsufficientFreeAddresses
	case strings.Contains(m, "launch template") && strings.Contains(m, "does not exist"):
		return eksv1.IssueEc2LaunchTemplateNotFound
	case strings.Contains(m, "instance type") && (strings.Contains(m, "does not exist") || strings.Contains(m, "not supported")):
		return eksv1.IssueEc2InstanceTypeDoesNotExist
	}
	return eksv1.IssueAsgInstanceLaunchFailures
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
