package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kdp-project/kdp/internal/timescale"
)

// Timing is how long the simulated cloud and its machines take. It is data:
// a profile, compressed by a time scale.
type Timing struct {
	// Boot is from launch (pending) to running.
	Boot time.Duration
	// MicroVMBoot is Boot for a micro-VM (a Fargate pod's machine).
	MicroVMBoot time.Duration
	// MicroVMJoin is Join for a micro-VM's kubelet.
	MicroVMJoin time.Duration
	// ImagePull is how long a micro-VM's pod takes to pull its images when
	// no pod in its zone pulled them before (a cold start), and
	// ImagePullCached when one did (a warm start): Fargate keeps no images
	// on a node, so every pod pulls, but a zone's registry cache is warm.
	ImagePull, ImagePullCached time.Duration
	// ShutDown is from shutting-down to terminated.
	ShutDown time.Duration
	// Join is from running to the kubelet's Node registered and Ready.
	Join time.Duration
	// PodStart is from a pod bound to a node to Running and Ready.
	PodStart time.Duration
	// Jitter spreads each delay by up to ± this fraction, the same way for
	// the same instance, so a replay behaves the same.
	Jitter float64
	// Heartbeat is how often a kubelet renews its node Lease (10 s, as
	// kubelets do); it is not compressed, so the node controller's grace
	// periods keep their meaning.
	Heartbeat time.Duration
	// Retention is how long a terminated instance stays visible, as on EC2.
	Retention time.Duration
	// SpotNotice is the warning a spot interruption gives: 2 minutes.
	SpotNotice time.Duration
	// CapacityRetry is how long a group waits to launch again after EC2
	// had no capacity for it.
	CapacityRetry time.Duration
	// Events is how long the cloud keeps its events (24 hours).
	Events time.Duration
	// Scale compresses waits that come from requests (lifecycle hook
	// timeouts, a retirement's date, a fault's window).
	Scale timescale.Scale
}

// Profiles are the named timings of --sim-profile.
var Profiles = map[string]Timing{
	// fast: seconds, for development and tests.
	"fast": {Boot: 1 * time.Second, ShutDown: 1 * time.Second, Join: 1 * time.Second, PodStart: 1 * time.Second,
		MicroVMBoot: 200 * time.Millisecond, MicroVMJoin: 200 * time.Millisecond, ImagePull: 400 * time.Millisecond, ImagePullCached: 100 * time.Millisecond,
		Jitter: 0.2, Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute,
		CapacityRetry: 10 * time.Second, Events: 24 * time.Hour},
	// instant: no boot, join, pod start or shut-down delay at all, for
	// benchmarks of what runs the machines (kdp's controllers and the
	// control plane), with every other time (timeouts, notices) as is.
	"instant": {Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute,
		CapacityRetry: 10 * time.Second, Events: 24 * time.Hour},
	// realistic: EC2 and EKS as measured in the field, node Ready in about
	// 1–2 minutes after launch.
	"realistic": {Boot: 40 * time.Second, ShutDown: 30 * time.Second, Join: 45 * time.Second, PodStart: 5 * time.Second,
		// A Fargate pod: Running in 30-60 s cold, 20-30 s warm (AWS
		// publishes no figures; these are what users report).
		MicroVMBoot: 15 * time.Second, MicroVMJoin: 8 * time.Second, ImagePull: 25 * time.Second, ImagePullCached: 4 * time.Second,
		Jitter: 0.3, Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute,
		CapacityRetry: 10 * time.Second, Events: 24 * time.Hour},
}

// Profile returns a named profile compressed by scale.
func Profile(name string, scale timescale.Scale) (Timing, error) {
	t, ok := Profiles[name]
	if !ok {
		names := make([]string, 0, len(Profiles))
		for n := range Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return Timing{}, fmt.Errorf("--sim-profile %q: must be one of %s", name, strings.Join(names, ", "))
	}
	for _, d := range []*time.Duration{&t.Boot, &t.ShutDown, &t.Join, &t.PodStart, &t.MicroVMBoot, &t.MicroVMJoin, &t.ImagePull, &t.ImagePullCached, &t.Retention, &t.SpotNotice, &t.CapacityRetry, &t.Events} {
		*d = scale.Of(*d)
	}
	// Floors where a compressed wait would cost more than it shows: a
	// group without capacity writes a failed activity at every retry, and
	// a consumer of the events must be able to fall a little behind.
	t.CapacityRetry = max(t.CapacityRetry, 100*time.Millisecond)
	t.Events = max(t.Events, 10*time.Minute)
	t.Scale = scale
	return t, nil
}

// Jittered spreads d by the timing's jitter, the same way for key.
func (t Timing) Jittered(d time.Duration, key string) time.Duration {
	return timescale.Jitter(d, t.Jitter, key)
}
