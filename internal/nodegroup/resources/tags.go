package resources

import (
	"maps"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// Tags kdp puts on a node group's Auto Scaling group (which puts them on
// its instances), as EKS does: the ones Cluster Autoscaler discovers groups
// by (--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,
// k8s.io/cluster-autoscaler/<cluster>) and cost tools group by.
const (
	TagClusterName             = "eks:cluster-name"
	TagNodegroupName           = "eks:nodegroup-name"
	TagClusterAutoscalerEnable = "k8s.io/cluster-autoscaler/enabled"
	// TagNodegroupUID ties the Auto Scaling group to the NodeGroup object
	// that owns it (kdp's own).
	TagNodegroupUID = "eks.kdp.dev/nodegroup-uid"
)

// TagCluster is kubernetes.io/cluster/<cluster>, "owned" on what the
// cluster owns.
func TagCluster(cluster string) string { return "kubernetes.io/cluster/" + cluster }

// TagClusterAutoscalerCluster is k8s.io/cluster-autoscaler/<cluster>.
func TagClusterAutoscalerCluster(cluster string) string {
	return "k8s.io/cluster-autoscaler/" + cluster
}

// GroupTags are the tags of the group's Auto Scaling group: the user's and
// kdp's (kdp's win).
func GroupTags(cluster string, ng *eksv1.NodeGroup, user map[string]string) map[string]string {
	tags := maps.Clone(user)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, map[string]string{
		TagClusterName:                       cluster,
		TagNodegroupName:                     ng.Name,
		TagCluster(cluster):                  "owned",
		TagClusterAutoscalerEnable:           "true",
		TagClusterAutoscalerCluster(cluster): "owned",
		TagNodegroupUID:                      string(ng.UID),
	})
	return tags
}

// Managed reports whether a tag key is one kdp sets itself.
func Managed(cluster, key string) bool {
	switch key {
	case TagClusterName, TagNodegroupName, TagCluster(cluster), TagClusterAutoscalerEnable, TagClusterAutoscalerCluster(cluster), TagNodegroupUID:
		return true
	}
	return false
}
