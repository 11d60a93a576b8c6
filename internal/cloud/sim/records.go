package sim

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// The records below are the cloud's state: kept in memory, each written to
// the store (as JSON, one key per record) in the batch of the change that
// made it. Times that something is due at are stored, never derived from
// the clock at read time, so a restart resumes every wait where it was.

// Buckets of the store.
const (
	bucketMeta       = "meta"
	bucketTemplates  = "templates"
	bucketGroups     = "groups"
	bucketInstances  = "instances"
	bucketLaunches   = "launches"
	bucketCapacity   = "capacity"
	bucketActivities = "activities"
	bucketEvents     = "events"
	bucketScenarios  = "scenarios"
)

// meta is the cloud's own bookkeeping.
type meta struct {
	// Seed gives every id the cloud makes (instances, templates,
	// activities, events), so the same seed and the same requests give the
	// same ids.
	Seed uint64 `json:"seed"`
	// IDs counts the ids made so far.
	IDs uint64 `json:"ids"`
	// Sequence is the last event's sequence number, Activities the last
	// activity's.
	Sequence   uint64 `json:"sequence"`
	Activities uint64 `json:"activities"`
	// Addresses is where each subnet's search for a free address goes on
	// from, so that an address is not given again at once.
	Addresses map[string]int `json:"addresses,omitempty"`
	// Region and Zones are the catalogue the cloud was created with; a
	// later start with other ones is refused.
	Region string `json:"region"`
	Zones  int    `json:"zones"`
	// Account is the account id it was created with (empty in clouds
	// created before it had one: Account).
	Account string `json:"account,omitempty"`
}

// template is a launch template.
type template struct {
	ID             string                        `json:"id"`
	Name           string                        `json:"name"`
	Cluster        string                        `json:"cluster"`
	DefaultVersion int64                         `json:"defaultVersion"`
	Tags           map[string]string             `json:"tags,omitempty"`
	Created        time.Time                     `json:"created"`
	Versions       []cloud.LaunchTemplateVersion `json:"versions"`
}

func (t *template) latest() int64 { return t.Versions[len(t.Versions)-1].Number }

func (t *template) toCloud() cloud.LaunchTemplate {
	out := cloud.LaunchTemplate{ID: t.ID, Name: t.Name, DefaultVersion: t.DefaultVersion, LatestVersion: t.latest(),
		Tags: maps.Clone(t.Tags), CreateTime: t.Created, Versions: make([]cloud.LaunchTemplateVersion, len(t.Versions))}
	for i, v := range t.Versions {
		v.InstanceTags = maps.Clone(v.InstanceTags)
		out.Versions[i] = v
	}
	return out
}

// group is an Auto Scaling group.
type group struct {
	// ID tells this group from an earlier one of the same name.
	ID                string                `json:"id"`
	Name              string                `json:"name"`
	Cluster           string                `json:"cluster"`
	Template          cloud.TemplateRef     `json:"template"` // by ID, with the version asked for
	Min               int32                 `json:"min"`
	Max               int32                 `json:"max"`
	Desired           int32                 `json:"desired"`
	InstanceTypes     []string              `json:"instanceTypes,omitempty"`
	CapacityType      string                `json:"capacityType"`
	SubnetIDs         []string              `json:"subnetIds"`
	CapacityRebalance bool                  `json:"capacityRebalance"`
	Tags              map[string]string     `json:"tags,omitempty"`
	Hooks             []cloud.LifecycleHook `json:"hooks,omitempty"`
	Suspended         []string              `json:"suspended,omitempty"`
	Created           time.Time             `json:"created"`
	Deleting          bool                  `json:"deleting,omitempty"`
	// RetryAt is when a launch that failed for capacity is tried again.
	RetryAt *time.Time `json:"retryAt,omitempty"`
	// Rebalancing is the instance launched to even out the zones; once it
	// is in service, one of the most crowded zone goes.
	Rebalancing string      `json:"rebalancing,omitempty"`
	Faults      groupFaults `json:"faults,omitzero"`
}

func (g *group) suspended(process string) bool { return slices.Contains(g.Suspended, process) }

// hookNamed returns the group's hook of that name, if it has one.
func (g *group) hookNamed(name string) (cloud.LifecycleHook, bool) {
	for _, h := range g.Hooks {
		if h.Name == name {
			return h, true
		}
	}
	return cloud.LifecycleHook{}, false
}

func (g *group) hook(transition string) (cloud.LifecycleHook, bool) {
	for _, h := range g.Hooks {
		if h.Transition == transition {
			return h, true
		}
	}
	return cloud.LifecycleHook{}, false
}

// groupFaults are the simulator's faults on a group's launches, each for a
// window of time; EC2 Auto Scaling has no such thing.
type groupFaults struct {
	SlowBoot      *slowBoot      `json:"slowBoot,omitempty"`
	LaunchFailure *launchFailure `json:"launchFailure,omitempty"`
}

// window is when a fault is in effect: for the launches from From until
// Until.
type window struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

func (w window) contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.Until) }

// slowBoot makes the instances launched in its window boot Delay (scaled)
// longer.
type slowBoot struct {
	window
	Delay time.Duration `json:"delay"`
	// Slowed counts the launches it slowed.
	Slowed int `json:"slowed"`
}

// launchFailure makes a fraction of the instances launched in its window
// (of a type, in a zone, if given) fail at launch.
type launchFailure struct {
	window
	InstanceType string  `json:"instanceType,omitempty"`
	Zone         string  `json:"zone,omitempty"`
	Rate         float64 `json:"rate"`
	Seed         uint64  `json:"seed"`
	// Matched counts the launches the window matched, Failed those that
	// failed: the n-th matching launch fails by a draw from Seed and n.
	Matched int `json:"matched"`
	Failed  int `json:"failed"`
}

func (l *launchFailure) matches(instanceType, zone string) bool {
	return (l.InstanceType == "" || l.InstanceType == instanceType) && (l.Zone == "" || l.Zone == zone)
}

// instance is an EC2 instance.
type instance struct {
	ID         string             `json:"id"`
	Cluster    string             `json:"cluster"`
	Group      string             `json:"group,omitempty"`
	GroupID    string             `json:"groupId,omitempty"`
	Type       string             `json:"type"`
	ImageID    string             `json:"imageId"`
	SubnetID   string             `json:"subnetId"`
	Zone       string             `json:"zone"`
	PrivateIP  string             `json:"privateIp"`
	DNSName    string             `json:"dnsName"`
	Lifecycle  string             `json:"lifecycle"`
	Template   *cloud.TemplateRef `json:"template,omitempty"` // ID and the version number launched
	UserData   string             `json:"userData,omitempty"` // when not from a template (or the template is gone)
	Tags       map[string]string  `json:"tags,omitempty"`
	LaunchTime time.Time          `json:"launchTime"`
	// BootAt is when the instance finishes booting; LaunchFailure, if set,
	// is the reason it fails then instead of running (both decided at
	// launch, by the group's faults).
	BootAt        time.Time     `json:"bootAt"`
	BootDelay     time.Duration `json:"bootDelay,omitempty"`
	LaunchFailure string        `json:"launchFailure,omitempty"`
	ClientToken   string        `json:"clientToken,omitempty"`
	// MicroVM is a micro-VM's size.
	MicroVM *cloud.MicroVM `json:"microVm,omitempty"`

	State       string    `json:"state"`
	StateReason string    `json:"stateReason,omitempty"`
	StateTime   time.Time `json:"stateTime"`

	// The instance's place in its group: its lifecycle state, the hook it
	// waits on with the action's token and deadline, and the result
	// someone completed the action with (not yet carried out).
	LifecycleState string     `json:"lifecycleState,omitempty"`
	WaitingOn      string     `json:"waitingOn,omitempty"`
	HookToken      string     `json:"hookToken,omitempty"`
	HookDeadline   *time.Time `json:"hookDeadline,omitempty"`
	HookResult     string     `json:"hookResult,omitempty"`

	SpotInterruptAt *time.Time `json:"spotInterruptAt,omitempty"`
	RebalanceAt     *time.Time `json:"rebalanceAt,omitempty"`
	RetireAt        *time.Time `json:"retireAt,omitempty"`
	KubeletFailed   bool       `json:"kubeletFailed,omitempty"`
	// FailedConditions are the node monitoring conditions its kubelet
	// reports False, with their reasons.
	FailedConditions map[string]string `json:"failedConditions,omitempty"`

	// Termination: when it was asked for, why (the state reason) and the
	// cause its group's activity gives, whether it skips the group's hooks
	// (a spot reclaim, a failed launch), when shutting down ends, and when
	// the terminated record goes.
	TerminateAt    *time.Time `json:"terminateAt,omitempty"`
	TerminateWhy   string     `json:"terminateWhy,omitempty"`
	TerminateCause string     `json:"terminateCause,omitempty"`
	SkipHooks      bool       `json:"skipHooks,omitempty"`
	// Ended is when the instance began shutting down, ShutdownAt when it
	// is done.
	Ended      *time.Time `json:"ended,omitempty"`
	ShutdownAt *time.Time `json:"shutdownAt,omitempty"`
	ExpireAt   *time.Time `json:"expireAt,omitempty"`

	// The group's activities for the instance's launch and termination.
	LaunchActivity    string `json:"launchActivity,omitempty"`
	TerminateActivity string `json:"terminateActivity,omitempty"`
}

// leaving reports whether the instance is on its way out (or gone).
func (i *instance) leaving() bool {
	return i.TerminateAt != nil || i.State == cloud.StateShuttingDown || i.State == cloud.StateTerminated
}

func (i *instance) toCloud() cloud.Instance {
	out := cloud.Instance{
		ID: i.ID, Type: i.Type, Zone: i.Zone, SubnetID: i.SubnetID, PrivateIP: i.PrivateIP, PrivateDNSName: i.DNSName,
		ImageID: i.ImageID, Lifecycle: i.Lifecycle, State: i.State, StateReason: i.StateReason, StateTransitionTime: i.StateTime, Group: i.Group,
		LifecycleState: i.LifecycleState, LaunchTime: i.LaunchTime, Tags: maps.Clone(i.Tags),
		SpotInterruptionTime: i.SpotInterruptAt, RebalanceRecommended: i.RebalanceAt, RetirementTime: i.RetireAt,
		KubeletFailed: i.KubeletFailed, FailedConditions: maps.Clone(i.FailedConditions),
	}
	if i.MicroVM != nil {
		size := *i.MicroVM
		out.MicroVM = &size
	}
	if i.Template != nil {
		ref := *i.Template
		out.LaunchTemplate = &ref
	}
	return out
}

// launch is the record of a launch, kept after its instance's record went
// (see Options.LaunchRetention), so that a Node kdp launched and lost can be
// told from one it never launched.
type launch struct {
	ID      string     `json:"id"`
	Cluster string     `json:"cluster"`
	Group   string     `json:"group,omitempty"`
	DNSName string     `json:"dnsName"`
	Launch  time.Time  `json:"launchTime"`
	Ended   *time.Time `json:"ended,omitempty"`
	// Forget is when the record goes.
	Forget time.Time `json:"forget"`
}

// activity is a group's scaling activity.
type activity struct {
	cloud.Activity
	Cluster string `json:"cluster"`
	// Seq orders a group's activities (the store's key).
	Seq uint64 `json:"seq"`
}

// storedEvent is an event as kept: the envelope's constant fields
// (version, account, region, and the source, which the detail type gives)
// are added back when it is read.
type storedEvent struct {
	Seq        uint64          `json:"s"`
	ID         string          `json:"i"`
	Cluster    string          `json:"c,omitempty"`
	DetailType string          `json:"t"`
	Time       time.Time       `json:"at"`
	Resources  []string        `json:"r"`
	Detail     json.RawMessage `json:"d"`
}
