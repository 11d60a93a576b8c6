package resources

import (
	"time"

	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/timescale"
)

// EKS's waits for a node group, exact by default and compressed by
// --time-scale (Env.Scale).
const (
	// JoinTimeout is how long an instance has to become a Ready node
	// before the group reports NodeCreationFailure.
	JoinTimeout = 15 * time.Minute
	// CreateTimeout is how long a new group has to get its desired nodes
	// Ready before it is CREATE_FAILED.
	CreateTimeout = 15 * time.Minute
	// HookTimeout is the heartbeat timeout of the group's termination hook:
	// how long a node's drain may hold its instance (observed on EKS).
	HookTimeout = 30 * time.Minute
	// TerminateHook is the name of that hook, as on EKS.
	TerminateHook = "Terminate-LC-Hook"
	// EvictionTimeout is how long a version update waits for a node's pods
	// to leave before it fails with PodEvictionFailure (or, forced, goes
	// on without them).
	EvictionTimeout = 15 * time.Minute
	// AfterDrain is how long a version update waits after a node is empty
	// (and cordoned) before it terminates the node's instance.
	AfterDrain = 60 * time.Second
)

// Leaving reports whether an instance is on its way out of its group.
func Leaving(i cloud.Instance) bool {
	switch i.LifecycleState {
	case cloud.LifecycleTerminating, cloud.LifecycleTerminatingWait, cloud.LifecycleTerminated:
		return true
	}
	return i.State == cloud.StateShuttingDown || i.State == cloud.StateTerminated
}

// Env is what the node group controllers share of kdp's configuration.
type Env struct {
	// Cluster is the cluster's name, as node groups' ARNs and tags name it.
	Cluster string
	// Account is the cloud's account and region.
	Account cloud.Account
	// Join is where the nodes of a group join: the API server, its CA and
	// the service CIDR (labels and taints are the group's).
	Join  join.Options
	Clock clock.Clock
	Scale timescale.Scale
}

// Wait is one of EKS's waits as kdp runs it (compressed by the scale).
func (e Env) Wait(d time.Duration) time.Duration { return e.Scale.Of(d) }
