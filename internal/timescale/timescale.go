// Package timescale compresses kdp's own waits (spot notices, hook and
// eviction timeouts, simulated boot delays) for tests and demos:
// `kdp up --time-scale N` makes each pass N times faster. The default, 1,
// keeps every wait exact.
package timescale

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Scale is how many times faster kdp's waits pass.
type Scale float64

// Real is the default: every wait as long as EKS's.
const Real Scale = 1

// Of returns d compressed by the scale.
func (s Scale) Of(d time.Duration) time.Duration {
	if s <= 1 {
		return d
	}
	return time.Duration(float64(d) / float64(s))
}

// Validate checks a scale given by a user.
func (s Scale) Validate() error {
	if s < 1 || s > 10000 {
		return fmt.Errorf("--time-scale %g: must be between 1 and 10000", float64(s))
	}
	return nil
}

// Jitter spreads d by up to ± fraction of it, the same way every time for
// the same key (an instance's id, say), so that a replay behaves the same.
func Jitter(d time.Duration, fraction float64, key string) time.Duration {
	if fraction == 0 || d == 0 {
		return d
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	f := float64(h.Sum32())/float64(^uint32(0))*2 - 1 // [-1, 1]
	return time.Duration(float64(d) * (1 + f*fraction))
}
