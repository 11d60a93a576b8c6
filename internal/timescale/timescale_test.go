package timescale

import (
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		scale Scale
		in    time.Duration
		want  time.Duration
	}{
		{Real, 2 * time.Minute, 2 * time.Minute},
		{120, 2 * time.Minute, time.Second},
		{10000, 15 * time.Minute, 90 * time.Millisecond},
	} {
		if got := tc.scale.Of(tc.in); got != tc.want {
			t.Errorf("%g× of %s = %s, want %s", float64(tc.scale), tc.in, got, tc.want)
		}
	}
	for _, bad := range []Scale{0.5, 10001} {
		if bad.Validate() == nil {
			t.Errorf("scale %g accepted", float64(bad))
		}
	}
}

func TestJitter(t *testing.T) {
	if got := Jitter(time.Second, 0, "i-1"); got != time.Second {
		t.Errorf("no jitter: %s", got)
	}
	a, b := Jitter(time.Second, 0.2, "i-1"), Jitter(time.Second, 0.2, "i-1")
	if a != b {
		t.Errorf("the same key jitters differently: %s, %s", a, b)
	}
	spread := map[time.Duration]bool{}
	for _, k := range []string{"i-1", "i-2", "i-3", "i-4"} {
		d := Jitter(time.Second, 0.2, k)
		if d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Errorf("%s: %s outside ±20%%", k, d)
		}
		spread[d] = true
	}
	if len(spread) < 2 {
		t.Error("every key jitters the same")
	}
}
