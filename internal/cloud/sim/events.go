package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

// Account is the account id in the simulated cloud's ARNs and events.
const Account = "000000000000"

// Broker fans the simulated cloud's events out to subscribers. Each
// subscriber has its own unbounded queue, so a slow one never blocks the
// controllers that publish, nor loses events while it is subscribed.
type Broker struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	region string
}

type subscriber struct {
	mu     sync.Mutex
	queue  []cloud.Event
	notify chan struct{}
}

// NewBroker returns a broker for a region's events.
func NewBroker(region string) *Broker {
	return &Broker{subs: map[*subscriber]struct{}{}, region: region}
}

// Subscribe delivers every event published from now until ctx ends.
func (b *Broker) Subscribe(ctx context.Context) <-chan cloud.Event {
	s := &subscriber{notify: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	out := make(chan cloud.Event)
	go func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		for {
			s.mu.Lock()
			var next *cloud.Event
			if len(s.queue) > 0 {
				next = &s.queue[0]
				s.queue = s.queue[1:]
			}
			s.mu.Unlock()
			if next == nil {
				select {
				case <-s.notify:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- *next:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Publish sends an event to every subscriber. The event's ID is derived
// from key, so the same notice published twice (after a restart) carries
// the same ID.
func (b *Broker) Publish(source, detailType, key string, at time.Time, resources []string, detail any) {
	raw, err := json.Marshal(detail)
	if err != nil {
		panic(fmt.Sprintf("event detail: %v", err)) // our own types: cannot fail
	}
	h := sha256.Sum256([]byte(detailType + "/" + key))
	id := hex.EncodeToString(h[:16])
	e := cloud.Event{
		Version: "0", ID: id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:],
		DetailType: detailType, Source: source, Account: Account, Time: at.UTC(), Region: b.region,
		Resources: resources, Detail: raw,
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.mu.Lock()
		s.queue = append(s.queue, e)
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// InstanceARN is an instance's ARN, as EC2's events name it.
func (b *Broker) InstanceARN(id string) string {
	return "arn:aws:ec2:" + b.region + ":" + Account + ":instance/" + id
}

// GroupARN is a group's ARN.
func (b *Broker) GroupARN(name string) string {
	return "arn:aws:autoscaling:" + b.region + ":" + Account + ":autoScalingGroup:*:autoScalingGroupName/" + name
}
