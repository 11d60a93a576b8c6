package sim

import (
	"strings"
	"testing"
	"time"
)

// TestLaunchOrderIsLaunchKeys: sorting compares what page tokens name, so
// a page starts where the last one ended.
func TestLaunchOrderIsLaunchKeys(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	is := []*instance{
		{ID: "i-0b", LaunchTime: t0},
		{ID: "i-0a", LaunchTime: t0},
		{ID: "i-00", LaunchTime: t0.Add(time.Nanosecond)},
		{ID: "i-ff", LaunchTime: t0.Add(-time.Hour)},
		{ID: "i-1", LaunchTime: time.Unix(9, 0)}, // fewer digits
		{ID: "i-2", LaunchTime: time.Unix(10, 0)},
	}
	for _, a := range is {
		for _, b := range is {
			if got, want := launchOrder(a, b), strings.Compare(launchKey(a), launchKey(b)); got != want {
				t.Errorf("launchOrder(%s@%v, %s@%v) = %d, launchKey order %d", a.ID, a.LaunchTime, b.ID, b.LaunchTime, got, want)
			}
		}
	}
}
