package sim

import (
	"fmt"

	"github.com/kdp-project/kdp/internal/cloud"
)

// A group's scaling activities say what it did and why: each launch and
// termination, and each launch that failed (no capacity, no such
// template), in EC2 Auto Scaling's words. A group keeps its newest
// maxActivities.
const maxActivities = 1000

// startActivity records a new activity, in progress.
func (c *Cloud) startActivity(tx *txn, g *group, description, cause, instanceID string) *activity {
	c.st.meta.Activities++
	tx.putMeta()
	a := &activity{
		Activity: cloud.Activity{
			ID: tx.uuid(), Group: g.Name, Description: description, Cause: cause, StartTime: tx.now.UTC(),
			StatusCode: cloud.ActivityInProgress, InstanceID: instanceID,
		},
		Cluster: g.Cluster, Seq: c.st.meta.Activities,
	}
	c.addActivity(tx, a)
	return a
}

// failActivity records a launch that failed at once, for reason: EC2
// Auto Scaling's status message, which its description repeats.
func (c *Cloud) failActivity(tx *txn, g *group, reason, cause string) {
	description := "Launching a new EC2 instance.  Status Reason: " + reason + " Launching EC2 instance failed."
	a := c.startActivity(tx, g, description, "At "+stamp(tx.now)+" "+cause+".", "")
	c.finish(tx, a, cloud.ActivityFailed, reason, cloud.DetailLaunchUnsuccessful)
	c.log.Info("launch failed", "group", g.Name, "reason", reason)
}

// endActivity ends the activity of that id, if it is still in progress,
// and publishes its end as detailType (none if empty).
func (c *Cloud) endActivity(tx *txn, id, status, message, detailType string) {
	a := c.st.activityByID[id]
	if a == nil || a.EndTime != nil {
		return
	}
	c.finish(tx, a, status, message, detailType)
}

func (c *Cloud) finish(tx *txn, a *activity, status, message, detailType string) {
	end := tx.now.UTC()
	a.EndTime, a.StatusCode, a.StatusMessage, a.Progress = &end, status, message, 100
	tx.put(bucketActivities, activityKey(a), a)
	if detailType == "" {
		return
	}
	resources := []string{c.groupARN(a.Group)}
	if a.InstanceID != "" {
		resources = append(resources, c.instanceARN(a.InstanceID))
	}
	tx.emit(a.Cluster, detailType, resources, cloud.ActivityDetail{
		StatusCode: a.StatusCode, AutoScalingGroupName: a.Group, ActivityID: a.ID, EC2InstanceID: a.InstanceID,
		Cause: a.Cause, Description: a.Description, StatusMessage: a.StatusMessage,
		StartTime: a.StartTime.Format("2006-01-02T15:04:05.000Z"), EndTime: end.Format("2006-01-02T15:04:05.000Z"),
	})
}

// addActivity keeps a new activity, dropping the group's oldest ended
// ones beyond maxActivities.
func (c *Cloud) addActivity(tx *txn, a *activity) {
	list := append(c.st.activities[a.Group], a)
	for len(list) > maxActivities {
		i := 0
		for i < len(list)-1 && list[i].EndTime == nil {
			i++ // one in progress stays
		}
		old := list[i]
		list = append(list[:i], list[i+1:]...)
		delete(c.st.activityByID, old.ID)
		tx.del(bucketActivities, activityKey(old))
	}
	c.st.activities[a.Group] = list
	c.st.activityByID[a.ID] = a
	tx.put(bucketActivities, activityKey(a), a)
}

// activityKey orders a group's activities in the store.
func activityKey(a *activity) string { return fmt.Sprintf("%s/%020d", a.Group, a.Seq) }
