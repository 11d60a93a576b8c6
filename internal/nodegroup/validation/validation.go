package validation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kubeletapis "k8s.io/kubelet/pkg/apis"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/tags"
)

var (
	namePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	subnetPattern   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgPattern       = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	rolePattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	ltIDPattern     = regexp.MustCompile(`^lt-[0-9a-f]{8,17}$`)
	numberPattern   = regexp.MustCompile(`^[1-9][0-9]*$`)
	versionPattern  = regexp.MustCompile(`^1\.[0-9]{1,3}$`)
	releasePattern  = regexp.MustCompile(`^1\.[0-9]{1,3}\.[0-9]{1,3}-[0-9]{8}$`)
	amiTypes        = sets.New(eksv1.AL2023x86Standard, eksv1.AL2023ARMStandard, eksv1.AL2023x86NVIDIA, eksv1.AL2023ARMNVIDIA, eksv1.Bottlerocketx86, eksv1.BottlerocketARM, eksv1.Bottlerocketx86NVIDIA, eksv1.BottlerocketARMNVIDIA, eksv1.CustomAMI)
	taintEffects    = sets.New(eksv1.NoSchedule, eksv1.NoExecute, eksv1.PreferNoSchedule)
	repairActions   = sets.New("Replace", "Reboot", "NoAction")
	updateStrategys = sets.New("", "DEFAULT", "MINIMAL")
)

// Validate checks a node group (after Default) against every rule EKS
// has for it, with old the group as it was for a change (nil on create),
// and returns every problem, each naming its field.
func Validate(ng, old *eksv1.NodeGroup, f *Facts) field.ErrorList {
	var errs field.ErrorList
	name := field.NewPath("metadata", "name")
	if len(ng.Name) > 63 || !namePattern.MatchString(ng.Name) {
		errs = append(errs, field.Invalid(name, ng.Name, "a node group's name is 1-63 characters, lowercase letters, digits and '-', starting with a letter or digit (EKS's nodegroupName rule, within Kubernetes' rule for names)"))
	}
	if old == nil && f.Nodegroups >= MaxNodegroups {
		errs = append(errs, field.Forbidden(name, fmt.Sprintf("the cluster has %d node groups, EKS's quota per cluster (ResourceLimitExceeded); delete one first", f.Nodegroups)))
	}
	spec := field.NewPath("spec")
	s := &ng.Spec
	errs = append(errs, validateScaling(s.ScalingConfig, spec.Child("scalingConfig"))...)
	errs = append(errs, validateLaunchTemplate(s, f, spec)...)
	errs = append(errs, validateMachines(s, f, spec)...)
	errs = append(errs, validateLabels(s.Labels, spec.Child("labels"))...)
	errs = append(errs, validateTaints(s.Taints, spec.Child("taints"))...)
	errs = append(errs, tags.Validate(s.Tags, spec.Child("tags"))...)
	errs = append(errs, validateUpdateConfig(s.UpdateConfig, spec.Child("updateConfig"))...)
	errs = append(errs, validateRepair(s.NodeRepairConfig, spec.Child("nodeRepairConfig"))...)
	errs = append(errs, validateVersion(s, old, f, spec)...)
	if old != nil {
		errs = append(errs, validateImmutable(s, &old.Spec, spec)...)
	}
	return errs
}

func validateScaling(c *eksv1.ScalingConfig, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c == nil {
		return append(errs, field.Required(p, "give minSize, maxSize and desiredSize"))
	}
	if c.MinSize < 0 || c.MinSize > MaxNodes {
		errs = append(errs, field.Invalid(p.Child("minSize"), c.MinSize, fmt.Sprintf("must be between 0 and %d", MaxNodes)))
	}
	if c.MaxSize < 1 || c.MaxSize > MaxNodes {
		errs = append(errs, field.Invalid(p.Child("maxSize"), c.MaxSize, fmt.Sprintf("must be between 1 and %d, EKS's quota of nodes per managed node group", MaxNodes)))
	}
	if c.DesiredSize < 0 || c.DesiredSize > MaxNodes {
		errs = append(errs, field.Invalid(p.Child("desiredSize"), c.DesiredSize, fmt.Sprintf("must be between 0 and %d, EKS's quota of nodes per managed node group", MaxNodes)))
	}
	if c.MinSize > c.MaxSize {
		errs = append(errs, field.Invalid(p.Child("minSize"), c.MinSize, fmt.Sprintf("minSize (%d) must not be greater than maxSize (%d)", c.MinSize, c.MaxSize)))
	}
	if c.DesiredSize < c.MinSize || c.DesiredSize > c.MaxSize {
		errs = append(errs, field.Invalid(p.Child("desiredSize"), c.DesiredSize, fmt.Sprintf("desiredSize (%d) must be between minSize (%d) and maxSize (%d)", c.DesiredSize, c.MinSize, c.MaxSize)))
	}
	return errs
}

func validateLaunchTemplate(s *eksv1.NodeGroupSpec, f *Facts, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	lt := s.LaunchTemplate
	if lt == nil {
		return nil
	}
	p := spec.Child("launchTemplate")
	switch {
	case (lt.ID == "") == (lt.Name == ""):
		errs = append(errs, field.Invalid(p, lt, "give the launch template's id or its name, one of them"))
	case lt.ID != "" && !ltIDPattern.MatchString(lt.ID):
		errs = append(errs, field.Invalid(p.Child("id"), lt.ID, "must be lt- and 8-17 hexadecimal digits"))
	case lt.Name != "" && (len(lt.Name) < 3 || len(lt.Name) > 128):
		errs = append(errs, field.Invalid(p.Child("name"), lt.Name, "must be 3-128 characters"))
	case lt.Version != "" && !numberPattern.MatchString(lt.Version):
		errs = append(errs, field.Invalid(p.Child("version"), lt.Version, "must be a version number"))
	case f.LaunchTemplateErr != nil:
		errs = append(errs, field.NotFound(p, fmt.Sprintf("%v", f.LaunchTemplateErr)))
	}
	if s.DiskSize != nil {
		errs = append(errs, field.Forbidden(spec.Child("diskSize"), "must not be set with a launchTemplate (set the root volume in the launch template)"))
	}
	if s.RemoteAccess != nil {
		errs = append(errs, field.Forbidden(spec.Child("remoteAccess"), "must not be set with a launchTemplate (set the key pair and security groups in the launch template)"))
	}
	if v := f.LaunchTemplate; v != nil && v.InstanceType != "" && len(s.InstanceTypes) > 0 {
		errs = append(errs, field.Forbidden(spec.Child("instanceTypes"), fmt.Sprintf("the launch template's version %d names instance type %s: give the types here or in the launch template, not both", v.Number, v.InstanceType)))
	}
	return errs
}

// validateMachines checks what the group's instances are: their types,
// image type, subnets, role, disk and remote access.
func validateMachines(s *eksv1.NodeGroupSpec, f *Facts, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := spec.Child("instanceTypes")
	if len(s.InstanceTypes) > MaxInstanceTypes {
		errs = append(errs, field.TooMany(p, len(s.InstanceTypes), MaxInstanceTypes))
	}
	// The types the group launches, each with the field that gives it.
	types, paths := s.InstanceTypes, make([]*field.Path, len(s.InstanceTypes))
	for i := range types {
		paths[i] = p.Index(i)
	}
	if len(types) == 0 && f.LaunchTemplate != nil && f.LaunchTemplate.InstanceType != "" {
		types, paths = []string{f.LaunchTemplate.InstanceType}, []*field.Path{spec.Child("launchTemplate")}
	}
	seen := sets.New[string]()
	arch := architecture(s.AMIType)
	for i, name := range types {
		if seen.Has(name) {
			errs = append(errs, field.Duplicate(paths[i], name))
			continue
		}
		seen.Insert(name)
		t, ok := f.InstanceTypes[name]
		switch {
		case !ok:
			errs = append(errs, field.NotFound(paths[i], name+" (Ec2InstanceTypeDoesNotExist: see kdp sim instance-types)"))
		case arch != "" && t.Architecture != arch:
			errs = append(errs, field.Invalid(paths[i], name, fmt.Sprintf("is %s, but amiType %s is %s: give an AMI type of the instance types' architecture, and types of one architecture", t.Architecture, s.AMIType, arch)))
		}
	}
	if !amiTypes.Has(s.AMIType) && s.AMIType != "" { // "": left out, and no known instance type to default it from (an error of its own)
		errs = append(errs, field.NotSupported(spec.Child("amiType"), s.AMIType, sets.List(amiTypes)))
	}
	custom := f.LaunchTemplate != nil && f.LaunchTemplate.ImageID != ""
	switch {
	case s.AMIType == eksv1.CustomAMI && !custom:
		errs = append(errs, field.Invalid(spec.Child("amiType"), s.AMIType, "CUSTOM needs a launchTemplate whose version names an image"))
	case custom && s.AMIType != eksv1.CustomAMI:
		errs = append(errs, field.Invalid(spec.Child("amiType"), s.AMIType, fmt.Sprintf("the launch template names its own image (%s): leave amiType out (it is CUSTOM)", f.LaunchTemplate.ImageID)))
	case custom:
		if img, ok := f.Image(f.LaunchTemplate.ImageID); !ok {
			errs = append(errs, field.NotFound(spec.Child("launchTemplate"), "image "+f.LaunchTemplate.ImageID+" of the launch template (AmiIdNotFound: see kdp sim images)"))
		} else {
			for i, name := range types {
				if t, ok := f.InstanceTypes[name]; ok && t.Architecture != img.Architecture {
					errs = append(errs, field.Invalid(paths[i], name, fmt.Sprintf("is %s, but the launch template's image %s is %s", t.Architecture, img.ID, img.Architecture)))
				}
			}
		}
	}
	switch s.CapacityType {
	case eksv1.OnDemand, eksv1.Spot:
	default:
		errs = append(errs, field.NotSupported(spec.Child("capacityType"), s.CapacityType, []eksv1.CapacityType{eksv1.OnDemand, eksv1.Spot}))
	}
	p = spec.Child("subnets")
	if len(s.Subnets) == 0 {
		errs = append(errs, field.Required(p, "give at least one subnet"))
	}
	seen = sets.New[string]()
	for i, id := range s.Subnets {
		switch {
		case seen.Has(id):
			errs = append(errs, field.Duplicate(p.Index(i), id))
		case !subnetPattern.MatchString(id):
			errs = append(errs, field.Invalid(p.Index(i), id, "must be subnet- and 8-17 hexadecimal digits"))
		default:
			if _, ok := f.Subnets[id]; !ok {
				errs = append(errs, field.NotFound(p.Index(i), id+" (Ec2SubnetNotFound: see kdp sim subnets)"))
			}
		}
		seen.Insert(id)
	}
	if !rolePattern.MatchString(s.NodeRole) {
		errs = append(errs, field.Invalid(spec.Child("nodeRole"), s.NodeRole, "must be an IAM role's ARN: arn:aws:iam::<12-digit account>:role/<name>"))
	}
	if s.DiskSize != nil && (*s.DiskSize < 1 || *s.DiskSize > 16384) {
		errs = append(errs, field.Invalid(spec.Child("diskSize"), *s.DiskSize, "must be between 1 and 16384 GiB"))
	}
	if r := s.RemoteAccess; r != nil {
		rp := spec.Child("remoteAccess")
		if len(r.EC2SshKey) > 255 {
			errs = append(errs, field.TooLong(rp.Child("ec2SshKey"), r.EC2SshKey, 255))
		}
		for i, sg := range r.SourceSecurityGroups {
			if !sgPattern.MatchString(sg) {
				errs = append(errs, field.Invalid(rp.Child("sourceSecurityGroups").Index(i), sg, "must be sg- and 8-17 hexadecimal digits"))
			}
		}
	}
	return errs
}

// reservedLabel says why a label key is not the user's to give, or "".
func reservedLabel(key string) string {
	ns, _, found := strings.Cut(key, "/")
	if !found {
		ns = ""
	}
	switch {
	case ns == "eks.amazonaws.com" || strings.HasSuffix(ns, ".eks.amazonaws.com"):
		return "eks.amazonaws.com/ labels are EKS's own (kdp sets eks.amazonaws.com/nodegroup, nodegroup-image and capacityType)"
	case ns == "sim.kdp.dev" || ns == "eks.kdp.dev":
		return "labels of " + ns + "/ are kdp's own"
	case (ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") || ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")) && !kubeletapis.IsKubeletLabel(key):
		return "a kubelet may not register with a label of the kubernetes.io or k8s.io namespaces (NodeRestriction) except node.kubernetes.io/, kubelet.kubernetes.io/ and the well-known ones"
	}
	return ""
}

func validateLabels(labels map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(labels) > MaxLabels {
		errs = append(errs, field.TooMany(p, len(labels), MaxLabels))
	}
	for _, k := range sets.List(sets.KeySet(labels)) {
		v, kp := labels[k], p.Key(k)
		if len(k) > 63 {
			errs = append(errs, field.Invalid(kp, k, "a label key must be 1-63 characters (EKS's limit)"))
		}
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(kp, k, msg))
		}
		if why := reservedLabel(k); why != "" {
			errs = append(errs, field.Forbidden(kp, why))
		}
		if v == "" {
			errs = append(errs, field.Invalid(kp, v, "a label value must be 1-63 characters (EKS's limit)"))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(kp, v, msg))
		}
	}
	return errs
}

func validateTaints(taints []eksv1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(taints) > MaxTaints {
		errs = append(errs, field.TooMany(p, len(taints), MaxTaints))
	}
	seen := sets.New[string]()
	for i, t := range taints {
		tp := p.Index(i)
		if len(t.Key) > 63 {
			errs = append(errs, field.TooLong(tp.Child("key"), t.Key, 63))
		}
		for _, msg := range validation.IsQualifiedName(t.Key) {
			errs = append(errs, field.Invalid(tp.Child("key"), t.Key, msg))
		}
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(tp.Child("value"), t.Value, msg))
		}
		if !taintEffects.Has(t.Effect) {
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, sets.List(taintEffects)))
		}
		if id := t.Key + ":" + string(t.Effect); seen.Has(id) {
			errs = append(errs, field.Duplicate(tp, id))
		} else {
			seen.Insert(id)
		}
	}
	return errs
}

func validateUpdateConfig(u *eksv1.UpdateConfig, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if u == nil {
		return nil
	}
	switch {
	case u.MaxUnavailable != nil && u.MaxUnavailablePercentage != nil:
		errs = append(errs, field.Invalid(p, u, "set maxUnavailable or maxUnavailablePercentage, not both"))
	case u.MaxUnavailable == nil && u.MaxUnavailablePercentage == nil:
		errs = append(errs, field.Required(p.Child("maxUnavailable"), "set maxUnavailable or maxUnavailablePercentage"))
	}
	if v := u.MaxUnavailable; v != nil && (*v < 1 || *v > MaxUnavailable) {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), *v, "must be between 1 and 100 nodes"))
	}
	if v := u.MaxUnavailablePercentage; v != nil && (*v < 1 || *v > 100) {
		errs = append(errs, field.Invalid(p.Child("maxUnavailablePercentage"), *v, "must be between 1 and 100 percent"))
	}
	if !updateStrategys.Has(u.UpdateStrategy) {
		errs = append(errs, field.NotSupported(p.Child("updateStrategy"), u.UpdateStrategy, []string{"DEFAULT", "MINIMAL"}))
	}
	return errs
}

func validateRepair(r *eksv1.NodeRepairConfig, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r == nil {
		return nil
	}
	if r.MaxUnhealthyNodeThresholdCount != nil && r.MaxUnhealthyNodeThresholdPercentage != nil {
		errs = append(errs, field.Invalid(p, "maxUnhealthyNodeThreshold", "set maxUnhealthyNodeThresholdCount or maxUnhealthyNodeThresholdPercentage, not both"))
	}
	if r.MaxParallelNodesRepairedCount != nil && r.MaxParallelNodesRepairedPercentage != nil {
		errs = append(errs, field.Invalid(p, "maxParallelNodesRepaired", "set maxParallelNodesRepairedCount or maxParallelNodesRepairedPercentage, not both"))
	}
	for _, c := range []struct {
		name string
		v    *int32
		max  int32
	}{
		{"maxUnhealthyNodeThresholdCount", r.MaxUnhealthyNodeThresholdCount, MaxNodes},
		{"maxUnhealthyNodeThresholdPercentage", r.MaxUnhealthyNodeThresholdPercentage, 100},
		{"maxParallelNodesRepairedCount", r.MaxParallelNodesRepairedCount, MaxNodes},
		{"maxParallelNodesRepairedPercentage", r.MaxParallelNodesRepairedPercentage, 100},
	} {
		if c.v != nil && (*c.v < 1 || *c.v > c.max) {
			errs = append(errs, field.Invalid(p.Child(c.name), *c.v, fmt.Sprintf("must be between 1 and %d", c.max)))
		}
	}
	for i, o := range r.NodeRepairConfigOverrides {
		op := p.Child("nodeRepairConfigOverrides").Index(i)
		if o.NodeMonitoringCondition == "" {
			errs = append(errs, field.Required(op.Child("nodeMonitoringCondition"), "an override needs all four values"))
		}
		if o.NodeUnhealthyReason == "" {
			errs = append(errs, field.Required(op.Child("nodeUnhealthyReason"), "an override needs all four values"))
		}
		if o.MinRepairWaitTimeMins < 1 {
			errs = append(errs, field.Invalid(op.Child("minRepairWaitTimeMins"), o.MinRepairWaitTimeMins, "must be at least 1 minute"))
		}
		if !repairActions.Has(o.RepairAction) {
			errs = append(errs, field.NotSupported(op.Child("repairAction"), o.RepairAction, sets.List(repairActions)))
		}
	}
	return errs
}

func validateVersion(s *eksv1.NodeGroupSpec, old *eksv1.NodeGroup, f *Facts, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	custom := f.LaunchTemplate != nil && f.LaunchTemplate.ImageID != ""
	vp, rp := spec.Child("version"), spec.Child("releaseVersion")
	if !versionPattern.MatchString(s.Version) {
		return append(errs, field.Invalid(vp, s.Version, "must be a Kubernetes minor version, e.g. 1.37"))
	}
	switch {
	case compareMinor(s.Version, f.ClusterVersion) > 0:
		return append(errs, field.Invalid(vp, s.Version, fmt.Sprintf("cannot be greater than the cluster's version, %s", f.ClusterVersion)))
	case old == nil && !custom && compareMinor(s.Version, f.ClusterVersion) < -MaxSkew:
		return append(errs, field.Invalid(vp, s.Version, fmt.Sprintf("a node group's version may be the cluster's, %s, or up to %d minor versions older", f.ClusterVersion, MaxSkew)))
	}
	if old != nil {
		o := &old.Spec
		if s.Version == o.Version && s.ReleaseVersion == o.ReleaseVersion && launchTemplateVersion(s) == launchTemplateVersion(o) {
			return errs // no version update
		}
		// A version update (UpdateNodegroupVersion): never back to what is
		// older than what is in effect.
		was := eksv1.AppliedConfig{Version: o.Version, ReleaseVersion: o.ReleaseVersion}
		if a := old.Status.Applied; a != nil {
			was = *a
		}
		if compareMinor(s.Version, was.Version) < 0 {
			errs = append(errs, field.Invalid(vp, s.Version, fmt.Sprintf("cannot roll back from Kubernetes %s, the node group's version (create a new node group)", was.Version)))
			return errs
		}
		if !custom && s.Version == was.Version && releaseDate(s.ReleaseVersion) < releaseDate(was.ReleaseVersion) {
			errs = append(errs, field.Invalid(rp, s.ReleaseVersion, fmt.Sprintf("cannot roll back from release %s, the node group's (create a new node group)", was.ReleaseVersion)))
			return errs
		}
	}
	switch {
	case custom && s.ReleaseVersion != "":
		errs = append(errs, field.Forbidden(rp, "the launch template names its own image: leave releaseVersion out"))
	case custom, s.AMIType == eksv1.CustomAMI, !amiTypes.Has(s.AMIType):
	case s.ReleaseVersion == "":
		errs = append(errs, field.NotFound(rp, fmt.Sprintf("no %s image for Kubernetes %s (see kdp sim images)", s.AMIType, s.Version)))
	case !releasePattern.MatchString(s.ReleaseVersion):
		errs = append(errs, field.Invalid(rp, s.ReleaseVersion, "must be a release like 1.37.2-20261101"))
	default:
		if _, ok := f.ImageFor(string(s.AMIType), s.Version, s.ReleaseVersion); !ok {
			errs = append(errs, field.NotFound(rp, fmt.Sprintf("%s: no %s image of that release for Kubernetes %s (see kdp sim images)", s.ReleaseVersion, s.AMIType, s.Version)))
		}
	}
	return errs
}

// MaxSkew is how many minor versions older than the cluster a node
// group's nodes may be (the kubelet's supported skew).
const MaxSkew = 3

// compareMinor compares two minor versions (1.37 and 1.9: by number).
func compareMinor(a, b string) int {
	minor := func(v string) int {
		_, m, _ := strings.Cut(v, ".")
		n, _ := strconv.Atoi(m)
		return n
	}
	return minor(a) - minor(b)
}

// releaseDate is the date of a release (20261101 of 1.37.2-20261101).
func releaseDate(release string) string {
	_, date, _ := strings.Cut(release, "-")
	return date
}

func launchTemplateVersion(s *eksv1.NodeGroupSpec) string {
	if s.LaunchTemplate == nil {
		return ""
	}
	return s.LaunchTemplate.Version
}

// validateImmutable refuses changes of what is fixed at create.
func validateImmutable(s, old *eksv1.NodeGroupSpec, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	fixed := func(name string, now, was any) {
		if !apiequality.Semantic.DeepEqual(now, was) {
			errs = append(errs, field.Forbidden(spec.Child(name), "cannot be changed after the node group is created (create a new node group)"))
		}
	}
	fixed("subnets", sets.New(s.Subnets...), sets.New(old.Subnets...))
	fixed("instanceTypes", s.InstanceTypes, old.InstanceTypes)
	fixed("capacityType", s.CapacityType, old.CapacityType)
	fixed("amiType", s.AMIType, old.AMIType)
	fixed("nodeRole", s.NodeRole, old.NodeRole)
	fixed("diskSize", s.DiskSize, old.DiskSize)
	fixed("remoteAccess", s.RemoteAccess, old.RemoteAccess)
	var ltNow, ltWas eksv1.LaunchTemplateSpecification
	if s.LaunchTemplate != nil {
		ltNow = eksv1.LaunchTemplateSpecification{ID: s.LaunchTemplate.ID, Name: s.LaunchTemplate.Name}
	}
	if old.LaunchTemplate != nil {
		ltWas = eksv1.LaunchTemplateSpecification{ID: old.LaunchTemplate.ID, Name: old.LaunchTemplate.Name}
	}
	if ltNow != ltWas {
		errs = append(errs, field.Forbidden(spec.Child("launchTemplate"), "a node group keeps the launch template (id or name) it was created with; only its version can change (a node group created without one can never have one: create a new node group)"))
	}
	return errs
}

// InUse says why a node group cannot be changed now, or "": while it is
// being created, updated or deleted, or has failed, as EKS answers
// UpdateNodegroupConfig with ResourceInUseException.
func InUse(old *eksv1.NodeGroup) string {
	st := old.Status
	switch {
	case !old.DeletionTimestamp.IsZero():
		return fmt.Sprintf("node group %s is being deleted", old.Name)
	case st.ActiveUpdate != "":
		return fmt.Sprintf("node group %s has update %s in progress: change it when that has ended (kubectl get ngu %s)", old.Name, st.ActiveUpdate, st.ActiveUpdate)
	case st.Status == eksv1.StatusActive || st.Status == eksv1.StatusDegraded:
		return ""
	case st.Status == "":
		return fmt.Sprintf("node group %s is %s: change it once it is ACTIVE", old.Name, eksv1.StatusCreating)
	}
	return fmt.Sprintf("node group %s is %s: change it once it is ACTIVE", old.Name, st.Status)
}

// Changes reports whether a change of spec is one an update carries
// (anything but tags, which are the group's resource tags).
func Changes(now, was *eksv1.NodeGroupSpec) bool {
	a, b := now.DeepCopy(), was.DeepCopy()
	a.Tags, b.Tags = nil, nil
	return !apiequality.Semantic.DeepEqual(a, b)
}
