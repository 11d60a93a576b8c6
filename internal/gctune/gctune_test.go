package gctune

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

func TestPercent(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"idle cluster", 100 * MiB, 100},
		{"just below the small heap", SmallHeap - 1, 100},
		{"past the small heap", SmallHeap, 200},
		{"hundreds of nodes joining", 400 * MiB, 200},
		{"goal reaches the budget", Budget / 3, 200},
		{"goal capped by the budget", 800 * MiB, 156},
		{"half the budget live", Budget / 2, 100},
		{"beyond the budget", 3 * Budget, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percent(tc.live); got != tc.want {
				t.Errorf("Percent(%d MiB) = %d, want %d", tc.live/MiB, got, tc.want)
			}
			if goal := tc.live * uint64(100+Percent(tc.live)) / 100; tc.live >= SmallHeap && tc.live < Budget/2 && goal > Budget+MiB {
				t.Errorf("goal %d MiB exceeds the budget", goal/MiB)
			}
		})
	}
}

func TestNextHoldsNearTheThreshold(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		name    string
		current int
		live    uint64
		want    int
	}{
		{"raised, just below the small heap: held", 200, SmallHeap - MiB, 200},
		{"raised, a quarter below: back to the default", 200, SmallHeap/4*3 - MiB, 100},
		{"default, just below: stays", 100, SmallHeap - MiB, 100},
		{"default, past the small heap: raised", 100, SmallHeap, 200},
		{"raised, near the budget: follows the budget", 200, 800 * MiB, 156},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := next(tc.current, tc.live); got != tc.want {
				t.Errorf("next(%d, %d MiB) = %d, want %d", tc.current, tc.live/MiB, got, tc.want)
			}
		})
	}
}

func TestRunLeavesAUsersGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "300")
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(context.Background(), time.Millisecond, logr.Discard()) // would run until the context ends
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run tuned the collector although GOGC is set")
	}
}

func TestRunRestoresTheDefaultWhenDone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	debug.SetGCPercent(Max) // as if raised
	Run(ctx, time.Millisecond, logr.Discard())
	if p := debug.SetGCPercent(Default); p != Default {
		t.Errorf("GOGC %d after Run, want the default %d", p, Default)
	}
}
