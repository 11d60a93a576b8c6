package sim

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/kdp-project/kdp/internal/timescale"
)

// Timing is how long the simulated cloud and kubelets take. It is data:
// a profile, optionally compressed by a time scale.
type Timing struct {
	// Boot is from launch (pending) to running.
	Boot time.Duration
	// Join is from running to the kubelet's Node registered and Ready.
	Join time.Duration
	// PodStart is from a pod bound to a node to Running and Ready.
	PodStart time.Duration
	// ShutDown is from shutting-down to terminated.
	ShutDown time.Duration
	// Jitter spreads each delay by up to ± this fraction, seeded by the
	// object's name so a replay behaves the same.
	Jitter float64
	// Heartbeat is how often a kubelet renews its node Lease (10 s, as
	// kubelets do); it is not compressed, so the node controller's grace
	// periods keep their meaning.
	Heartbeat time.Duration
	// Retention is how long a terminated instance stays visible, as on EC2.
	Retention time.Duration
	// SpotNotice is the warning a spot interruption gives: 2 minutes.
	SpotNotice time.Duration
	// Scale compresses waits that come from data (lifecycle hook timeouts).
	Scale timescale.Scale
}

// Profiles are the named timings of --sim-profile.
var Profiles = map[string]Timing{
	// fast: seconds, for development and tests.
	"fast": {Boot: 1 * time.Second, Join: 1 * time.Second, PodStart: 1 * time.Second, ShutDown: 1 * time.Second,
		Jitter: 0.2, Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute},
	// realistic: EC2 and EKS as measured in the field, node Ready in about
	// 1–2 minutes after launch.
	"realistic": {Boot: 40 * time.Second, Join: 45 * time.Second, PodStart: 5 * time.Second, ShutDown: 30 * time.Second,
		Jitter: 0.3, Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute},
}

// Profile returns a named profile compressed by scale.
func Profile(name string, scale timescale.Scale) (Timing, error) {
	t, ok := Profiles[name]
	if !ok {
		return Timing{}, fmt.Errorf("--sim-profile %q: must be fast or realistic", name)
	}
	t.Boot, t.Join, t.PodStart, t.ShutDown = scale.Of(t.Boot), scale.Of(t.Join), scale.Of(t.PodStart), scale.Of(t.ShutDown)
	t.Retention, t.SpotNotice = scale.Of(t.Retention), scale.Of(t.SpotNotice)
	t.Scale = scale
	return t, nil
}

// Jittered spreads d by the timing's jitter, deterministically for key.
func (t Timing) Jittered(d time.Duration, key string) time.Duration {
	if t.Jitter == 0 || d == 0 {
		return d
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	f := float64(h.Sum32())/float64(^uint32(0))*2 - 1 // [-1, 1]
	return time.Duration(float64(d) * (1 + f*t.Jitter))
}
