package v1alpha1

// Labels EKS puts on a managed node group's nodes (at registration), and
// kdp's own.
const (
	LabelNodegroup                   = "eks.amazonaws.com/nodegroup"
	LabelNodegroupImage              = "eks.amazonaws.com/nodegroup-image"
	LabelCapacityType                = "eks.amazonaws.com/capacityType"
	LabelSourceLaunchTemplateID      = "eks.amazonaws.com/sourceLaunchTemplateId"
	LabelSourceLaunchTemplateVersion = "eks.amazonaws.com/sourceLaunchTemplateVersion"
	// LabelUpdateNodegroup is on a NodeGroupUpdate: its node group's name.
	LabelUpdateNodegroup = "eks.kdp.dev/nodegroup"
	// Finalizer keeps a NodeGroup until its cloud resources are gone.
	Finalizer = "eks.kdp.dev/cloud-resources"
)

// LabelExcludeFromLB is on the old nodes of a version update once their
// replacements are Ready, as EKS puts it there: load balancers stop
// sending them traffic before they are drained.
const LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"
