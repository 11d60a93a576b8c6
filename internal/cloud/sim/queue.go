package sim

import (
	"container/heap"
	"time"
)

// The cloud's timed work is one queue of wake-ups, ordered by time and,
// within a time, by when they were queued. A wake-up says only "look at this
// record at this time": what is due is read from the record, so a stale or
// repeated wake-up does nothing, and the queue itself need not be stored (a
// restart queues each record's next deadline again).

type wakeKind uint8

const (
	wakeInstance wakeKind = iota
	wakeGroup
	wakeScenario
	wakeHousekeeping
)

type wake struct {
	at   time.Time
	seq  uint64
	kind wakeKind
	key  string
}

type wakeQueue struct {
	items wakeHeap
	seq   uint64
	// next is the earliest wake-up queued for each record, so that a
	// record is not queued twice for the same time.
	next map[wakeKey]time.Time
}

type wakeKey struct {
	kind wakeKind
	key  string
}

// add queues a wake-up, unless one for the record is queued at or before at.
func (q *wakeQueue) add(kind wakeKind, key string, at time.Time) {
	k := wakeKey{kind, key}
	if t, ok := q.next[k]; ok && !t.After(at) {
		return
	}
	if q.next == nil {
		q.next = map[wakeKey]time.Time{}
	}
	q.next[k] = at
	q.seq++
	heap.Push(&q.items, wake{at: at, seq: q.seq, kind: kind, key: key})
}

// peek returns the time of the earliest wake-up.
func (q *wakeQueue) peek() (time.Time, bool) {
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.items[0].at, true
}

// pop takes the earliest wake-up if it is due by until.
func (q *wakeQueue) pop(until time.Time) (wake, bool) {
	if len(q.items) == 0 || q.items[0].at.After(until) {
		return wake{}, false
	}
	w := heap.Pop(&q.items).(wake)
	k := wakeKey{w.kind, w.key}
	if t, ok := q.next[k]; ok && t.Equal(w.at) {
		delete(q.next, k)
	}
	return w, true
}

type wakeHeap []wake

func (h wakeHeap) Len() int { return len(h) }
func (h wakeHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h wakeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)   { *h = append(*h, x.(wake)) }
func (h *wakeHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}
