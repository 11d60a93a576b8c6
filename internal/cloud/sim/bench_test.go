package sim

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// BenchmarkCloud launches 10,000 standalone instances through the provider
// and terminates them, from 64 callers at once, on a fake clock: each
// launch and termination is on disk before it is acknowledged (the loop
// writes a batch of them at a time). It reports the operations per second,
// and the size of the store holding 10,000 instance records (and their
// events).
func BenchmarkCloud(b *testing.B) {
	const n, callers = 10000, 64
	ctx := context.Background()
	for b.Loop() {
		h := start(b)
		img := h.image("AL2023_x86_64_STANDARD").ID
		subnets := h.c.Catalog().PrivateSubnets()
		ids := make([]string, n)
		each := func(op func(i int) error) time.Duration {
			var next atomic.Int64
			var wg sync.WaitGroup
			begin := time.Now()
			for range callers {
				wg.Go(func() {
					for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
						if err := op(i); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			return time.Since(begin)
		}
		launch := each(func(i int) error {
			is, err := h.p.RunInstances(ctx, cloud.RunInput{ImageID: img, InstanceType: "m5.large", SubnetID: subnets[i%len(subnets)].ID})
			if err == nil {
				ids[i] = is[0].ID
			}
			return err
		})
		h.step(time.Second) // every instance boots
		size, err := h.c.store.Size()
		if err != nil {
			b.Fatal(err)
		}
		terminate := each(func(i int) error { return h.p.TerminateInstance(ctx, ids[i], false) })
		h.step(time.Second) // and is terminated
		end, err := h.c.store.Size()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(end)/(1<<20), "MiB-store-end")
		b.ReportMetric(float64(n)/launch.Seconds(), "launches/s")
		b.ReportMetric(float64(n)/terminate.Seconds(), "terminations/s")
		b.ReportMetric(float64(2*n)/(launch+terminate).Seconds(), "ops/s")
		b.ReportMetric(float64(size)/(1<<20), "MiB-store-10k-instances")
		h.stop()
	}
}
