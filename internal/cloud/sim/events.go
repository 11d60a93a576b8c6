package sim

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/store"
)

// Account is the default account id of a simulated cloud (Options.Account).
const Account = "123456789012"

// Events are kept in the store in order of their sequence numbers, written
// in the batch of the change that made them, so each is made once and
// delivered only once it is durable; its id and sequence number never
// change. The newest are also kept in memory for subscribers that keep up.

// sources gives each detail type its source.
var sources = map[string]string{
	cloud.DetailSpotInterruption:     cloud.SourceEC2,
	cloud.DetailRebalance:            cloud.SourceEC2,
	cloud.DetailStateChange:          cloud.SourceEC2,
	cloud.DetailTerminateAction:      cloud.SourceAutoScaling,
	cloud.DetailLaunchAction:         cloud.SourceAutoScaling,
	cloud.DetailLaunchSuccessful:     cloud.SourceAutoScaling,
	cloud.DetailLaunchUnsuccessful:   cloud.SourceAutoScaling,
	cloud.DetailTerminateSuccessful:  cloud.SourceAutoScaling,
	cloud.DetailScheduledMaintenance: cloud.SourceHealth,
	cloud.DetailKubeletFailed:        cloud.SourceSimulation,
	cloud.DetailConditionFailed:      cloud.SourceSimulation,
}

// emit makes an event at the transaction's time.
func (tx *txn) emit(cluster, detailType string, resources []string, detail any) {
	m := &tx.c.st.meta
	m.Sequence++
	tx.putMeta()
	se := storedEvent{
		Seq: m.Sequence, ID: formatUUID(seeded(m.Seed, "event", m.Sequence)), Cluster: cluster,
		DetailType: detailType, Time: tx.now.UTC(), Resources: resources, Detail: mustJSON(detail),
	}
	tx.stored = append(tx.stored, se)
	tx.events = append(tx.events, logged{tx.c.envelope(se), cluster})
	tx.c.metrics.events.WithLabelValues(detailType).Inc()
}

// envelope is a stored event as EventBridge delivers it.
func (c *Cloud) envelope(se storedEvent) cloud.Event {
	return cloud.Event{
		Sequence: se.Seq, Version: "0", ID: se.ID, DetailType: se.DetailType, Source: sources[se.DetailType],
		Account: c.account, Time: se.Time, Region: c.opts.Region, Resources: se.Resources, Detail: se.Detail,
	}
}

// instanceARN is an instance's ARN, as EC2's events name it.
func (c *Cloud) instanceARN(id string) string {
	return "arn:aws:ec2:" + c.opts.Region + ":" + c.account + ":instance/" + id
}

// groupARN is a group's ARN.
func (c *Cloud) groupARN(name string) string {
	return "arn:aws:autoscaling:" + c.opts.Region + ":" + c.account + ":autoScalingGroup:*:autoScalingGroupName/" + name
}

// logged is an event with the cluster it concerns ("" for none).
type logged struct {
	cloud.Event
	cluster string
}

// eventLog is what subscribers read: the newest events in memory, the
// older ones from the store, and a channel closed when more come.
type eventLog struct {
	mu     sync.Mutex
	tail   []logged
	oldest uint64 // the oldest event in the store (0: none)
	newest uint64
	more   chan struct{}
}

// tailSize is how many of the newest events stay in memory.
const tailSize = 4096

func (l *eventLog) load(s *store.Store, newest uint64) error {
	l.more = make(chan struct{})
	l.newest = newest
	return s.Range(bucketEvents, nil, func(k, _ []byte) bool {
		l.oldest = store.KeyUint64(k)
		return false
	})
}

// append adds events made in a batch that is now on disk.
func (l *eventLog) append(events []logged) {
	if len(events) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, events...)
	if n := len(l.tail) - tailSize; n > 0 {
		l.tail = append(l.tail[:0:0], l.tail[n:]...)
	}
	if l.oldest == 0 {
		l.oldest = events[0].Sequence
	}
	l.newest = events[len(events)-1].Sequence
	close(l.more)
	l.more = make(chan struct{})
}

// LatestEvent is the sequence number of the newest event (0: none yet).
func (c *Cloud) LatestEvent() uint64 {
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	return c.events.newest
}

// pruned records that the events before oldest were removed.
func (l *eventLog) pruned(oldest uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.oldest = oldest
}

// eventsAfter returns up to max events after seq (in memory, or else from
// the store), the channel that is closed when more come, and an
// EventsExpiredError if events after seq are no longer kept.
func (c *Cloud) eventsAfter(seq uint64, max int) ([]logged, <-chan struct{}, error) {
	l := &c.events
	l.mu.Lock()
	more, oldest, newest := l.more, l.oldest, l.newest
	if seq >= newest {
		l.mu.Unlock()
		return nil, more, nil
	}
	if oldest > 0 && seq+1 < oldest {
		l.mu.Unlock()
		return nil, more, &cloud.EventsExpiredError{Since: seq, Oldest: oldest}
	}
	if len(l.tail) > 0 && l.tail[0].Sequence <= seq+1 {
		i := int(seq + 1 - l.tail[0].Sequence)
		out := append([]logged(nil), l.tail[i:min(i+max, len(l.tail))]...)
		l.mu.Unlock()
		return out, more, nil
	}
	l.mu.Unlock()
	var out []logged
	err := c.store.Range(bucketEvents, store.Uint64Key(seq+1), func(_, v []byte) bool {
		var se storedEvent
		if json.Unmarshal(v, &se) != nil {
			return false
		}
		out = append(out, logged{c.envelope(se), se.Cluster})
		return len(out) < max
	})
	if err == nil && (len(out) == 0 || out[0].Sequence != seq+1) {
		// Pruned since the check above.
		c.events.mu.Lock()
		oldest = c.events.oldest
		c.events.mu.Unlock()
		return nil, more, &cloud.EventsExpiredError{Since: seq, Oldest: oldest}
	}
	return out, more, err
}

// subscribe delivers the events after since that keep says to, until ctx
// ends or the subscriber falls behind what is kept.
func (c *Cloud) subscribe(ctx context.Context, since uint64, keep func(logged) bool) (<-chan cloud.Event, error) {
	if c.Err() != nil || c.isStopped() {
		return nil, ErrStopped
	}
	c.events.mu.Lock()
	oldest, newest := c.events.oldest, c.events.newest
	c.events.mu.Unlock()
	switch {
	case since == cloud.FromNow:
		since = newest
	case since == 0 && oldest > 0:
		since = oldest - 1 // from the oldest kept
	case since > newest:
		return nil, cloud.Invalid("since", "the newest event is %d: %d is not a cursor this cloud gave", newest, since)
	}
	if _, _, err := c.eventsAfter(since, 1); err != nil {
		return nil, err
	}
	out := make(chan cloud.Event)
	go func() {
		defer close(out)
		cursor := since
		for {
			batch, more, err := c.eventsAfter(cursor, 256)
			if err != nil {
				return // fell behind: subscribing again says so
			}
			for _, e := range batch {
				cursor = e.Sequence
				if !keep(e) {
					continue
				}
				select {
				case out <- e.Event:
				case <-ctx.Done():
					return
				}
			}
			if len(batch) > 0 {
				continue
			}
			select {
			case <-more:
			case <-ctx.Done():
				return
			case <-c.stopped:
				return
			}
		}
	}()
	return out, nil
}

// pruneEvents removes the events older than the timing's retention.
func (c *Cloud) pruneEvents(tx *txn) {
	cutoff := tx.now.Add(-c.timing.Events)
	c.events.mu.Lock()
	oldest := c.events.oldest
	c.events.mu.Unlock()
	if oldest == 0 {
		return
	}
	var drop []uint64
	_ = c.store.Range(bucketEvents, store.Uint64Key(oldest), func(k, v []byte) bool {
		var se storedEvent
		if json.Unmarshal(v, &se) != nil || !se.Time.Before(cutoff) {
			return false
		}
		drop = append(drop, se.Seq)
		return true
	})
	if len(drop) == 0 {
		return
	}
	tx.dropEvents = append(tx.dropEvents, drop...)
}

// housekeepingEvery is how often old events and launch records are pruned.
const housekeepingEvery = time.Minute

// housekeeping prunes old events and the launch records past their time,
// and queues itself again.
func (c *Cloud) housekeeping(tx *txn) {
	c.pruneEvents(tx)
	for _, id := range sortedKeys(c.st.launches) {
		if l := c.st.launches[id]; !tx.now.Before(l.Forget) {
			delete(c.st.launches, id)
			tx.del(bucketLaunches, id)
		}
	}
	c.queue.add(wakeHousekeeping, "", tx.now.Add(housekeepingEvery))
}
