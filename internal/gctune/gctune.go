// Package gctune sets the Go garbage collector's target for the kdp
// process, whose heap spans two orders of magnitude: ~100 MiB live for an
// idle cluster, ~1 GiB for a thousand nodes running ten thousand pods.
//
// One GOGC does not suit both ends. The default (100) keeps an idle kdp
// small, but while hundreds of nodes join, the collector takes an eighth of
// the CPU, and every API request waits for it (kube-controller-manager's
// five CSR workers, which pace the joins, most of all). So the target
// follows the live heap: the default while the heap is small; twice the
// live heap (GOGC 200) once it has grown past SmallHeap, as long as the
// heap's goal stays within Budget; back towards the default as the live
// heap nears Budget, so a large cluster's footprint stays where the
// default would keep it. (A mid-size cluster, idle or not, keeps the
// raised target: its heap, not its load, decides.)
//
// A GOGC environment variable is the user's choice: Run then does nothing.
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/go-logr/logr"
)

const (
	// SmallHeap is the live heap below which the default target holds.
	SmallHeap = 128 << 20
	// Budget bounds the heap's goal (live heap × (1 + GOGC/100)).
	Budget = 2 << 30
	// Default is Go's default GOGC; Max the most Percent gives.
	Default, Max = 100, 200
)

// Percent is the GOGC for a live heap of live bytes.
func Percent(live uint64) int {
	if live < SmallHeap || live >= Budget/2 {
		return Default
	}
	p := int(100 * (Budget - live) / live)
	return min(max(p, Default), Max)
}

// next is the GOGC for a live heap of live bytes when current is set:
// Percent, except that once raised it stays until the live heap is a
// quarter below SmallHeap, so a heap near the threshold does not flip it
// every second.
func next(current int, live uint64) int {
	if current > Default && live < SmallHeap && live >= SmallHeap/4*3 {
		return current
	}
	return Percent(live)
}

const liveHeap = "/gc/heap/live:bytes"

// Run adjusts GOGC every interval until ctx ends, unless the GOGC
// environment variable is set; it restores the default when it stops.
func Run(ctx context.Context, interval time.Duration, log logr.Logger) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	sample := []metrics.Sample{{Name: liveHeap}}
	current := Default
	defer debug.SetGCPercent(Default)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // not this Go's metric: leave the default
		}
		live := sample[0].Value.Uint64()
		if p := next(current, live); p != current {
			debug.SetGCPercent(p)
			log.V(1).Info("garbage collector target", "gogc", p, "liveHeapMiB", live>>20)
			current = p
		}
	}
}
