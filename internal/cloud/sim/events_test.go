package sim

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
)

func TestBrokerDeliversInOrderWithStableIDs(t *testing.T) {
	b := NewBroker("us-east-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, fast := b.Subscribe(ctx), b.Subscribe(ctx)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"i-1", "i-2", "i-3"} {
		b.Publish(cloud.SourceEC2, cloud.DetailSpotInterruption, id, at.Add(time.Duration(i)*time.Second),
			[]string{b.InstanceARN(id)}, cloud.SpotInterruptionDetail{InstanceID: id, InstanceAction: "terminate"})
	}
	var first cloud.Event
	for i, want := range []string{"i-1", "i-2", "i-3"} {
		e := <-fast
		var d cloud.SpotInterruptionDetail
		if err := json.Unmarshal(e.Detail, &d); err != nil || d.InstanceID != want {
			t.Fatalf("event %d: %+v (%v)", i, e, err)
		}
		if e.Source != "aws.ec2" || e.DetailType != "EC2 Spot Instance Interruption Warning" || e.Region != "us-east-1" ||
			e.Resources[0] != "arn:aws:ec2:us-east-1:000000000000:instance/"+want || len(e.ID) != 36 {
			t.Errorf("envelope %+v", e)
		}
		if i == 0 {
			first = e
		}
	}
	// The slow subscriber lost nothing while the fast one read.
	if e := <-slow; e.ID != first.ID {
		t.Errorf("slow subscriber's first event %s, want %s", e.ID, first.ID)
	}
	// The same notice again carries the same ID.
	b.Publish(cloud.SourceEC2, cloud.DetailSpotInterruption, "i-1", at, nil, cloud.SpotInterruptionDetail{InstanceID: "i-1"})
	if e := <-fast; e.ID != first.ID {
		t.Errorf("republished notice has ID %s, want %s", e.ID, first.ID)
	}
	cancel()
	if _, open := <-fast; open {
		// drain whatever raced in; the channel must close
		for range fast {
		}
	}
}
