// Package cloud is the interface between kdp's controllers and the machines
// they run on: the only door to a cloud. It speaks kdp's own types, never a
// cloud SDK's, so that the simulated cloud (package sim) and a real AWS
// provider are interchangeable. Errors are typed (errors.go) so callers can
// switch on what went wrong; events come in EventBridge's envelope
// (events.go).
//
// A Provider is one cluster's view of an account: what it creates is
// recorded as that cluster's (for EC2, the kubernetes.io/cluster/<name> tag),
// and what it lists is that cluster's. Names of launch templates and groups
// are unique in the account, as on AWS.
package cloud

import "context"

// Provider is a cloud with EC2- and Auto Scaling-like resources.
type Provider interface {
	Catalog
	LaunchTemplates
	Groups
	Instances
	Events
}

// Catalog is what the region offers.
type Catalog interface {
	// Account says which account and region the provider acts in: what
	// the ARNs of resources built on it name.
	Account(ctx context.Context) (Account, error)
	// InstanceTypes lists the instance types on offer, with prices, in a
	// stable order (by family, then size).
	InstanceTypes(ctx context.Context) ([]InstanceType, error)
	// Images lists the node images on offer, newest release first.
	Images(ctx context.Context) ([]Image, error)
	// Subnets lists the subnets instances can launch in, by zone.
	Subnets(ctx context.Context) ([]Subnet, error)
}

// LaunchTemplates are EC2 launch templates: numbered, immutable versions of
// what an instance is launched with.
type LaunchTemplates interface {
	// CreateLaunchTemplate creates a template with its version 1. Bad input
	// fails with an InvalidParameterError listing every problem, a name in
	// use with AlreadyExistsError; nothing is created then.
	CreateLaunchTemplate(ctx context.Context, in LaunchTemplateInput) (*LaunchTemplate, error)
	// GetLaunchTemplate returns a template, by id or name, or NotFoundError.
	GetLaunchTemplate(ctx context.Context, ref TemplateRef) (*LaunchTemplate, error)
	// ListLaunchTemplates lists templates by name, a page at a time.
	ListLaunchTemplates(ctx context.Context, page Page) ([]LaunchTemplate, string, error)
	// CreateLaunchTemplateVersion adds the next version to a template and
	// returns it. Empty fields of in are copied from the version in.SourceVersion
	// names ($Default when empty), as EC2 does with a source version.
	CreateLaunchTemplateVersion(ctx context.Context, ref TemplateRef, in LaunchTemplateVersionInput) (*LaunchTemplateVersion, error)
	// DeleteLaunchTemplate deletes a template. Instances launched from it
	// keep what they were launched with; a group that uses it fails with
	// ResourceInUseError. A template that is gone is not an error.
	DeleteLaunchTemplate(ctx context.Context, ref TemplateRef) error
}

// Groups are EC2 Auto Scaling groups: each keeps its desired capacity of
// instances running, balanced across its subnets' zones.
type Groups interface {
	// CreateGroup creates a group, which then launches DesiredCapacity
	// instances. Errors as for CreateLaunchTemplate.
	CreateGroup(ctx context.Context, in GroupInput) (*Group, error)
	// GetGroup returns a group, or NotFoundError.
	GetGroup(ctx context.Context, name string) (*Group, error)
	// ListGroups lists groups by name, a page at a time.
	ListGroups(ctx context.Context, page Page) ([]Group, string, error)
	// UpdateGroup changes the fields of in that are set, all at once (min,
	// max and desired are checked together); running instances are not
	// replaced (that is a rolling update's job). It returns the group as
	// changed, or an InvalidParameterError listing every problem, in which
	// case nothing changed.
	UpdateGroup(ctx context.Context, name string, in GroupUpdate) (*Group, error)
	// DeleteGroup deletes a group and terminates its instances (through its
	// terminating lifecycle hooks); the group is gone once they are.
	DeleteGroup(ctx context.Context, name string) error
	// PutLifecycleHook adds a lifecycle hook to a group, or replaces the
	// hook of that name. It holds instances that enter (or leave) the group
	// from then on.
	PutLifecycleHook(ctx context.Context, group string, hook LifecycleHook) error
	// DeleteLifecycleHook removes a hook; instances waiting on it go on, as
	// on EC2: a launch is abandoned, a termination continues. A hook that
	// is gone is not an error.
	DeleteLifecycleHook(ctx context.Context, group, hook string) error
	// SuspendProcesses stops some of the group's processes (ProcessLaunch,
	// ProcessTerminate, ProcessAZRebalance) until ResumeProcesses; an
	// empty list means all of them.
	SuspendProcesses(ctx context.Context, group string, processes []string) error
	// ResumeProcesses resumes suspended processes; empty means all.
	ResumeProcesses(ctx context.Context, group string, processes []string) error
	// ListActivities lists a group's scaling activities (launches and
	// terminations, with their status and cause), newest first, a page at
	// a time: what a group says when asked why it did not launch.
	ListActivities(ctx context.Context, group string, page Page) ([]Activity, string, error)
}

// Instances are EC2 instances, in groups or standalone.
type Instances interface {
	// RunInstances launches Count standalone instances (of no group) from
	// a launch template or an image and type, in one subnet, and returns
	// them pending. It fails as a whole: with InsufficientCapacityError if
	// the zone cannot hold them all, an InvalidParameterError on bad input.
	RunInstances(ctx context.Context, in RunInput) ([]Instance, error)
	// GetInstance returns an instance, or NotFoundError. A terminated
	// instance stays visible for an hour (scaled), as on EC2.
	GetInstance(ctx context.Context, id string) (*Instance, error)
	// ListInstances lists instances in launch order, a page at a time.
	ListInstances(ctx context.Context, filter InstanceFilter, page Page) ([]Instance, string, error)
	// GetUserData returns the user data an instance was launched with.
	GetUserData(ctx context.Context, id string) (string, error)
	// TerminateInstance terminates an instance. For a group's instance,
	// decrementDesired lowers the group's desired capacity with it
	// (refused below the group's min size); otherwise the group launches a
	// replacement. A group's terminating lifecycle hook holds the instance
	// in Terminating:Wait first. An instance already on its way out is
	// not an error.
	TerminateInstance(ctx context.Context, id string, decrementDesired bool) error
	// CompleteLifecycleAction lets an instance waiting on a group's hook go
	// on, with result CONTINUE or ABANDON. It fails with
	// InvalidParameterError if the instance waits on no such hook.
	CompleteLifecycleAction(ctx context.Context, in LifecycleAction) error
	// RecordLifecycleActionHeartbeat restarts the timeout of the hook an
	// instance waits on (the hook's heartbeat timeout from now), as a
	// drain that needs longer does. Errors as for CompleteLifecycleAction.
	RecordLifecycleActionHeartbeat(ctx context.Context, in LifecycleAction) error
	// Launched says whether this cloud launched an instance for this
	// cluster, and when it ended. It remembers launches long after their
	// instances stopped being visible (see the provider's documentation),
	// so that a controller can tell an instance it launched and lost from
	// one it never launched: a Node of the second kind is never touched.
	// It fails with NotFoundError for an instance it has no record of.
	Launched(ctx context.Context, id string) (*Launch, error)
}

// Events are the cloud's notices, in EventBridge's envelope.
type Events interface {
	// Subscribe delivers the events after the cursor since (an Event's
	// Sequence; 0 for the oldest event kept; FromNow for only those to
	// come), in order, until ctx ends. Each event has a stable ID and
	// Sequence: a consumer that keeps its cursor resumes after a restart of
	// either side without losing or duplicating one. Events are kept for
	// a bounded time; a cursor older than that fails with
	// EventsExpiredError, and a consumer that falls behind it while
	// subscribed has its channel closed (subscribing again tells it so).
	Subscribe(ctx context.Context, since uint64) (<-chan Event, error)
}

// FromNow is the cursor of Subscribe for only the events to come.
const FromNow = ^uint64(0)
